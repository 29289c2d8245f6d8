"""The training runs of a workspace: ``runs/<env_id>/<stamp>_PPO/`` folders and their ``progress.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vbot_agent.workspace.liveness import Liveness, Verdict, run_liveness

PROGRESS_FILE = "progress.json"
META_FILE = "experiment_meta.json"


@dataclass(frozen=True)
class RunInfo:
    """One run folder and its ``progress.json`` (``progress`` is {} when unreadable, ``error`` says why)."""

    path: Path
    env_folder: str
    name: str
    progress: dict[str, Any]
    error: str | None
    checkpoints: tuple[str, ...]

    @property
    def status(self) -> str:
        return str(self.progress.get("status") or ("unreadable" if self.error else "unknown"))

    def liveness(self, now: float) -> Liveness:
        return run_liveness(self.progress, now)

    def is_live(self, now: float) -> bool:
        """Running, with its trainer alive and its progress fresh (see ``workspace.liveness``)."""
        return self.liveness(now).label == Verdict.ALIVE

    @property
    def fraction(self) -> float | None:
        """Share of ``max_env_steps`` done, in [0, 1]; None when either count is missing."""
        steps, total = self.progress.get("env_steps"), self.progress.get("max_env_steps")
        if isinstance(steps, (int, float)) and isinstance(total, (int, float)) and total > 0:
            return max(0.0, min(1.0, steps / total))
        return None


def read_json_object(path: Path) -> dict[str, Any]:
    """The JSON object in ``path``; ValueError naming the file when it is not one (OSError as raised)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path.name} is not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path.name} is not a JSON object")
    return data


def run_folders(runs_root: Path) -> list[Path]:
    """Every ``runs/<env>/<name>/`` folder, newest name first (names start with their time stamp)."""
    if not runs_root.is_dir():
        return []
    folders = [p for env in runs_root.iterdir() if env.is_dir() for p in env.iterdir() if p.is_dir()]
    return sorted(folders, key=lambda p: p.name, reverse=True)


def checkpoint_names(run_dir: Path) -> tuple[str, ...]:
    folder = run_dir / "checkpoints"
    if not folder.is_dir():
        return ()
    return tuple(sorted(p.name for p in folder.glob("*.pt")))


def read_meta(run_dir: Path) -> dict[str, Any]:
    """``experiment_meta.json`` of a run; raises ValueError/OSError when unreadable."""
    return read_json_object(run_dir / META_FILE)


def progress_files(runs_root: Path) -> list[Path]:
    """The ``progress.json`` of every run folder that has one, newest run first."""
    return [p for p in (f / PROGRESS_FILE for f in run_folders(runs_root)) if p.is_file()]
