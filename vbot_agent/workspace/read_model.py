"""One read model of a workspace: what ``vbot status``, ``vbot checkpoints``, WAKE_UP.md and the TUI show.

:func:`read_workspace` reads the campaign state, judges the process behind it
(``workspace.liveness``), names the best checkpoint (``best``, below) and lists the runs. Nothing
here writes; every read problem is kept as a message beside the data, never swallowed.

"Best" means one thing everywhere: the registry entry (``starter_kit_schedule/checkpoints/
registry.yaml``) with the highest score, ties going to the newest registration. Every complete
trial and every final run is registered when it finishes, so the registry's best is at least as
good as any campaign's own best trial. Scores compare checkpoints of one env: with several envs
registered, every reader also names the best of each (``env_bests``, ``env_best_notes``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vbot_agent.errors import UsageError
from vbot_agent.workspace import Paths
from vbot_agent.workspace.checkpoints import best_checkpoint, load_registry
from vbot_agent.workspace.liveness import Liveness, campaign_liveness
from vbot_agent.workspace.runs import RunInfo, checkpoint_names, read_json_object, run_folders
from vbot_agent.workspace.state import load_state


class FileCache:
    """Parsed file contents keyed by path, re-parsed only when (mtime_ns, size) changes.

    ``get(path, parse)`` returns ``parse(path)`` or raises what ``parse`` raised (the failure is
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


@dataclass(frozen=True)
class WorkspaceView:
    """One workspace as read at ``now`` (unix s). ``*_error`` say why a part is missing."""

    paths: Paths
    now: float
    state: dict[str, Any] | None = None
    state_error: str | None = None
    liveness: Liveness | None = None
    best: dict[str, Any] | None = None
    best_error: str | None = None
    runs: tuple[RunInfo, ...] = ()
    runs_error: str | None = None
    registered: tuple[dict[str, Any], ...] = ()  # every registry entry (``best`` is the top one)

    @property
    def trials(self) -> list[dict[str, Any]]:
        return list((self.state or {}).get("trials") or [])

    @property
    def live_runs(self) -> list[RunInfo]:
        return [r for r in self.runs if r.is_live(self.now)]

    @property
    def best_run_dir(self) -> Path | None:
        return run_dir_of(self.paths.root, self.best)

    @property
    def env_bests(self) -> list[dict[str, Any]]:
        """The best entry of each env in the registry, highest score first: scores rank checkpoints
        of one env only (a flat-tile curriculum stage's success says nothing of a course)."""
        data = {"checkpoints": list(self.registered)}
        envs = dict.fromkeys(c.get("env_id") for c in self.registered)
        bests = [best_checkpoint(data, env) for env in envs]
        return sorted((b for b in bests if b), key=lambda b: -b["score"])

    @property
    def unregistered(self) -> list[RunInfo]:
        """Finished runs with an evaluated ``best.pt`` that reached the target (trainer's score > 0)
        and that no registry entry comes from (plain ``vbot train`` runs): ``best`` cannot weigh them
        until ``vbot checkpoints --add`` scores them."""
        mine = run_keys(self.paths.root, self.registered)
        return [r for r in self.runs if r.error is None and r.status == "finished" and "best.pt" in r.checkpoints
                and (trainer_best_score(r.progress) or 0.0) > 0.0 and run_key(r.path) not in mine]


def env_best_notes(view: WorkspaceView) -> list[str]:
    """When the registry holds several envs: one sentence saying ``best`` ranks across them, and the
    best of each env; the same words in `vbot checkpoints`, `vbot status` and WAKE_UP.md."""
    bests = view.env_bests
    if len(bests) < 2:
        return []
    each = "; ".join(f"{b.get('env_id')}: {b.get('id')} (score {b['score']:.4f})" for b in bests)
    return [f"several envs: a score compares checkpoints of one env, so pick the best of the env you need "
            f"(`vbot checkpoints --best --env ENV`); the best of each: {each}"]


def unregistered_notes(view: WorkspaceView) -> list[str]:
    """One sentence per run ``best`` cannot weigh (``WorkspaceView.unregistered``), with the command
    that registers it; the same words in `vbot checkpoints`, `vbot status` and WAKE_UP.md."""
    notes = []
    for run in view.unregistered:
        rel = relative(view.paths.root, run.path)
        notes.append(f"not weighed: {rel} has an evaluated best.pt that reached the target but is not in the "
                     f"registry; `vbot checkpoints --add {rel}` scores it as a campaign scores its trials")
    return notes


def curriculum_stage_notes(view: WorkspaceView, env: str | None = None) -> list[str]:
    """When the curriculum's furthest stage with a checkpoint is not in the registry (only promoted
    stages are registered): one sentence naming that stage's checkpoint, so that no reader offers an
    earlier stage's policy (flat tiles, say) as the answer for the later stages' env; the same words
    in `vbot checkpoints`, `vbot status` and WAKE_UP.md. With ``env``: the furthest stage on that env."""
    stages = [s for s in ((view.state or {}).get("curriculum") or {}).get("stages") or []
              if isinstance(s, dict) and s.get("best_checkpoint") and (env is None or s.get("env_id") == env)]
    if not stages:
        return []
    last = stages[-1]
    registered = {resolve(view.paths.root, e.get("checkpoint")) for e in view.registered}
    if resolve(view.paths.root, last["best_checkpoint"]) in registered:
        return []
    stage_env = str(last.get("env_id") or "?")
    success = (last.get("metrics") or {}).get("success_rate")
    measured = f", best evaluation success {success:.2f}" if isinstance(success, (int, float)) else ""
    which = "furthest stage" if env is None else "stage"
    return [f"not in the registry (only promoted stages are): the curriculum's {which} '{last.get('name')}' "
            f"({stage_env}, {last.get('status')}{measured}); `vbot play --env {stage_env} --policy "
            f"{last['best_checkpoint']}` plays its best checkpoint (`--competition` scores a course or the flat "
            f"ring as the competition does)"]


def not_in_registry_notes(view: WorkspaceView) -> list[str]:
    """Every sentence about a checkpoint ``best`` cannot weigh: unregistered finished runs, then the
    curriculum's furthest stage when it is not registered (`vbot status`, WAKE_UP.md, the TUI)."""
    return [*unregistered_notes(view), *curriculum_stage_notes(view)]


def trainer_best_score(progress: dict[str, Any]) -> float | None:
    """The evaluation score of a run's best.pt by the trainer's rule (``best_score`` in older runs)."""
    for key in ("best_checkpoint_score", "best_score"):
        if isinstance(progress.get(key), (int, float)):
            return float(progress[key])
    return None


def relative(root: Path, path: str | Path) -> str:
    """``path`` as written into the registry and the listings: relative to the workspace ``root``
    when it is inside it (symlinks resolved), else as given."""
    try:
        return str(Path(path).resolve().relative_to(Path(root).resolve()))
    except ValueError:
        return str(path)


def run_key(run_dir: Path) -> tuple[str, str]:
    """A run folder as ``runs/<env>/<run>`` names it: matches a state or registry entry even when the
    workspace was moved and the entry holds the old absolute path."""
    return run_dir.parent.name, run_dir.name


def run_keys(root: Path, entries: Iterable[dict[str, Any] | None]) -> set[tuple[str, str]]:
    """The run folders of state trials or registry entries (see ``run_key``)."""
    return {run_key(d) for d in (run_dir_of(root, e) for e in entries if e) if d is not None}


def resolve(root: Path, path: str | None) -> Path | None:
    """A path written in the state or the registry (relative to the workspace ``root``, or absolute)."""
    if not path:
        return None
    p = Path(path)
    return p if p.is_absolute() else Path(root) / p


def run_dir_of(root: Path, entry: dict[str, Any] | None) -> Path | None:
    """The run folder of a registry entry or trial: its ``run_dir``, else the folder above its checkpoint."""
    entry = entry or {}
    if entry.get("run_dir"):
        return resolve(root, entry["run_dir"])
    checkpoint = resolve(root, entry.get("checkpoint"))
    return checkpoint.parent.parent if checkpoint is not None else None


def read_workspace(root: Path, now: float | None = None, *, files: FileCache | None = None,
                   hostname: str | None = None) -> WorkspaceView:
    """Read the workspace at ``root``. ``files`` caches parsed files between calls (the TUI's refresh)."""
    paths = Paths(Path(root))
    now = time.time() if now is None else now
    cached = files.get if files is not None else (lambda path, parse: parse(path))
    state = state_error = liveness = None
    try:  # no state file: no campaign yet (state and state_error both None), the views say so
        if paths.state_file.exists():
            state = cached(paths.state_file, load_state)
            liveness = campaign_liveness(state, now, hostname)
    except (UsageError, ValueError, OSError) as exc:
        state_error = str(exc)
    best = best_error = None
    registered: list[dict[str, Any]] = []
    try:
        if paths.registry_file.exists():
            registry = cached(paths.registry_file, load_registry)
            best = best_checkpoint(registry)
            registered = [e for e in registry["checkpoints"] if isinstance(e, dict)]
    except (UsageError, OSError) as exc:
        best_error = str(exc)
    runs, runs_error = [], None
    try:
        for folder in run_folders(paths.runs):
            progress, error = {}, None
            try:
                progress = cached(folder / "progress.json", read_json_object)
            except FileNotFoundError:
                error = "no progress.json"
            except (ValueError, OSError) as exc:
                error = str(exc)
            runs.append(RunInfo(folder, folder.parent.name, folder.name, progress, error, checkpoint_names(folder)))
    except OSError as exc:
        runs_error = f"{type(exc).__name__}: {exc}"
    return WorkspaceView(paths, now, state, state_error, liveness, best, best_error, tuple(runs), runs_error,
                         tuple(registered))
