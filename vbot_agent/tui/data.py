"""Everything the TUI reads from disk, behind one small module (no Textual imports here).

The TUI never writes the workspace. The campaign state, its liveness, the best checkpoint and the
runs come from the workspace read model (``vbot_agent.workspace.read_model``), the same one that
``vbot status`` and WAKE_UP.md use. Here: TensorBoard scalars of a run, through one
``EventAccumulator`` per run reloaded incrementally (call :meth:`ScalarReaders.scalars` from a
worker thread, never the UI thread); ``WAKE_UP.md``; skills ``skills/<name>/SKILL.md`` through
``vbot_agent.agent.skills``.

Files are re-read only when their (mtime, size) changed, so a refresh of an idle workspace costs a
few ``stat`` calls. Problems are returned as messages for the UI to show, never swallowed.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vbot_agent import tensorboard_tags as tags
from vbot_agent.errors import UsageError
from vbot_agent.workspace import Paths
from vbot_agent.workspace.liveness import Liveness, campaign_liveness, format_age
from vbot_agent.workspace.read_model import (
    FileCache,
    env_best_notes,
    not_in_registry_notes,
    read_workspace,
    run_dir_of,
)
from vbot_agent.workspace.runs import RunInfo, read_meta
from vbot_agent.workspace.state import parse_time

__all__ = ["FileCache", "Liveness", "RunInfo", "campaign_liveness", "format_age", "parse_time", "read_meta"]

REWARD_TAG = tags.EPISODE_RETURN
SUCCESS_TAG = tags.SUCCESS_RATE
TERM_PREFIX = tags.TERM_PREFIX


def trial_row(trial: dict[str, Any]) -> dict[str, Any]:
    """The columns of one trial in the trials table (missing values are None)."""
    metrics = trial.get("metrics") or {}
    return {
        "number": trial.get("number"),
        "state": trial.get("state"),
        "score": trial.get("score"),
        "success_rate": metrics.get("success_rate"),
        "fall_rate": metrics.get("fall_rate"),
        "competition_points": metrics.get("competition_points"),
        "time_to_target_s": metrics.get("time_to_target_s"),
        "params": trial.get("params") or {},
    }


# ---------------------------------------------------------------------------------- tensorboard
class ScalarReaders:
    """One TensorBoard ``EventAccumulator`` per run folder, reloaded incrementally.

    ``scalars(run_dir)`` returns ``{tag: [(step, value), ...]}``. It does file I/O and protobuf
    parsing: call it from a worker thread. tensorboard is imported on first use only.
    """

    def __init__(self) -> None:
        self._accumulators: dict[Path, Any] = {}
        self._lock = threading.Lock()

    def scalars(self, run_dir: Path, tags: tuple[str, ...] | None = None) -> dict[str, list[tuple[int, float]]]:
        run_dir = Path(run_dir)
        if not run_dir.is_dir() or not any(run_dir.glob("events.out.tfevents.*")):
            return {}
        with self._lock:
            acc = self._accumulators.get(run_dir)
            if acc is None:
                from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

                acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
                self._accumulators[run_dir] = acc
            acc.Reload()
            available = acc.Tags().get("scalars", [])
            wanted = [t for t in available if tags is None or t in tags or any(t.startswith(p) for p in tags)]
            return {t: [(e.step, e.value) for e in acc.Scalars(t)] for t in wanted}


def reward_terms(scalars: dict[str, list[tuple[int, float]]]) -> dict[str, float]:
    """The last value of every ``Reward Instant / <term> (mean)`` tag, by term name."""
    out = {}
    for tag, points in scalars.items():
        term = tags.term_of(tag)
        if term is not None and points:
            out[term] = points[-1][1]
    return out


# --------------------------------------------------------------------------------------- skills
@dataclass(frozen=True)
class SkillEntry:
    """One skill for the browser: name, description, Markdown body, action lines; or an error."""

    name: str
    path: Path
    description: str = ""
    body: str = ""
    actions: tuple[str, ...] = ()
    error: str | None = None


def skills_root(workspace: Path | None, override: Path | None = None) -> Path:
    """``override``, else ``<workspace>/skills`` when present, else the skills shipped with vbot."""
    if override is not None:
        return Path(override)
    if workspace is not None and (workspace / "skills").is_dir():
        return workspace / "skills"
    from vbot_agent.agent.skills import default_skills_dir

    return default_skills_dir()


def load_skill_entries(root: Path) -> list[SkillEntry]:
    """Every skill under ``root``; a broken one becomes an entry with its error (the rest still load).

    Raises UsageError when ``root`` holds no skills at all.
    """
    from vbot_agent.agent.skills import SkillFileError, load_skill, skill_files

    out = []
    for path in skill_files(root):
        try:
            skill = load_skill(path)
        except SkillFileError as exc:
            out.append(SkillEntry(name=path.parent.name, path=path, error=str(exc)))
            continue
        out.append(SkillEntry(
            name=skill.name or path.parent.name, path=path, description=skill.description, body=skill.body,
            actions=tuple(a.text for a in skill.actions),
        ))
    return out


def parse_action_line(line: str):
    """``"train --env X --max-env-steps 5"`` -> (Action, {param: value given}).

    Raises UsageError when the line names no registered action or has bad flags.
    """
    from vbot_agent.actions.command_line import parse_given
    from vbot_agent.agent.skills import shell_text, split_command

    problem = shell_text(line)
    if problem:
        raise UsageError(f"{line!r} {problem}")
    words = split_command(line)
    if words and words[0] == "vbot":
        words = words[1:]
    action, given, _, _ = parse_given(words)
    return action, action.validate(given, fill_defaults=False)


# ------------------------------------------------------------------------------------- snapshot
@dataclass(frozen=True)
class Snapshot:
    """What the dashboard shows, read in one pass (off the UI thread). ``best`` is the workspace's
    best registered checkpoint (the same one ``vbot checkpoints --best`` names)."""

    workspace: Path | None
    workspace_error: str | None = None
    state: dict[str, Any] | None = None
    state_error: str | None = None
    runs: tuple[RunInfo, ...] = ()
    wake_up: str | None = None
    wake_up_error: str | None = None
    best_curve: tuple[float, ...] = ()
    best_curve_note: str = ""
    read_at: float = 0.0
    liveness: Liveness | None = None
    best: dict[str, Any] | None = None
    unregistered: tuple[str, ...] = ()  # notes beside best: read_model.env_best_notes and not_in_registry_notes

    @property
    def trials(self) -> list[dict[str, Any]]:
        return list((self.state or {}).get("trials") or [])


class WorkspaceReader:
    """Reads a :class:`Snapshot` of one workspace; keeps the file and TensorBoard caches."""

    def __init__(self, workspace: Path | None, workspace_error: str | None = None,
                 clock: Callable[[], float] | None = None) -> None:
        import time

        self.workspace = workspace
        self.workspace_error = workspace_error
        self.clock = clock or time.time
        self.files = FileCache()
        self.tb = ScalarReaders()

    @classmethod
    def open(cls, override: str | os.PathLike | None, clock: Callable[[], float] | None = None) -> WorkspaceReader:
        """Find the workspace like the CLI does; a missing one is kept as a message, not raised."""
        from vbot_agent.workspace import find_workspace

        try:
            return cls(find_workspace(override), clock=clock)
        except UsageError as exc:
            return cls(None, str(exc), clock=clock)

    @property
    def paths(self) -> Paths | None:
        return Paths(self.workspace) if self.workspace else None

    def read(self, *, with_curves: bool = True) -> Snapshot:
        now = self.clock()
        if self.workspace is None:
            return Snapshot(None, self.workspace_error, read_at=now)
        paths = self.paths
        view = read_workspace(self.workspace, now, files=self.files)
        state_error = view.state_error
        if view.state is None and state_error is None:
            state_error = (f"No campaign yet: {paths.state_file.relative_to(self.workspace)} does not exist. "
                           "Start one with `vbot automl` (press a to pick an action).")
        wake_up, wake_error = None, None
        try:
            wake_up = self.files.get(paths.wake_up, lambda p: p.read_text(encoding="utf-8", errors="replace"))
        except FileNotFoundError:
            wake_error = "No WAKE_UP.md yet: `vbot watch --snapshot` writes it."
        except OSError as exc:
            wake_error = f"cannot read WAKE_UP.md: {exc}"
        curve, note = (), ""
        if with_curves:
            curve, note = self.best_curve(view.best)
        return Snapshot(self.workspace, None, view.state, state_error, view.runs, wake_up, wake_error, curve, note,
                        now, view.liveness, view.best, (*env_best_notes(view), *not_in_registry_notes(view)))

    def best_curve(self, best: dict[str, Any] | None) -> tuple[tuple[float, ...], str]:
        """The best run's episode-return values, or () and why not (call off the UI thread)."""
        run_dir = run_dir_of(self.workspace, best)
        if run_dir is None:
            return (), "no best run yet"
        try:
            scalars = self.tb.scalars(run_dir, (REWARD_TAG,))
        except Exception as exc:  # tensorboard raises many types on truncated files; show it
            return (), f"cannot read TensorBoard logs of {run_dir.name}: {type(exc).__name__}: {exc}"
        points = scalars.get(REWARD_TAG, [])
        if not points:
            return (), f"no '{REWARD_TAG}' logged in {run_dir.name} yet"
        return tuple(v for _, v in points), f"{run_dir.parent.name}/{run_dir.name}"
