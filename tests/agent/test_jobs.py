"""The job runner shared by the TUI and the MCP server: log paging, ids, stopping a process group."""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap
import time

import pytest

from vbot_agent.agent import jobs
from vbot_agent.agent.jobs import Job, JobBook, run_job
from vbot_agent.errors import UsageError


def test_log_pages_by_line_number_across_dropped_lines(monkeypatch):
    monkeypatch.setattr(jobs, "MAX_LINES", 5)
    job = Job(id=1, action="envs", command=["vbot", "envs"], argv=["x"])
    job.append("".join(f"l{i}\n" for i in range(8)) + "partial")
    # 8 complete lines, the first 3 dropped (5 kept): l3..l7 hold line numbers 3..7
    assert job.line_count == 8 and job.dropped == 3
    assert job.log(limit=2) == {"first_line": 6, "next_line": 8, "lines": ["l6", "l7"], "missed": 0}
    assert job.log(since=1, limit=3) == {"first_line": 3, "next_line": 6, "lines": ["l3", "l4", "l5"], "missed": 2}
    assert job.log(since=8) == {"first_line": 8, "next_line": 8, "lines": [], "missed": 0}
    assert job.log(since=99)["lines"] == []


def test_job_book_numbers_jobs_and_names_the_known_ones():
    book = JobBook()
    first = book.new("envs", ["vbot", "envs"], ["x"])
    second = book.new("status", ["vbot", "status"], ["y"])
    assert (first.id, second.id) == (1, 2) and book.get(2) is second
    with pytest.raises(UsageError, match=r"no job 3 in this session \(jobs: 1, 2\)"):
        book.get(3)
    assert book.running() == [first, second]  # "starting" counts as running until the runner ends it


# A parent that ignores SIGINT and starts a grandchild that ignores it too and holds the output pipe:
# only the escalation to the whole process group ends both.
STUBBORN = textwrap.dedent("""
    import signal, subprocess, sys, time
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    child = subprocess.Popen([sys.executable, "-c",
        "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); print('child', flush=True); time.sleep(600)"])
    print("grandchild", child.pid, flush=True)
    time.sleep(600)
""")


def test_stop_escalates_to_the_whole_process_group(monkeypatch):
    monkeypatch.setattr(jobs, "STOP_ESCALATION_S", (0.5, 1.0))

    async def body() -> tuple[Job, int]:
        job = Job(id=1, action="x", command=["vbot", "x"], argv=[sys.executable, "-c", STUBBORN])
        runner = asyncio.create_task(run_job(job, lambda _job: None))
        while not any(line.startswith("grandchild") for line in job.lines):
            await asyncio.sleep(0.05)
        grandchild = int(next(line for line in job.lines if line.startswith("grandchild")).split()[1])
        job.stop()
        await asyncio.wait_for(runner, timeout=30)
        return job, grandchild

    job, grandchild = asyncio.run(body())
    assert job.status == "stopped" and job.returncode is not None and job.returncode < 0  # killed by a signal
    assert job.summary()["returncode"] == job.returncode and not job.summary()["running"]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(grandchild, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"the grandchild {grandchild} survived the stop")
