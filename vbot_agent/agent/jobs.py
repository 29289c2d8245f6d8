"""Actions launched as background jobs: ``python -m vbot_agent.cli <words> <flags>`` subprocesses.

The TUI and the MCP server both launch actions through this module. A :class:`Job` keeps its output
lines (bounded) and its state; :func:`run_job` is a coroutine the caller runs on its event loop (a
Textual worker, an anyio task group): it reads the child's output in chunks (never blocking the
loop) and calls ``on_output`` after each batch, so a UI redraws once per batch, not per line.
Children start in their own session, so stopping a job signals its whole process group and Ctrl+C
in the parent never reaches them. A campaign's trials run in sessions of their own; the campaign
stops them when it receives the job's SIGINT or SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from vbot_agent.errors import UsageError

MAX_LINES = 20_000  # lines kept per job; older ones are dropped (and counted)
BATCH_S = 0.03  # pause between reads so a chatty child yields batches (s)
STOP_ESCALATION_S = (5.0, 10.0)  # SIGINT, then SIGTERM after 5 s, then SIGKILL after 10 s


@dataclass
class Job:
    """One launched action: its display command, argv, output and outcome."""

    id: int
    action: str
    command: list[str]  # the `vbot ...` line shown to the user
    argv: list[str]  # what actually runs
    cwd: Path | None = None
    values: dict[str, Any] = field(default_factory=dict)  # the form values, to edit and rerun
    columns: int = 120  # terminal width the child formats its output for (the log pane's width)
    lines: list[str] = field(default_factory=list)
    dropped: int = 0
    status: str = "starting"  # starting | running | stopping | finished | failed | stopped
    returncode: int | None = None
    started: float = field(default_factory=time.time)
    ended: float | None = None
    pid: int | None = None
    _process: Any = None
    _partial: str = ""

    @property
    def running(self) -> bool:
        return self.status in ("starting", "running", "stopping")

    @property
    def title(self) -> str:
        return " ".join(self.command)

    def append(self, text: str) -> int:
        """Add decoded output; returns how many complete lines were added. ``\\r`` rewrites count as lines."""
        text = (self._partial + text).replace("\r\n", "\n").replace("\r", "\n")
        *complete, self._partial = text.split("\n")
        self.lines.extend(complete)
        overflow = len(self.lines) - MAX_LINES
        if overflow > 0:
            del self.lines[:overflow]
            self.dropped += overflow
        return len(complete)

    @property
    def line_count(self) -> int:
        """Complete lines seen so far, the dropped ones included (the number of the next line)."""
        return self.dropped + len(self.lines)

    def log(self, since: int | None = None, limit: int = 100) -> dict[str, Any]:
        """Up to ``limit`` output lines: from line number ``since`` (0-based, dropped lines counted),
        or the last ``limit`` lines when ``since`` is None.

        Returns {"first_line", "next_line", "lines", "missed"}; pass ``next_line`` back as ``since``
        to read only what came after. ``missed`` counts requested lines already dropped (MAX_LINES).
        """
        total = self.line_count
        start = max(0, total - limit) if since is None else max(0, min(since, total))
        missed = max(0, self.dropped - start)
        start = max(start, self.dropped)
        end = min(total, start + limit)
        lines = self.lines[start - self.dropped:end - self.dropped]
        return {"first_line": start, "next_line": end, "lines": lines, "missed": missed}

    def summary(self) -> dict[str, Any]:
        """A JSON-ready description: id, action, command, status, exit code, pid, times (s), lines."""
        end = self.ended if self.ended is not None else time.time()
        return {
            "job_id": self.id, "action": self.action, "command": shlex.join(self.command), "status": self.status,
            "running": self.running, "returncode": self.returncode, "pid": self.pid,
            "started": _iso(self.started), "ended": _iso(self.ended) if self.ended is not None else None,
            "elapsed_s": round(end - self.started, 1), "lines": self.line_count,
        }

    def flush(self) -> None:
        if self._partial:
            self.lines.append(self._partial)
            self._partial = ""

    def stop(self) -> None:
        """Ask the job to stop: SIGINT to its process group now, escalating if it lingers."""
        if not self.running or self._process is None:
            return
        self.status = "stopping"
        self.signal_group(signal.SIGINT)
        loop = asyncio.get_running_loop()
        for delay, sig in zip(STOP_ESCALATION_S, (signal.SIGTERM, signal.SIGKILL)):
            loop.call_later(delay, self._signal_if_running, sig)

    def _signal_if_running(self, sig: int) -> None:
        if self.running:
            self.signal_group(sig)

    def signal_group(self, sig: int) -> None:
        """Send ``sig`` to the job's whole process group now (no escalation); a job never started or
        already gone is left alone. Safe in a signal handler: no event loop needed."""
        if self.pid is None:
            return
        with contextlib.suppress(ProcessLookupError):  # already gone: nothing to stop
            os.killpg(self.pid, sig)


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class JobBook:
    """The jobs of one TUI or MCP session, numbered from 1; finished ones stay until forgotten."""

    def __init__(self) -> None:
        self.jobs: list[Job] = []
        self._next_id = 1

    def new(self, action: str, command: list[str], argv: list[str], **fields: Any) -> Job:
        """Record a job (not started yet; run it with :func:`run_job`)."""
        job = Job(id=self._next_id, action=action, command=command, argv=argv, **fields)
        self._next_id += 1
        self.jobs.append(job)
        return job

    def get(self, job_id: int) -> Job:
        """The job with ``job_id``; UsageError naming the known ids otherwise."""
        for job in self.jobs:
            if job.id == job_id:
                return job
        known = ", ".join(str(j.id) for j in self.jobs) or "none yet"
        raise UsageError(f"no job {job_id} in this session (jobs: {known})")

    def running(self) -> list[Job]:
        return [j for j in self.jobs if j.running]


def vbot_argv(command: list[str], workspace: Path | None) -> list[str]:
    """``["vbot", "train", ...]`` -> the argv that runs it with this interpreter (and workspace)."""
    argv = [sys.executable, "-m", "vbot_agent.cli", *command[1:]]
    if workspace is not None:
        argv += ["--workspace", str(workspace)]
    return argv


def child_env(extra: Mapping[str, str] | None = None, columns: int = 120) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"  # stream output line by line instead of in 8 KiB blocks
    env["COLUMNS"] = str(columns)
    # The child must import the same vbot_agent as this process, even when it is not installed
    # (a source checkout) and the child runs in the workspace folder.
    import vbot_agent

    package_parent = str(Path(vbot_agent.__file__).resolve().parents[1])
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if package_parent not in paths:
        env["PYTHONPATH"] = os.pathsep.join([package_parent, *paths])
    env.update(extra or {})
    return env


async def run_job(job: Job, on_output: Callable[[Job], None]) -> Job:
    """Run ``job.argv`` to completion, feeding its merged stdout/stderr into ``job.lines``."""
    try:
        process = await asyncio.create_subprocess_exec(
            *job.argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, cwd=job.cwd, env=child_env(columns=job.columns), start_new_session=True,
        )
    except OSError as exc:
        job.append(f"could not start {job.argv[0]}: {exc}\n")
        job.status, job.returncode, job.ended = "failed", None, time.time()
        on_output(job)
        return job
    job._process, job.pid = process, process.pid
    if job.status == "starting":
        job.status = "running"
    on_output(job)
    assert process.stdout is not None
    try:
        while True:
            chunk = await process.stdout.read(65536)
            if not chunk:
                break
            job.append(chunk.decode("utf-8", errors="replace"))
            on_output(job)
            await asyncio.sleep(BATCH_S)
        returncode = await process.wait()
    except asyncio.CancelledError:  # the app is closing: do not leave the child behind
        job.signal_group(signal.SIGTERM)
        raise
    job.flush()
    job.returncode, job.ended = returncode, time.time()
    if job.status == "stopping":
        job.status = "stopped"
    else:
        job.status = "finished" if returncode == 0 else "failed"
    job.append(f"[exit code {returncode}]\n")
    on_output(job)
    return job
