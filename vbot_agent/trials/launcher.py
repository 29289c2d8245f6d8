"""The parent side of a trial: spawn ``vbot_agent.trials.trial``, relay its intermediate scores,
stop it when the pruner or the campaign says so, and collect ``result.json``.

The trial runs in its own session (process group), so the campaign can kill the trial and its
trainer together, and a Ctrl-C in the terminal reaches the campaign only (which then stops the
trial gracefully).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vbot_agent.config import to_dict
from vbot_agent.fileio import atomic_write_yaml, read_json
from vbot_agent.trials.outcomes import StopCause, TrialOutcome
from vbot_agent.trials.trial import EVENTS_FILE, RESULT_FILE, TRIAL_ENV, TrialConfig


@dataclass
class TrialProcessOutcome:
    result: dict[str, Any]  # result.json (or a synthetic fail when the trial process died)
    stopped_by: StopCause | None  # None when the trial ended by itself
    pid: int
    events: list[dict[str, Any]]


class EventReader:
    """Reads complete new lines of ``events.jsonl`` (a partial last line waits for the next call)."""

    def __init__(self, path: Path) -> None:
        self.path, self.offset = path, 0

    def read(self) -> list[dict[str, Any]]:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
        except FileNotFoundError:
            return []
        end = chunk.rfind(b"\n")
        if end < 0:
            return []
        self.offset += end + 1
        return [json.loads(line) for line in chunk[: end + 1].decode().splitlines() if line.strip()]


def write_trial_config(path: Path, cfg: TrialConfig) -> None:
    atomic_write_yaml(path, to_dict(cfg))


def run_trial_process(
    config_path: Path,
    cfg: TrialConfig,
    *,
    on_event: Callable[[dict[str, Any]], bool],
    should_stop: Callable[[], bool],
    on_tick: Callable[[int], None],
    heartbeat_s: float,
) -> TrialProcessOutcome:
    """Run the trial subprocess to its end.

    ``on_event(event)`` gets each intermediate evaluation and returns True to prune the trial.
    ``should_stop()`` True stops it as interrupted. ``on_tick(pid)`` runs every ``heartbeat_s``.
    """
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / RESULT_FILE).unlink(missing_ok=True)
    env = {**os.environ, TRIAL_ENV: cfg.tag, "PYTHONUNBUFFERED": "1"}
    with open(out / "trial.log", "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "vbot_agent.trials.trial", "--config", str(config_path)],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                start_new_session=True)
    reader = EventReader(out / EVENTS_FILE)
    events: list[dict[str, Any]] = []
    stopped_by: str | None = None
    terminated_at: float | None = None
    last_tick = 0.0
    try:
        while proc.poll() is None:
            for event in reader.read():
                events.append(event)
                if stopped_by is None and on_event(event):
                    stopped_by, terminated_at = StopCause.PRUNED, time.time()
                    proc.terminate()
            if stopped_by is None and should_stop():
                stopped_by, terminated_at = StopCause.INTERRUPTED, time.time()
                proc.terminate()
            if terminated_at is not None and time.time() - terminated_at > cfg.stop_s + 15:
                _kill_group(proc.pid)
            if time.time() - last_tick >= heartbeat_s:
                on_tick(proc.pid)
                last_tick = time.time()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=cfg.poll_s)  # returns as soon as the trial exits
    finally:
        if proc.poll() is None:  # the campaign itself is failing: never leave a trial behind
            _kill_group(proc.pid)
            proc.wait()
        _kill_group(proc.pid)  # a trainer left behind by a trial that crashed
    events += reader.read()
    result = read_json(out / RESULT_FILE)
    if result is None:
        result = {"status": TrialOutcome.FAIL, "error": f"trial process exited with code {proc.returncode} without a result; "
                                             f"see {out / 'trial.log'}", "metrics": None, "score": None,
                  "run_dir": None, "checkpoint": None, "intermediate": events}
    return TrialProcessOutcome(result=result, stopped_by=stopped_by, pid=proc.pid, events=events)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group may be gone already
        os.killpg(pgid, signal.SIGKILL)


def kill_orphans(tags: set[str]) -> list[int]:
    """SIGKILL the processes (trial and trainer) whose environment has ``VBOT_TRIAL_ID`` in ``tags``.

    Used by ``--resume``: a campaign killed with ``kill -9`` leaves its trial behind; the trial
    notices and stops within seconds, this makes sure. Returns the pids killed.
    """
    if not tags:
        return []
    wanted = {f"{TRIAL_ENV}={tag}".encode() for tag in tags}
    killed = []
    for proc_dir in Path("/proc").glob("[0-9]*"):
        try:
            environ = set((proc_dir / "environ").read_bytes().split(b"\0"))
        except OSError:
            continue
        if environ & wanted:
            pid = int(proc_dir.name)
            if pid == os.getpid():
                continue
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except ProcessLookupError:
                pass
    return killed
