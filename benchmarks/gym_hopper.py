"""The trainer on a standard task: Gymnasium's Hopper-v5 against a published PPO result.

Trains ``gym:Hopper-v5`` for 1M env steps with the PPO paper's MuJoCo settings
(``benchmarks/configs/hopper_ppo.yaml``) through ``vbot train``, evaluates the final policy with
``vbot play`` (deterministic, 20 episodes) and prints one JSON object next to the reference:
rl-baselines3-zoo's benchmark table, Stable-Baselines3 PPO on Hopper-v3 after 1M steps,
2410 +- 10 (deterministic evaluation). Hopper-v5 has the same dynamics and reward as v3 with
MuJoCo's maintained bindings.

    python benchmarks/gym_hopper.py [--max-env-steps 1000000] [--seed 0] [--workspace DIR]
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

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "benchmarks/configs/hopper_ppo.yaml"
REFERENCE = {"source": "rl-baselines3-zoo benchmark.md: ppo Hopper-v3, 1M steps", "mean_return": 2410.4,
             "std_return": 10.0}


def vbot(args: list[str], cwd: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "vbot_agent.cli", *args, "--json"], cwd=cwd, env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"vbot {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-env-steps", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--workspace", help="default: a temporary folder")
    args = parser.parse_args()
    root = Path(args.workspace or tempfile.mkdtemp(prefix="vbot_hopper_"))
    root.mkdir(parents=True, exist_ok=True)

    t0 = time.time()
    train = vbot(["train", "--env", "gym:Hopper-v5", "--config", str(CONFIG), "--max-env-steps",
                  str(args.max_env_steps), "--seed", str(args.seed)], root)
    train_s = time.time() - t0
    last = Path(train["run_dir"]) / "checkpoints" / "last.pt"
    play = vbot(["play", "--env", "gym:Hopper-v5", "--policy", str(last), "--episodes", str(args.episodes)], root)
    print(json.dumps({
        "benchmark": "gym_hopper", "env_id": "gym:Hopper-v5", "config": str(CONFIG.relative_to(REPO)),
        "env_steps": train["env_steps"], "train_wall_s": round(train_s, 1),
        "train_env_steps_per_s": round(train["env_steps_per_s"], 1),
        "final_policy": {"episodes": play["episodes"], "mean_return": round(play["mean_return"], 1)},
        "best_eval_return_during_training": train.get("best_checkpoint_score"),
        "reference": REFERENCE, "run_dir": train["run_dir"],
    }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
