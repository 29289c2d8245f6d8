"""How fast WAKE_UP.md follows the campaign state, and how fast the agent commands start.

Runs `vbot watch --watch` as a subprocess on a temporary workspace (inotify, then --poll), changes
the campaign state N times (alternating temp-file-then-rename and in-place writes) and measures the
time until WAKE_UP.md shows each change. Also times `vbot --help`, `vbot skills list` and
`vbot ask` (median of several starts) and lists any heavy module they import.

Targets: latency < 2 s with inotify, <= one interval with --poll; --help and skills list
< 0.5 s without importing torch or mujoco. Prints one JSON object.

    python benchmarks/agent_watch_latency.py [--changes 20] [--poll-interval 1.0]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "mujoco", "optuna", "textual", "tensorboard", "gymnasium", "numpy")


def _state(automl_id: str) -> dict:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {"schema_version": 1, "automl_id": automl_id, "status": "running", "mode": "stage", "phase": "search",
            "stage": None, "env_id": "vbot_navigation_section001", "budget_hours": 8.0, "elapsed_hours": 1.0,
            "started_at": now, "updated_at": now, "heartbeat": now, "pid": os.getpid(), "host": os.uname().nodename,
            "storage": "sqlite:///bench.db", "study_name": "bench", "settings": {}, "score_formula": "success_rate",
            "trials": [], "best": None, "curriculum": None}


def _write(path: Path, state: dict, atomic: bool) -> None:
    text = yaml.safe_dump(state)
    if atomic:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    else:
        with open(path, "w") as handle:
            handle.write(text)


def _wait(path: Path, needle: str, timeout: float) -> float | None:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            if needle in path.read_text():
                return time.perf_counter() - start
        except FileNotFoundError:
            pass
        time.sleep(0.005)
    return None


def measure_latency(changes: int, extra: list[str], timeout: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "starter_kit_schedule" / "progress").mkdir(parents=True)
        state_path = root / "starter_kit_schedule" / "progress" / "automl_state.yaml"
        _write(state_path, _state("start"), atomic=True)
        proc = subprocess.Popen([sys.executable, "-m", "vbot_agent.cli", "watch", "--watch", "--no-diagnosis",
                                 "--workspace", str(root), *extra], cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wake = root / "WAKE_UP.md"
            if _wait(wake, "`start`", 30) is None:
                raise SystemExit("the watcher never wrote WAKE_UP.md")
            time.sleep(0.5)
            latencies, missed = [], 0
            for number in range(changes):
                needle = f"change_{number:03d}"
                _write(state_path, _state(needle), atomic=number % 2 == 0)
                took = _wait(wake, f"`{needle}`", timeout)
                if took is None:
                    missed += 1
                else:
                    latencies.append(took)
                time.sleep(0.1)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    ordered = sorted(latencies)
    return {
        "changes": changes,
        "missed": missed,
        "p50_s": round(statistics.median(ordered), 3) if ordered else None,
        "p95_s": round(ordered[int(0.95 * (len(ordered) - 1))], 3) if ordered else None,
        "max_s": round(ordered[-1], 3) if ordered else None,
    }


def time_command(args: list[str], runs: int = 5) -> dict:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "vbot_agent.cli", *args], cwd=REPO, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    probe = subprocess.run([sys.executable, "-X", "importtime", "-m", "vbot_agent.cli", *args], cwd=REPO,
                           capture_output=True, text=True)
    imported = {line.split("|")[-1].strip() for line in probe.stderr.splitlines() if line.startswith("import time:")}
    heavy = sorted({name.split(".")[0] for name in imported if name.split(".")[0] in HEAVY})
    return {"median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3), "heavy_imports": heavy}


# What the agent commands cost on their own: the same CLI with vbot_agent/__init__.py's Gymnasium
# registration stubbed out (it imports gymnasium and numpy for every command).
_NO_GYM = (
    "import sys, types, io, contextlib\n"
    "g = types.ModuleType('gymnasium'); g.registry = {}; g.register = lambda **k: None\n"
    "sys.modules['gymnasium'] = g\n"
    "from vbot_agent.cli import run\n"
    "with contextlib.redirect_stdout(io.StringIO()):\n"
    "    sys.exit(run(sys.argv[1:]))\n"
)


def time_without_gymnasium(args: list[str], runs: int = 5) -> dict:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", _NO_GYM, *args], cwd=REPO, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    bare = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        bare.append(time.perf_counter() - start)
    return {"median_s": round(statistics.median(times), 3), "python_startup_median_s": round(statistics.median(bare), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--poll-interval", type=float, default=1.0)
    args = parser.parse_args()
    result = {
        "inotify": {**measure_latency(args.changes, ["--interval", "60"], timeout=5.0), "target_s": 2.0},
        "poll": {**measure_latency(max(5, args.changes // 2), ["--poll", "--interval", str(args.poll_interval)],
                                   timeout=3 * args.poll_interval + 2), "target_s": args.poll_interval},
        "startup": {
            "vbot --help": time_command(["--help"]),
            "vbot skills list": time_command(["skills", "list"]),
            "vbot ask": time_command(["ask", "resume the campaign", "--json"]),
            "target_s": 0.5,
        },
        "startup_without_gymnasium_registration": {
            "vbot --help": time_without_gymnasium(["--help"]),
            "vbot skills list": time_without_gymnasium(["skills", "list"]),
        },
        "load_average_1min": round(os.getloadavg()[0], 2),
        "cpu_count": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
