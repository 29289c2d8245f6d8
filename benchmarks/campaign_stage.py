"""End to end: a ``stage`` campaign of 4 small trials + one final run on section001.

Creates a workspace (``vbot init``) in a temporary folder, runs ``vbot automl --mode stage`` with the
template search space and the real trainer, and prints one JSON object: wall time, best score,
trial states, elapsed hours recorded in the state, and where the report is.

    python benchmarks/campaign_stage.py [--trial-steps 50000] [--final-steps 200000] [--num-envs 256]
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="vbot_navigation_section001")
    parser.add_argument("--hp-trials", type=int, default=4)
    parser.add_argument("--trial-steps", type=int, default=50_000)
    parser.add_argument("--final-steps", type=int, default=200_000)
    parser.add_argument("--num-envs", type=int, default=256)
    parser.add_argument("--budget-hours", type=float, default=1.0)
    parser.add_argument("--every", type=int, default=25_000, help="env steps between intermediate evaluations")
    parser.add_argument("--workspace", help="default: a temporary folder")
    args = parser.parse_args()

    root = Path(args.workspace or tempfile.mkdtemp(prefix="vbot_stage_"))
    init_workspace(root)
    config = yaml.safe_load((root / "starter_kit_schedule/templates/automl.yaml").read_text())
    config.update(num_envs=args.num_envs, evaluation={**config["evaluation"], "every_env_steps": args.every})
    config_path = root / "starter_kit_schedule/templates/automl.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    argv = [sys.executable, "-m", "vbot_agent.cli", "--workspace", str(root), "automl", "--mode", "stage",
            "--env", args.env, "--hp-trials", str(args.hp_trials), "--trial-steps", str(args.trial_steps),
            "--final-steps", str(args.final_steps), "--budget-hours", str(args.budget_hours), "--json"]
    started = time.time()
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=root, env=os.environ)
    wall = time.time() - started
    if proc.returncode != 0:
        print(json.dumps({"error": proc.stderr.strip().splitlines()[-1:], "rc": proc.returncode,
                          "workspace": str(root)}))
        return 1
    result = json.loads(proc.stdout)
    best = result.get("best") or {}
    print(json.dumps({
        "benchmark": "campaign_stage", "env_id": args.env, "hp_trials": args.hp_trials,
        "trial_steps": args.trial_steps, "final_steps": args.final_steps, "num_envs": args.num_envs,
        "wall_s": round(wall, 1), "status": result["status"], "trials": result["trials"],
        "best_trial": best.get("trial"), "best_score": best.get("score"),
        "best_metrics": best.get("metrics"), "final": (result.get("final") or {}).get("state"),
        "elapsed_hours": result["elapsed_hours"], "report": result["report"],
    }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
