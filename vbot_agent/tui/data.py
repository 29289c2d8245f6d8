"""Everything the TUI reads from disk, behind one small module (no Textual imports here).

The TUI never writes the workspace; it reads:

- the campaign state ``starter_kit_schedule/progress/automl_state.yaml`` through
  ``vbot_agent.workspace.state.load_state`` (a UsageError with a clear message on corruption);
- ``runs/<env>/<stamp>_PPO/progress.json`` (+ ``experiment_meta.json``, ``checkpoints/*.pt``);
- TensorBoard scalars of a run, through one ``EventAccumulator`` per run that is reloaded
  incrementally (call :meth:`ScalarReaders.scalars` from a worker thread, never the UI thread);
- ``WAKE_UP.md`` at the workspace root;
- skills ``skills/<name>/SKILL.md`` through ``vbot_agent.agent.skills``.

Files are re-read only when their (mtime, size) changed, so a refresh of an idle workspace costs a
few ``stat`` calls. Problems are returned as messages for the UI to show, never swallowed.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from vbot_agent.errors import UsageError

# A campaign whose heartbeat is older than this is reported as not alive (seconds). The campaign
# writes its heartbeat at least every minute; three missed beats mean it is gone or hung.
HEARTBEAT_STALE_S = 180.0
# A run whose progress.json says "running" but has not been touched for this long is stale (s).
RUN_STALE_S = 300.0

REWARD_TAG = "Reward / Total reward (mean)"
SUCCESS_TAG = "metrics / success_rate"
TERM_PREFIX = "Reward Instant / "


# ----------------------------------------------------------------------------------------- times
def parse_time(text: Any) -> float | None:
    """Unix time of an ISO-8601 string (``2026-11-23T10:55:00Z`` or with an offset); None if absent.

    Raises ValueError on text that is not a time.
    """
    if text in (None, ""):
        return None
    if isinstance(text, datetime):
        moment = text
    else:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def format_age(seconds: float | None) -> str:
    """``42s``, ``5m``, ``3h12m``, ``2d4h``; ``?`` for None."""
    if seconds is None:
        return "?"
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d{(s % 86400) // 3600}h"


# ------------------------------------------------------------------------------------ file cache
class FileCache:
    """Parsed file contents keyed by path, re-parsed only when (mtime_ns, size) changes.

    ``get(path, parse)`` returns ``parse(text)`` or raises what ``parse`` raised (the failure is
    cached too, so a corrupt file is not re-parsed every refresh). FileNotFoundError propagates.
    """

    def __init__(self) -> None:
        self._entries: dict[Path, tuple[tuple[int, int], Any, BaseException | None]] = {}
        self._lock = threading.Lock()

    def get(self, path: Path, parse: Callable[[Path], Any]) -> Any:
        stat = path.stat()
        key = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            entry = self._entries.get(path)
        if entry is None or entry[0] != key:
            try:
                entry = (key, parse(path), None)
            except (UsageError, ValueError, OSError) as exc:
                entry = (key, None, exc)
            with self._lock:
                self._entries[path] = entry
        if entry[2] is not None:
            raise entry[2]
        return entry[1]


# ------------------------------------------------------------------------------------- campaign
def load_state(path: Path) -> dict[str, Any]:
    """The campaign state at ``path`` (a dict). Raises UsageError when missing or corrupt.

    Uses the campaign's own loader when it is importable; otherwise parses the YAML here with the
    same refusal of anything that is not a mapping with a list of trials.
    """
    try:
        from vbot_agent.workspace.state import load_state as campaign_load_state
    except ModuleNotFoundError as exc:
        if exc.name is None or not exc.name.startswith("vbot_agent.workspace"):
            raise
        return _load_state_plain(path)
    return campaign_load_state(path)


def _load_state_plain(path: Path) -> dict[str, Any]:
    import yaml

    try:
        text = path.read_text()
    except FileNotFoundError:
        raise UsageError(f"no campaign state at {path}; start a campaign with `vbot automl`") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"campaign state {path} is corrupt (malformed YAML: {exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("trials", []), list):
        raise UsageError(f"campaign state {path} is corrupt (expected a mapping with a list of trials)")
    return data


@dataclass(frozen=True)
class Liveness:
    """Whether the campaign process is alive, as far as this machine can tell."""

    label: str  # alive | dead | stale | finished | unknown
    detail: str

    @property
    def ok(self) -> bool:
        return self.label in ("alive", "finished")


def pid_alive(pid: int) -> bool:
    """True when a process with ``pid`` exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def campaign_liveness(state: dict[str, Any], now: float, hostname: str | None = None) -> Liveness:
    """Alive/dead from the state's status, pid, host and heartbeat (see HEARTBEAT_STALE_S).

    A pid is only checked when the state was written on this host; elsewhere the heartbeat decides.
    """
    status = state.get("status")
    if status != "running":
        return Liveness("finished", f"status {status}")
    try:
        beat = parse_time(state.get("heartbeat"))
    except ValueError:
        beat = None
    age = None if beat is None else now - beat
    host = state.get("host")
    pid = state.get("pid")
    local = host is None or host == (hostname or socket.gethostname())
    if local and isinstance(pid, int) and not pid_alive(pid):
        return Liveness("dead", f"pid {pid} is gone; heartbeat {format_age(age)} ago — resume with `vbot automl --resume`")
    if age is None:
        return Liveness("unknown", "no heartbeat in the state")
    if age > HEARTBEAT_STALE_S:
        return Liveness("stale", f"no heartbeat for {format_age(age)} — resume with `vbot automl --resume`")
    where = "" if local else f" on {host}"
    return Liveness("alive", f"heartbeat {format_age(age)} ago{where}")


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
        "mean_time_to_target_s": metrics.get("mean_time_to_target_s"),
        "params": trial.get("params") or {},
    }


