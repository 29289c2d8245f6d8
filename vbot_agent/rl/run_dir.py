"""The run folder (docs/design.md, "Trainer"): ``runs/<env>/<YYYY-MM-DD_HH-MM-SS>_PPO/``.

Inside: TensorBoard event files, ``checkpoints/`` (``model_<iter>.pt``, ``best.pt``, ``last.pt``),
``experiment_meta.json``, ``progress.json`` and, when ``eval.final_episodes`` asks for it,
``final_evaluation.json`` (the finished run's last policy, evaluated). ``progress.json`` is rewritten atomically every
iteration so the campaign, the watcher and the TUI can read it cheaply at any moment.

Where: ``<workspace>/runs`` when a workspace is found, else ``./runs`` under the current directory
(so ``vbot train`` also works outside a workspace).
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from vbot_agent.errors import UsageError
from vbot_agent.fileio import atomic_write_json

PROGRESS_FILE = "progress.json"
META_FILE = "experiment_meta.json"
CHECKPOINT_DIR = "checkpoints"
FINAL_EVALUATION = "final_evaluation.json"
STATUSES = ("running", "finished", "failed", "stopped")


def env_folder_name(env_id: str) -> str:
    """``gym:Hopper-v5`` -> ``gym_Hopper-v5`` (no colons in folder names)."""
    return env_id.replace(":", "_").replace("/", "_")


def create_run_dir(runs_root: Path, env_id: str, now: datetime | None = None) -> Path:
    """Make and return a new, unique run folder under ``runs_root/<env>/``."""
    stamp = (now or datetime.now()).strftime("%Y-%m-%d_%H-%M-%S")
    parent = runs_root / env_folder_name(env_id)
    parent.mkdir(parents=True, exist_ok=True)
    for n in range(1, 1000):
        path = parent / (f"{stamp}_PPO" if n == 1 else f"{stamp}_{n}_PPO")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        (path / CHECKPOINT_DIR).mkdir()
        return path
    raise UsageError(f"cannot create a unique run folder under {parent}")


def find_latest_run(runs_root: Path, env_id: str | None = None) -> Path:
    """The most recently updated run folder (by its ``last.pt``), optionally of one env."""
    pattern = f"{env_folder_name(env_id)}/*_PPO" if env_id else "*/*_PPO"
    candidates = [p for p in runs_root.glob(pattern) if (p / CHECKPOINT_DIR / "last.pt").is_file()]
    if not candidates:
        where = f" for {env_id}" if env_id else ""
        raise UsageError(f"no run with a checkpoint{where} under {runs_root}")
    return max(candidates, key=lambda p: (p / CHECKPOINT_DIR / "last.pt").stat().st_mtime)


def resolve_policy_path(runs_root: Path, policy: str, env_id: str | None = None, flag: str = "--policy") -> Path:
    """``latest`` | ``best`` | run folder | curriculum stage folder | checkpoint file -> a checkpoint file
    (the best checkpoint a curriculum stage kept of the run, else best.pt, else last.pt).

    ``latest`` is the newest run's; ``best`` the workspace's best registered checkpoint (the one of
    `vbot checkpoints --best`, `vbot status` and WAKE_UP.md; the workspace is the folder above
    ``runs_root``). ``flag`` names the option in error messages."""
    if policy == "best":
        return _best_registered(runs_root.parent, env_id, flag)
    path = find_latest_run(runs_root, env_id) if policy == "latest" else Path(policy)
    if path.is_dir():
        from vbot_agent.workspace.run_list import curriculum_best_checkpoint

        kept = curriculum_best_checkpoint(path)  # a curriculum stage's run: the best its evaluations kept
        if kept is not None:  # (as `vbot runs` names it; the stage trains without the trainer's own)
            return kept
        for name in ("best.pt", "last.pt"):
            if (path / CHECKPOINT_DIR / name).is_file():
                return path / CHECKPOINT_DIR / name
        if (path / "best.pt").is_file():  # a curriculum stage's own folder (starter_kit_log/...): its kept best
            return path / "best.pt"
        raise UsageError(f"{path} has no checkpoints/best.pt or checkpoints/last.pt (nor a curriculum stage's best.pt)")
    if not path.exists():
        raise UsageError(f"checkpoint {path} not found")
    return path


def _best_registered(root: Path, env_id: str | None, flag: str) -> Path:
    from vbot_agent.workspace import Paths
    from vbot_agent.workspace.checkpoints import best_checkpoint, load_registry
    from vbot_agent.workspace.read_model import resolve

    registry = load_registry(Paths(root).registry_file)
    if env_id is None:  # scores rank checkpoints of one env only
        envs = sorted({str(c.get("env_id")) for c in registry["checkpoints"]})
        if len(envs) > 1:
            raise UsageError(f"{flag} best: the registry holds checkpoints of {len(envs)} envs ({', '.join(envs)}), "
                             "whose scores do not compare; add --env ENV, or give the checkpoint's path")
    best = best_checkpoint(registry, env_id)
    checkpoint = resolve(root, (best or {}).get("checkpoint"))
    if checkpoint is None:
        raise UsageError(f"{flag} best: no checkpoint registered in {root}" + (f" for {env_id}" if env_id else "")
                         + "; a campaign registers its trials', `vbot checkpoints --add RUN` a training run's; "
                         f"or give {flag} latest or a path")
    if not checkpoint.is_file():
        raise UsageError(f"{flag} best: the registered checkpoint {checkpoint} ({best.get('id')}) is gone")
    return checkpoint


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class ProgressFile:
    """``progress.json``: the cheap, always-current summary of a run (see module docstring)."""

    def __init__(self, run_dir: Path, env_id: str, max_env_steps: int, started_at: str | None = None) -> None:
        self.path = run_dir / PROGRESS_FILE
        self.data: dict[str, Any] = {
            "env_id": env_id, "iteration": 0, "env_steps": 0, "max_env_steps": max_env_steps,
            "env_steps_per_s": None, "reward": None, "success_rate": None, "distance_to_target": None,
            "started_at": started_at or utc_now(), "updated_at": utc_now(), "pid": os.getpid(),
            "host": socket.gethostname(),  # readers check the pid only on this host
            "status": "running", "run_dir": str(run_dir), "best_checkpoint_score": None, "message": None,
        }

    def update(self, **fields: Any) -> None:
        if "status" in fields and fields["status"] not in STATUSES:
            raise ValueError(f"status {fields['status']!r} not in {STATUSES}")
        self.data.update({k: v for k, v in fields.items()})
        self.data["updated_at"] = utc_now()
        atomic_write_json(self.path, self.data)


def experiment_meta(config: dict[str, Any], *, command: list[str], env_info: dict[str, Any]) -> dict[str, Any]:
    """The contents of experiment_meta.json: resolved config, command, versions, git revision."""
    import numpy
    import torch

    versions = {"python": platform.python_version(), "torch": torch.__version__, "numpy": numpy.__version__}
    for name in ("mujoco", "gymnasium"):
        module = sys.modules.get(name)
        versions[name] = getattr(module, "__version__", None) if module else None
    from vbot_agent import __version__

    versions["vbot_agent"] = __version__
    return {
        "created_at": utc_now(),
        "command": command,
        "seed": config["seed"],
        "env_id": config["env_id"],
        "env": env_info,
        "config": config,
        "versions": versions,
        "git_revision": git_revision(),
        "host": platform.node(),
        "resumes": [],
    }


def git_revision() -> str | None:
    """HEAD of the repository holding this package (+ '-dirty' when it has changes); None outside git."""
    root = Path(__file__).resolve().parents[2]
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
        if rev.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=5)
        return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.TimeoutExpired):
        return None


def wall_clock() -> float:
    return time.perf_counter()
