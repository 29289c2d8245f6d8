"""vbot's PPO vs Stable-Baselines3 PPO on the same env, same machine, same run, same env steps.

SB3 trains the env through its Gymnasium registration (``vbot_agent/<env_id>``, one physics env per
SB3 worker in a DummyVecEnv: SB3's standard way to use a Gymnasium env); vbot trains the batched env
with its default config. Both are timed end to end over the same number of env steps.
Target: ratio (vbot / SB3 env steps per second) >= 10.

    pip install -e '.[bench]'
    python benchmarks/sb3_compare.py [--env-steps 49152] [--sb3-envs 16]

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path


def vbot_rate(env_id: str, env_steps: int) -> dict:
    from vbot_agent.rl.config import resolve_train_config
    from vbot_agent.rl.runner import OnPolicyRunner

    cfg = resolve_train_config(flags={"env_id": env_id}, overrides=["eval.enabled=false"])
    iterations = max(1, math.ceil(env_steps / cfg.steps_per_iteration))
    with tempfile.TemporaryDirectory() as tmp:
        runner = OnPolicyRunner(cfg, Path(tmp))
        try:
            t0 = time.perf_counter()
            for _ in range(iterations):
                runner.run_iteration()
            elapsed = time.perf_counter() - t0
        finally:
            runner.close()
    steps = iterations * cfg.steps_per_iteration
    return {"env_steps": steps, "seconds": round(elapsed, 2), "env_steps_per_s": round(steps / elapsed, 1),
            "num_envs": cfg.num_envs}


def sb3_rate(env_id: str, env_steps: int, num_envs: int) -> dict:
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    import vbot_agent.sim.gym_wrappers  # noqa: F401  (registers the env ids)

    gym_id = f"vbot_agent/{env_id}"
    torch.set_num_threads(os.cpu_count() or 1)
    venv = make_vec_env(gym_id, n_envs=num_envs, seed=0)
    # SB3 defaults except n_steps, so one rollout is 2048 steps as in SB3's default single-env setup.
    model = PPO("MlpPolicy", venv, n_steps=max(1, 2048 // num_envs), batch_size=64, seed=0, device="cpu",
                verbose=0)
    t0 = time.perf_counter()
    model.learn(total_timesteps=env_steps)
    elapsed = time.perf_counter() - t0
    steps = model.num_timesteps
    venv.close()
    return {"env_steps": steps, "seconds": round(elapsed, 2), "env_steps_per_s": round(steps / elapsed, 1),
            "num_envs": num_envs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="vbot_navigation_section001")
    parser.add_argument("--env-steps", type=int, default=49152)
    parser.add_argument("--sb3-envs", type=int, default=16)
    args = parser.parse_args()
    try:
        import stable_baselines3  # noqa: F401
    except ImportError:
        sys.exit("stable-baselines3 is not installed: pip install -e '.[bench]'")
    ours = vbot_rate(args.env, args.env_steps)
    sb3 = sb3_rate(args.env, ours["env_steps"], args.sb3_envs)
    out = {"env_id": args.env, "cpu_count": os.cpu_count(), "vbot": ours, "sb3": sb3,
           "ratio": round(ours["env_steps_per_s"] / sb3["env_steps_per_s"], 2)}
    json.dump(out, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