# ----------------------------------------------------------------------------------------- runs
@dataclass(frozen=True)
class RunInfo:
    """One run folder and its ``progress.json`` (``progress`` is {} when unreadable)."""

    path: Path
    env_folder: str
    name: str
    progress: dict[str, Any]
    error: str | None
    checkpoints: tuple[str, ...]

    @property
    def status(self) -> str:
        return str(self.progress.get("status") or ("unreadable" if self.error else "unknown"))

    def is_live(self, now: float) -> bool:
        """Running and touched within RUN_STALE_S."""
        if self.progress.get("status") != "running":
            return False
        try:
            updated = parse_time(self.progress.get("updated_at"))
        except ValueError:
            return False
        return updated is not None and now - updated < RUN_STALE_S

    @property
    def fraction(self) -> float | None:
        steps, total = self.progress.get("env_steps"), self.progress.get("max_env_steps")
        if isinstance(steps, (int, float)) and isinstance(total, (int, float)) and total > 0:
            return max(0.0, min(1.0, steps / total))
        return None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path.name} is not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path.name} is not a JSON object")
    return data


def run_folders(runs_root: Path) -> list[Path]:
    """Every ``runs/<env>/<name>/`` folder, newest name first."""
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
    return _read_json(run_dir / "experiment_meta.json")


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
        if tag.startswith(TERM_PREFIX) and points:
            term = tag[len(TERM_PREFIX):].removesuffix(" (mean)")
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
    from vbot_agent.agent.skills import shell_text, split_command
    from vbot_agent.cli import parse_given

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
    """What the dashboard shows, read in one pass (off the UI thread)."""

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
    def paths(self):
        from vbot_agent.workspace import Paths

        return Paths(self.workspace) if self.workspace else None

    def read(self, *, with_curves: bool = True) -> Snapshot:
        now = self.clock()
        if self.workspace is None:
            return Snapshot(None, self.workspace_error, read_at=now)
        paths = self.paths
        state, state_error, liveness = None, None, None
        try:
            state = self.files.get(paths.state_file, load_state)
            liveness = campaign_liveness(state, now)
        except FileNotFoundError:
            state_error = (f"No campaign yet: {paths.state_file.relative_to(self.workspace)} does not exist. "
                           "Start one with `vbot automl` (press a to pick an action).")
        except (UsageError, ValueError, OSError) as exc:
            state_error = str(exc)
        runs = tuple(self.read_runs())
        wake_up, wake_error = None, None
        try:
            wake_up = self.files.get(paths.wake_up, lambda p: p.read_text(encoding="utf-8", errors="replace"))
        except FileNotFoundError:
            wake_error = "No WAKE_UP.md yet: `vbot watch --snapshot` writes it."
        except OSError as exc:
            wake_error = f"cannot read WAKE_UP.md: {exc}"
        curve, note = (), ""
        if with_curves:
            curve, note = self.best_curve(state)
        return Snapshot(self.workspace, None, state, state_error, runs, wake_up, wake_error, curve, note, now,
                        liveness)

    def read_runs(self) -> list[RunInfo]:
        out = []
        for folder in run_folders(self.paths.runs):
            progress, error = {}, None
            try:
                progress = self.files.get(folder / "progress.json", _read_json)
            except FileNotFoundError:
                error = "no progress.json"
            except (ValueError, OSError) as exc:
                error = str(exc)
            out.append(RunInfo(folder, folder.parent.name, folder.name, progress, error, checkpoint_names(folder)))
        return out

    def resolve(self, path: str | os.PathLike | None) -> Path | None:
        """A path from the state (relative to the workspace, or absolute)."""
        if not path:
            return None
        p = Path(path)
        return p if p.is_absolute() else self.workspace / p

    def best_run_dir(self, state: dict[str, Any] | None) -> Path | None:
        """The run folder of the best trial (its run_dir, or the folder above its checkpoint)."""
        best = (state or {}).get("best") or {}
        trial_no = best.get("trial")
        for trial in (state or {}).get("trials") or []:
            if trial.get("number") == trial_no and trial.get("run_dir"):
                return self.resolve(trial["run_dir"])
        ckpt = self.resolve(best.get("checkpoint"))
        if ckpt is not None:
            return ckpt.parent.parent
        return None

    def best_curve(self, state: dict[str, Any] | None) -> tuple[tuple[float, ...], str]:
        """The best run's ``Reward / Total reward (mean)`` values, or () and why not (off the UI thread)."""
        run_dir = self.best_run_dir(state)
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
