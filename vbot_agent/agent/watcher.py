"""``vbot watch``: keep WAKE_UP.md current.

Event mode (default): watchdog watches the *folders* holding the inputs (``progress/`` and
``runs/``, recursively), so a writer's temp-file-then-rename shows up as a move onto
``automl_state.yaml`` / ``progress.json``. Events are debounced (quiet for ``debounce`` seconds, but
never later than ``max_delay`` after the first event, so a steady stream of writes still refreshes),
and the file is rewritten atomically. The interval is the fallback: the file is refreshed at least
every ``interval`` seconds, which also keeps ages and liveness current. Our own outputs
(WAKE_UP.md, its temp files, the trend history) are ignored, so a write never retriggers a write.

Poll mode (``--poll``, for network or container file systems where inotify is blind): every
``interval`` seconds the inputs' (inode, size, mtime) are compared and the file rebuilt on change.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vbot_agent.agent import wakeup
from vbot_agent.workspace import Paths
from vbot_agent.workspace.read_model import relative
from vbot_agent.workspace.runs import PROGRESS_FILE, progress_files

INPUT_NAMES = frozenset({"automl_state.yaml", PROGRESS_FILE})
IGNORED_EVENTS = frozenset({"opened", "closed_no_write"})  # our own reads
LIVENESS_REFRESH_S = 30.0  # poll mode: rebuild at least this often so ages and liveness stay true
DIAGNOSIS_TTL_S = 600.0  # reward diagnosis is slow; rerun at most this often per run


def _is_own_output(path: str) -> bool:
    name = Path(path).name
    return (name == "WAKE_UP.md" or (name.startswith(".WAKE_UP.md.") and name.endswith(".tmp"))
            or name == wakeup.HISTORY_FILE or name.startswith(f".{wakeup.HISTORY_FILE}."))


def is_relevant(event: Any) -> bool:
    """Whether a watchdog event can change WAKE_UP.md (an input written, moved in, or a new folder)."""
    if event.event_type in IGNORED_EVENTS:
        return False
    paths = [p for p in (getattr(event, "src_path", ""), getattr(event, "dest_path", "")) if p]
    paths = [p.decode() if isinstance(p, bytes) else str(p) for p in paths]
    if all(_is_own_output(p) for p in paths):
        return False
    if event.is_directory:
        return event.event_type in ("created", "moved", "deleted")
    return any(Path(p).name in INPUT_NAMES for p in paths)


DIAGNOSED_RUNS = 3  # the newest runs outside a campaign that WAKE_UP.md diagnoses (~1-3 s each)


def diagnose(root: Path, run_dir: str) -> tuple[list[str], int]:
    """Run the ``diagnose-reward`` action on ``run_dir``: (warning lines of its findings, how many)."""
    import io

    from vbot_agent.actions.context import Context
    from vbot_agent.agent.lint import resolve_command

    try:
        action, params, _ = resolve_command(["diagnose-reward", run_dir, "--json"])
        ctx = Context(json=True, workspace_override=str(root), stdout=io.StringIO(), stderr=io.StringIO(), cwd=root)
        result = action.run(ctx, params) or {}
    except Exception as exc:  # reported as a warning line, never dropped
        return [f"Reward diagnosis of `{run_dir}` failed: {type(exc).__name__}: {exc}"], 1
    findings = result.get("findings") or []
    lines = []
    for finding in findings:
        text = f"Reward diagnosis [{finding.get('severity', '?')}] `{finding.get('id', '?')}` in `{run_dir}`"
        if finding.get("cause"):
            text += f": {finding['cause']}"
        if finding.get("fix"):
            text += f". Fix: {finding['fix']}"
        if finding.get("command"):
            text += f". Test the fix: `{finding['command']}`"
        lines.append(text)
    return lines, len(findings)


def runs_to_diagnose(snap: wakeup.WakeUpInput, limit: int = DIAGNOSED_RUNS) -> list[Path]:
    """The newest readable runs that are not a campaign's trials (the campaign's search warnings cover
    those), at most ``limit``; when every run is a trial, the newest trial run."""
    from vbot_agent.workspace.read_model import run_key, run_keys

    readable = [r.path for r in snap.runs if r.error is None]
    state = snap.state or {}
    trial_dirs = run_keys(snap.paths.root, [*(state.get("trials") or []), state.get("final")])
    outside = [p for p in readable if run_key(p) not in trial_dirs]
    return (outside or readable[:1])[:limit]


class DiagnosisCache:
    """Reward-diagnosis findings for WAKE_UP.md's warnings, when the ``diagnose-reward`` action exists.

    The newest runs outside a campaign are diagnosed (``runs_to_diagnose``), each result kept until
    its ``progress.json`` changes or ``DIAGNOSIS_TTL_S`` passes. ``background`` runs the diagnoses in
    a thread and shows the last results meanwhile (watch mode); otherwise they run inline (snapshot).
    """

    def __init__(self, root: Path, *, background: bool, enabled: bool = True,
                 on_done: Callable[[], None] | None = None):
        self.root, self.background, self.enabled, self.on_done = root, background, enabled, on_done
        self._results: dict[str, tuple[tuple, float, list[str], int]] = {}  # run -> (key, at, lines, findings)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def __call__(self, snap: wakeup.WakeUpInput) -> list[str]:
        if not self.enabled:
            return ["Reward diagnosis: turned off for this watcher."]
        try:
            from vbot_agent.actions import REGISTRY
        except ImportError as exc:
            return [f"Reward diagnosis: unavailable, the action registry failed to import ({exc})."]
        if "diagnose-reward" not in REGISTRY:
            return ["Reward diagnosis: not available in this version (no `diagnose-reward` action)."]
        chosen = runs_to_diagnose(snap)
        if not chosen:
            return ["Reward diagnosis: no run to diagnose yet."]
        wanted = []
        for run in chosen:
            progress = run / PROGRESS_FILE
            wanted.append((relative(self.root, run), (str(run), progress.stat().st_mtime_ns if progress.exists() else 0)))
        with self._lock:
            stale = [(name, key) for name, key in wanted if not self._fresh(name, key)]
            start = bool(stale) and (self._thread is None or not self._thread.is_alive())
            if start and self.background:
                self._thread = threading.Thread(target=self._run, args=(stale,), daemon=True)
                self._thread.start()
        if start and not self.background:
            self._run(stale)
        with self._lock:
            done = [(name, self._results[name]) for name, _ in wanted if name in self._results]
        if not done:
            return ["Reward diagnosis: running, results on the next refresh."]
        names = ", ".join(f"`{name}`" for name, _ in done)
        scope = (f"the {len(done)} newest runs that are not campaign trials" if len(done) > 1 else "the newest run")
        reach = "`vbot runs` lists the others, `vbot diagnose-reward RUN` diagnoses one"
        lines = [line for _, (_, _, run_lines, _) in done for line in run_lines]
        if not any(count for _, (_, _, _, count) in done):
            return [f"Reward diagnosis of {scope} ({names}; {reach}): no findings.", *lines]
        clean = [f"`{name}`" for name, (_, _, _, count) in done if not count]
        return [f"Reward diagnosis of {scope} ({names}; {reach}):", *lines,
                *([f"Reward diagnosis: no findings in {', '.join(clean)}."] if clean else [])]

    def _fresh(self, name: str, key: tuple) -> bool:
        held = self._results.get(name)
        return held is not None and held[0] == key and time.monotonic() - held[1] < DIAGNOSIS_TTL_S

    def _run(self, stale: list[tuple[str, tuple]]) -> None:
        for name, key in stale:
            lines, count = diagnose(self.root, name)
            with self._lock:
                self._results[name] = (key, time.monotonic(), lines, count)
        if self.background and self.on_done:
            self.on_done()  # new findings: rebuild WAKE_UP.md now rather than at the next change


@dataclass
class Watcher:
    """Rebuilds WAKE_UP.md for the workspace ``root``; see the module docstring."""

    root: Path
    interval: float = 10.0
    poll: bool = False
    debounce: float = 0.25
    max_delay: float = 1.0
    diagnosis: bool = True
    on_write: Callable[[Path], None] | None = None
    writes: int = 0
    refreshes: int = 0
    _event: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)
    ready: threading.Event = field(default_factory=threading.Event)  # set once watching and written

    def __post_init__(self) -> None:
        self.root = Path(self.root).resolve()
        self.paths = Paths(self.root)
        self.history_path = self.paths.progress / wakeup.HISTORY_FILE
        self._diagnosis = DiagnosisCache(self.root, background=True, enabled=self.diagnosis,
                                         on_done=self._event.set)
        self._watched: dict[tuple[str, bool], Any] = {}
        self._observer: Any = None

    # -- one refresh -------------------------------------------------------------------------
    def refresh(self, *, diagnosis: DiagnosisCache | None = None) -> bool:
        """Rebuild WAKE_UP.md now; write it (atomically) only if its content changed. True if written."""
        self.refreshes += 1
        snap = wakeup.read_snapshot(self.root)
        snap.diagnosis = diagnosis or self._diagnosis
        history = wakeup.RunHistory.load(self.history_path)
        now = time.time()
        for run in snap.runs:
            if run.error is None:
                history.add(wakeup.rel_path(run.path, self.root), run.progress, now)
        text = wakeup.build_wake_up(snap, history)
        if snap.runs:
            history.save(self.history_path)
        target = self.paths.wake_up
        try:
            old = target.read_text(encoding="utf-8")
        except FileNotFoundError:
            old = None
        if old is not None and _without_stamp(old) == _without_stamp(text):
            return False
        wakeup.atomic_write(target, text)
        self.writes += 1
        if self.on_write:
            self.on_write(target)
        return True

    def snapshot(self) -> Path:
        """Write WAKE_UP.md once (reward diagnosis inline) and return its path."""
        self.refresh(diagnosis=DiagnosisCache(self.root, background=False, enabled=self.diagnosis))
        return self.paths.wake_up

    # -- the loop ----------------------------------------------------------------------------
    def stop(self) -> None:
        self._stop.set()
        self._event.set()

    def run(self, duration: float | None = None) -> None:
        """Watch until :meth:`stop`, Ctrl-C, or ``duration`` seconds."""
        deadline = None if duration is None else time.monotonic() + duration
        if self.poll:
            self._run_poll(deadline)
            return
        from watchdog.observers import Observer

        # Watch first, then build: a change made while the first file is built is not lost.
        self._observer = Observer()
        self._ensure_watches()
        self._observer.start()
        try:
            self.refresh()
            self.ready.set()
            self._run_events(deadline)
        finally:
            self._observer.stop()
            self._observer.join(timeout=5)

    def _remaining(self, deadline: float | None, wait: float) -> float | None:
        if deadline is None:
            return wait
        left = deadline - time.monotonic()
        return None if left <= 0 else min(wait, left)

    def _run_events(self, deadline: float | None) -> None:
        last = time.monotonic()
        while not self._stop.is_set():
            wait = self._remaining(deadline, max(0.0, self.interval - (time.monotonic() - last)))
            if wait is None:
                return
            if self._event.wait(wait):
                if self._stop.is_set():
                    return
                first = time.monotonic()
                while True:  # debounce: wait for quiet, but not past max_delay
                    self._event.clear()
                    quiet = min(self.debounce, max(0.0, first + self.max_delay - time.monotonic()))
                    if quiet <= 0 or not self._event.wait(quiet):
                        break
                    if self._stop.is_set():
                        return
            elif deadline is not None and time.monotonic() >= deadline:
                return
            self._ensure_watches()
            self.refresh()
            last = time.monotonic()

    def _run_poll(self, deadline: float | None) -> None:
        signature = self._signature()
        self.refresh()
        self.ready.set()
        last = time.monotonic()
        while not self._stop.is_set():
            wait = self._remaining(deadline, self.interval)
            if wait is None:
                return
            if self._stop.wait(wait):
                return
            current = self._signature()
            if current != signature or time.monotonic() - last >= max(self.interval, LIVENESS_REFRESH_S):
                signature = current
                self.refresh()
                last = time.monotonic()

    def _signature(self) -> tuple:
        files = [self.paths.state_file, *progress_files(self.paths.runs)]
        out = []
        for path in files:
            try:
                st = path.stat()
                out.append((str(path), st.st_ino, st.st_size, st.st_mtime_ns))
            except FileNotFoundError:
                out.append((str(path), None))
        return tuple(sorted(out, key=str))

    # -- watchdog ----------------------------------------------------------------------------
    def _wanted(self) -> list[tuple[Path, bool]]:
        """Folders to watch: the state's folder and runs/ (recursive), or their nearest parent."""
        wanted = []
        for folder, recursive in ((self.paths.progress, False), (self.paths.runs, True)):
            if folder.is_dir():
                wanted.append((folder, recursive))
            else:
                parent = folder.parent
                while not parent.is_dir() and parent != self.root:
                    parent = parent.parent
                wanted.append((parent, False))
        return list(dict.fromkeys(wanted))

    def _ensure_watches(self) -> None:
        from watchdog.events import FileSystemEventHandler

        watcher = self

        class _Handler(FileSystemEventHandler):
            def on_any_event(self, event) -> None:
                if is_relevant(event):
                    watcher._event.set()

        wanted = {(str(folder), recursive) for folder, recursive in self._wanted()}
        for key in list(self._watched):
            if key not in wanted:
                self._observer.unschedule(self._watched.pop(key))
        for folder, recursive in sorted(wanted):
            if (folder, recursive) not in self._watched:
                self._watched[(folder, recursive)] = self._observer.schedule(_Handler(), folder, recursive=recursive)


def _without_stamp(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith("Generated "))
