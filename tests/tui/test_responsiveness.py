"""The UI keeps handling input while a subprocess floods the visible log.

The check is behavioural, not a speed: keys posted every 50 ms must be handled while the stream is
still running (a UI blocked by the log would handle them only after it ends). Latency figures are
the benchmark's job (benchmarks/tui_startup.py).
"""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path

from tests.tui.workspace_fixture import make_workspace

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "tui_startup.py"


def _bench():
    spec = importlib.util.spec_from_file_location("tui_startup_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_input_is_handled_quickly_while_output_streams(tmp_path):
    result = asyncio.run(_bench().measure_input_latency(make_workspace(tmp_path / "ws"), seconds=1.5))
    assert result["lines_streamed"] > 1000, result  # the log really was busy
    assert result["keys_sent"] >= 3, result  # one every 50 ms, fewer on a loaded machine
    # all but the last key or two (posted just before the stream was stopped) are handled during it
    assert result["keys_handled_while_streaming"] >= result["keys_sent"] - 2, result
