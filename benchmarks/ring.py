"""The competition ring from scratch: the shipped `ring` plan, then the competition's own scoring.

Creates a workspace in a temporary folder, runs ``vbot curriculum run --plan ring`` (3-8 m targets,
then the competition's own layout; the real trainer and evaluations), then plays the last stage's
best checkpoint with ``vbot play --competition --episodes 50`` (5 rounds of 10 robots on the
10-12 m ring) and prints one JSON object: per stage the env steps, wall time and success; the whole
training's wall time; the points of each round. The target: 20 of 20 in every round within 20 minutes of training.

    python benchmarks/ring.py [--workspace DIR] [--rounds 5] [--seed 0]

Training takes the machine's cores: run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from vbot_agent.workspace.init import init_workspace

REPO = Path(__file__).resolve().parents[1]
PLAN = REPO / "starter_kit_schedule/curricula/ring.yaml"


def vbot(root: Path, *args: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "vbot_agent.cli", "--workspace", str(root), *args, "--json"],
                          capture_output=True, text=True, cwd=root, env={**os.environ, "PYTHONPATH": str(REPO)})
    if proc.returncode != 0:
        raise SystemExit(f"vbot {' '.join(args)} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", help="default: a temporary folder")
    parser.add_argument("--rounds", type=int, default=5, help="competition rounds of 10 robots")
    parser.add_argument("--seed", type=int, default=0, help="the plan's seed")
    args = parser.parse_args()

    root = Path(args.workspace or tempfile.mkdtemp(prefix="vbot_ring_"))
    init_workspace(root)
    plan = yaml.safe_load(PLAN.read_text())
    plan["seed"] = args.seed
    plan_path = root / "ring_bench.yaml"
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False))

    t0 = time.time()
    out = vbot(root, "curriculum", "run", "--plan", str(plan_path))
    train_s = time.time() - t0
    stages = [{"name": s["name"], "status": s["status"], "env_steps": s["env_steps"], "wall_s": s["wall_s"],
               "best_success_rate": s["best_success_rate"], "best_checkpoint": s["best_checkpoint"]}
              for s in out["stages"]]
    policy = root / stages[-1]["best_checkpoint"]
    played = vbot(root, "play", "--env", "vbot_navigation_section001", "--policy", str(policy), "--competition",
                  "--episodes", str(10 * args.rounds))
    print(json.dumps({"benchmark": "ring", "workspace": str(root), "seed": args.seed, "training_wall_s": round(train_s, 1),
                      "stages": stages, "policy": str(policy), "competition": played}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
