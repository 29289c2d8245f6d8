"""End to end: the shipped spawn-distance curriculum (section001, targets 2-5 m -> 5-8 m -> 8-11 m).

Creates a workspace in a temporary folder, writes a copy of
``starter_kit_schedule/curricula/spawn_distance.yaml`` with the budgets given here, runs
``vbot curriculum run`` with the real trainer (``vbot train`` subprocesses, warm-started stage to
stage, real evaluation episodes), and prints one JSON object: per stage the env steps used, the
success rate reached (best and last evaluation), promotion, wall time; and the total.

    python benchmarks/curriculum_spawn_distance.py [--steps 20000000] [--num-envs 1024]
        [--every 1000000] [--episodes 32] [--success-rate X] [--min-env-steps N]

The plan's own criteria apply unless --success-rate / --min-env-steps replace them (a short smoke
run: --steps 300000 --success-rate 0 walks the whole chain without expecting a trained robot).
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
PLAN = REPO / "starter_kit_schedule/curricula/spawn_distance.yaml"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, help="env steps per stage (default: the plan's)")
    parser.add_argument("--num-envs", type=int, help="default: the plan's")
    parser.add_argument("--every", type=int, help="env steps between evaluations (default: the plan's)")
    parser.add_argument("--episodes", type=int, help="episodes per evaluation (default: the plan's)")
    parser.add_argument("--success-rate", type=float, help="replace every stage's promotion threshold")
    parser.add_argument("--min-env-steps", type=int, help="replace every stage's min_env_steps")
    parser.add_argument("--workspace", help="default: a temporary folder")
    args = parser.parse_args()

    root = Path(args.workspace or tempfile.mkdtemp(prefix="vbot_curriculum_"))
    init_workspace(root)
    plan = yaml.safe_load(PLAN.read_text())
    if args.num_envs:
        plan["num_envs"] = args.num_envs
    if args.every:
        plan["evaluation"]["every_env_steps"] = args.every
    if args.episodes:
        plan["evaluation"].update(episodes=args.episodes, final_episodes=args.episodes)
    for stage in plan["stages"]:
        if args.steps:
            stage["steps"] = args.steps
        if args.success_rate is not None:
            stage["promote"]["success_rate"] = args.success_rate
        if args.min_env_steps is not None:
            stage["promote"]["min_env_steps"] = args.min_env_steps
        # a short budget keeps room for `patience` evaluations after min_env_steps
        room = stage["steps"] - stage["promote"].get("patience", 1) * plan["evaluation"]["every_env_steps"]
        stage["promote"]["min_env_steps"] = max(0, min(stage["promote"].get("min_env_steps", 0), room))
    plan_path = root / "spawn_distance_bench.yaml"
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False))

    t0 = time.time()
    proc = subprocess.run([sys.executable, "-m", "vbot_agent.cli", "--workspace", str(root), "curriculum", "run",
                           "--plan", str(plan_path), "--json"], capture_output=True, text=True, cwd=root,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    wall = time.time() - t0
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        return proc.returncode
    out = json.loads(proc.stdout)
    stages = []
    for s in out["stages"]:
        last = s.get("last_evaluation") or {}
        stages.append({
            "stage": s["name"], "env_id": s["env_id"],
            "target_distance_m": ((s.get("env") or {}).get("spawn") or {}).get("target_distance"),
            "status": s["status"], "env_steps": s["env_steps"], "budget_steps": s["steps"],
            "best_success_rate": s["best_success_rate"], "last_success_rate": last.get("success_rate"),
            "evaluations": s["evaluations"], "wall_s": s["wall_s"], "criteria": s["criteria"],
        })
    print(json.dumps({"plan": str(plan_path), "workspace": str(root), "status": out["status"],
                      "num_envs": plan["num_envs"], "cpu_count": os.cpu_count(), "total_wall_s": round(wall, 1),
                      "stages": stages}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
