"""Benchmark `vbot mcp`: seconds from spawning the server to the answer of its first tools/list.

    python benchmarks/mcp_startup.py [--repeats 5]

Prints one JSON object. Each repeat spawns ``python -m vbot_agent.cli mcp --workspace WS`` on a
workspace made by ``vbot init``, speaks JSON-RPC over its stdin/stdout as a coding agent does
(initialize, notifications/initialized, tools/list) and stops the clock when the tool list
arrives. Two references run in the same loop, alternated with it so that machine load hits all
three alike: importing the MCP SDK alone (``import mcp.server.lowlevel, mcp.server.stdio``, the
floor no server built on the SDK can beat) and ``vbot --help`` (the CLI's own start-up).
Medians are reported, wall-clock and CPU (user + system of the child, which load inflates far less
than wall time on a shared machine); the target is < 1 s to the first tool list.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROTOCOL_VERSION = "2025-11-25"  # the handshake era that coding agents speak today
TARGET_S = 1.0


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)}


def _send(proc: subprocess.Popen, message: dict) -> None:
    proc.stdin.write(json.dumps(message) + "\n")
    proc.stdin.flush()


def _reply(proc: subprocess.Popen, request_id: int) -> dict:
    """The response to ``request_id`` (notifications the server sends first are skipped)."""
    while True:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the server exited before answering request {request_id}: {proc.stderr.read()[-2000:]}")
        message = json.loads(line)
        if message.get("id") == request_id:
            if "error" in message:
                raise RuntimeError(f"request {request_id} failed: {message['error']}")
            return message["result"]


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_to_tool_list(workspace: Path) -> tuple[float, int]:
    """Seconds from spawn to the tools/list answer, and how many tools it listed."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "vbot_agent.cli", "mcp", "--workspace", str(workspace)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env(), cwd=workspace)
    try:
        _send(proc, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": PROTOCOL_VERSION, "capabilities": {},
            "clientInfo": {"name": "mcp_startup_benchmark", "version": "1"}}})
        _reply(proc, 1)
        _send(proc, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        _send(proc, {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}})
        tools = _reply(proc, 2)["tools"]
        elapsed = time.perf_counter() - start
    finally:
        proc.stdin.close()  # EOF: the server shuts down as it does when an agent disconnects
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return elapsed, len(tools)


def time_command(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=_env(), timeout=120)
    return time.perf_counter() - start


def _with_cpu(measure, *args) -> tuple[float, float]:
    """(wall s, child CPU s) of ``measure(*args)``; the CPU time covers the child's whole life."""
    cpu = _children_cpu_s()
    result = measure(*args)
    wall = result[0] if isinstance(result, tuple) else result
    return wall, _children_cpu_s() - cpu


def _stats(pairs: list[tuple[float, float]]) -> dict:
    return {"median_wall": round(statistics.median(w for w, _ in pairs), 3),
            "median_cpu": round(statistics.median(c for _, c in pairs), 3),
            "wall_runs": [round(w, 3) for w, _ in pairs], "cpu_runs": [round(c, 3) for _, c in pairs]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp) / "ws"
        subprocess.run([sys.executable, "-m", "vbot_agent.cli", "init", str(workspace)], check=True,
                       stdout=subprocess.DEVNULL, env=_env())
        tools = time_to_tool_list(workspace)[1]  # warm the file cache once, not timed
        startup, sdk_import, cli_help = [], [], []
        for _ in range(args.repeats):
            startup.append(_with_cpu(time_to_tool_list, workspace))
            sdk_import.append(_with_cpu(time_command, [sys.executable, "-c", "import mcp.server.lowlevel, mcp.server.stdio"]))
            cli_help.append(_with_cpu(time_command, [sys.executable, "-m", "vbot_agent.cli", "--help"]))
    median = statistics.median(w for w, _ in startup)
    print(json.dumps({
        "benchmark": "vbot mcp start-up to first tool list",
        "repeats": args.repeats,
        "tools_listed": tools,
        "startup_to_tool_list_s": _stats(startup),
        "sdk_import_only_s": _stats(sdk_import),
        "vbot_help_s": _stats(cli_help),
        "target_s": TARGET_S,
        "meets_target": median < TARGET_S,
        "cpus": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "python": sys.version.split()[0],
    }, indent=2))


if __name__ == "__main__":
    main()
