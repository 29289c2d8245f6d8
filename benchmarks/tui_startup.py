"""Benchmark the TUI: start-up to first paint, and input latency while a subprocess streams output.

    python benchmarks/tui_startup.py [--trials 50] [--repeats 3] [--stream-seconds 4] [--terminal]

Prints one JSON object. Start-up is measured in a fresh Python process (imports included) from
just before it is spawned to (a) the first paint of the dashboard and (b) the paint that shows the
workspace's trials; headless, on a fixture workspace with ``--trials`` trials. ``--terminal`` also
times a real terminal (tmux): from spawning `vbot tui` to the campaign id appearing in the pane.

Responsiveness: while a child prints as fast as it can into the jobs log (the worst case; training
prints a line per iteration), a key is posted every 50 ms and the time until its binding runs is
recorded. Targets: first paint < 1.5 s; input handled within 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

FIREHOSE = "import sys\nfor i in range(400000):\n    print(f'iteration {i:7d}  reward {i * 1e-3:10.4f}  ' + 'x' * 60)\n"


def _child(workspace: str, t0: float) -> None:
    """Run the app headless; print times since ``t0`` (parent's clock) of first paint and data shown."""
    from vbot_agent.tui.app import VbotApp
    from vbot_agent.tui.widgets.trials_table import TrialsTable

    marks: dict[str, float] = {"imported": time.time() - t0}

    class TimedApp(VbotApp):
        def on_mount(self) -> None:
            super().on_mount()
            self.call_after_refresh(self._first_paint)
            self.watch(self, "snapshot", self._maybe_done, init=False)

        def _first_paint(self) -> None:
            marks.setdefault("first_paint", time.time() - t0)

        def _maybe_done(self, snap) -> None:
            if snap is not None:
                self.call_after_refresh(self._data_painted)

        def _data_painted(self) -> None:
            if self.screen.query(TrialsTable) and self.screen.query_one(TrialsTable).row_count:
                marks.setdefault("data_shown", time.time() - t0)
                self.exit()

    TimedApp(workspace, refresh_s=0, tensorboard=True).run(headless=True, size=(100, 30))
    print(json.dumps(marks))


def measure_startup(workspace: Path, repeats: int) -> dict:
    runs = []
    for _ in range(repeats):
        t0 = time.time()
        out = subprocess.run([sys.executable, __file__, "--child", str(workspace), repr(t0)], capture_output=True,
                             text=True, timeout=60, cwd=REPO)
        if out.returncode != 0:
            raise SystemExit(f"child failed: {out.stderr[-2000:]}")
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {
        "first_paint_s": [round(r["first_paint"], 3) for r in runs],
        "data_shown_s": [round(r["data_shown"], 3) for r in runs],
        "imports_done_s": [round(r["imported"], 3) for r in runs],
        "first_paint_median_s": round(statistics.median(r["first_paint"] for r in runs), 3),
        "data_shown_median_s": round(statistics.median(r["data_shown"] for r in runs), 3),
    }


def measure_terminal_startup(workspace: Path) -> dict | None:
    """Seconds from spawning `vbot tui` in tmux (100x30) until the campaign id is on screen."""
    if shutil.which("tmux") is None:
        return None
    session = f"vbot-bench-{os.getpid()}"
    command = (f"PYTHONPATH={REPO} {sys.executable} -m vbot_agent.cli tui --workspace {workspace}; sleep 5")
    t0 = time.time()
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "100", "-y", "30", command], check=True)
    try:
        while time.time() - t0 < 30:
            pane = subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout
            if "automl_" in pane:
                return {"campaign_visible_s": round(time.time() - t0, 3), "poll_interval_s": 0.01}
            time.sleep(0.01)
        return {"campaign_visible_s": None, "error": "not visible within 30 s"}
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


async def measure_input_latency(workspace: Path, seconds: float, argv: list[str] | None = None) -> dict:
    """Post a key every 50 ms while a job streams into the visible log; return handling latencies (ms)."""
    from textual import events
    from textual.binding import Binding

    from vbot_agent.tui.app import VbotApp

    latencies: list[float] = []
    posted: list[float] = []

    class ProbeApp(VbotApp):
        BINDINGS = [*VbotApp.BINDINGS, Binding("f12", "probe", "probe", show=False)]

        def action_probe(self) -> None:
            latencies.append((time.perf_counter() - posted.pop(0)) * 1000)

    app = ProbeApp(str(workspace), refresh_s=2.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        job = app.launch("envs", {}, argv=argv or [sys.executable, "-c", FIREHOSE])
        await pilot.pause()
        while not job.lines:
            await asyncio.sleep(0.01)
        end = time.perf_counter() + seconds
        while time.perf_counter() < end and job.running:
            posted.append(time.perf_counter())
            app.post_message(events.Key("f12", None))
            await asyncio.sleep(0.05)
        lines = len(job.lines) + job.dropped
        sent, handled_while_streaming = len(latencies) + len(posted), len(latencies)
        job.stop()
        while job.running:
            await asyncio.sleep(0.05)
    latencies.sort()
    return {
        "keys": len(latencies),
        "keys_sent": sent,
        "keys_handled_while_streaming": handled_while_streaming,
        "lines_streamed": lines,
        "p50_ms": round(statistics.median(latencies), 2) if latencies else None,
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 2) if latencies else None,
        "max_ms": round(latencies[-1], 2) if latencies else None,
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], float(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--stream-seconds", type=float, default=4.0)
    parser.add_argument("--terminal", action="store_true", help="also time a real terminal (needs tmux)")
    args = parser.parse_args()

    from tests.tui.workspace_fixture import make_workspace

    with tempfile.TemporaryDirectory() as tmp:
        workspace = make_workspace(Path(tmp) / "ws", n_trials=args.trials)
        result = {
            "benchmark": "tui_startup",
            "trials": args.trials,
            "cpu_count": os.cpu_count(),
            "startup": measure_startup(workspace, args.repeats),
            "input_latency_while_streaming": asyncio.run(measure_input_latency(workspace, args.stream_seconds)),
            "targets": {"first_paint_s": 1.5, "input_latency_ms": 100},
        }
        if args.terminal:
            result["terminal"] = measure_terminal_startup(workspace)
    result["startup_ok"] = result["startup"]["first_paint_median_s"] < 1.5
    p95 = result["input_latency_while_streaming"]["p95_ms"]
    result["latency_ok"] = p95 is not None and p95 < 100
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
