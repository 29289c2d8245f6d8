"""Env steps/s over physics-only steps/s on every course, alternated step by step in one process.

    python benchmarks/course_env_ratio.py [--num-envs 1024] [--steps 150] [--envs id,id,...]

On a shared machine the load changes from second to second; ``vbot bench env`` alternates rounds of
hundreds of steps, which lets a burst of load land on one side. Here each env step (random actions,
resets, balls, points, observation) is followed by one physics-only step of the same batch (the
smoothed targets and one ``mujoco.rollout`` call, as the env hands MuJoCo), so both sides see the
same load; the ratio is of the summed times. Each env id runs in its own process, so ``max_rss_mb``
is that env's peak memory at ``--num-envs``. Prints one JSON line per env id.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENVS = ("vbot_navigation_section001", "vbot_navigation_section011", "vbot_navigation_section012",
        "vbot_navigation_section013", "vbot_navigation_long_course", "vbot_navigation_terrain")


def measure(env_id: str, num_envs: int, steps: int) -> dict:
    import resource
    import time

    import numpy as np

    from vbot_agent.sim import robot
    from vbot_agent.sim.registry import make_env

    env = make_env(env_id, num_envs, seed=0)
    rng = np.random.default_rng(0)
    actions = rng.uniform(-1.0, 1.0, (16, num_envs, env.action_dim))
    env.reset()
    for i in range(20):  # warm-up: thread pool, caches, height raster, first contacts
        env.step(actions[i % 16])
    env_s = physics_s = 0.0
    filtered = env.filtered_action.copy()
    for i in range(steps):
        start = time.perf_counter()
        env.step(actions[i % 16])
        env_s += time.perf_counter() - start
        saved = env.physics.state.copy()
        filtered = 0.3 * actions[i % 16] + 0.7 * filtered
        start = time.perf_counter()
        env.physics.step(robot.DEFAULT_POSE + 0.25 * filtered, env.substeps)
        physics_s += time.perf_counter() - start
        env.physics.state[:] = saved
    env.close()
    return {"env_id": env_id, "num_envs": num_envs, "steps": steps, "threads": env.threads,
            "env_steps_per_s": round(num_envs * steps / env_s), "physics_steps_per_s": round(num_envs * steps / physics_s),
            "env_over_physics": round(physics_s / env_s, 3),
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-envs", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--envs", default=",".join(ENVS))
    parser.add_argument("--one", help=argparse.SUPPRESS)  # the child process: measure this env id
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.num_envs, args.steps)))
        return 0
    for env_id in args.envs.split(","):
        proc = subprocess.run([sys.executable, __file__, "--one", env_id, "--num-envs", str(args.num_envs),
                               "--steps", str(args.steps)], capture_output=True, text=True,
                              env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
        if proc.returncode != 0:
            print(proc.stderr[-2000:], file=sys.stderr)
            return proc.returncode
        print(proc.stdout.strip(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
