"""Env throughput: full env steps vs physics-only steps, same model, envs and threads, one run."""

from __future__ import annotations

import resource
import time
from typing import Any

import numpy as np


def measure_env_throughput(env_id: str, num_envs: int, threads: int | None, steps: int, seed: int = 0,
                           rounds: int = 3) -> dict[str, Any]:
    """Steps/s of the full env (random actions, resets included) and of its physics alone.

    The two are measured in alternating rounds of ``steps`` steps and the best round of each is
    kept, so background load on a shared machine hits both alike.
    """
    import mujoco

    from vbot_agent.sim import robot
    from vbot_agent.sim.registry import make_env

    env = make_env(env_id, num_envs, seed=seed, threads=threads)
    rng = np.random.default_rng(seed)
    actions = rng.uniform(-1.0, 1.0, (16, num_envs, env.action_dim))
    env.reset()
    for i in range(20):  # warm-up: thread pool, caches, first contacts
        env.step(actions[i % 16])

    env_rates, physics_rates = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        for i in range(steps):
            env.step(actions[i % 16])
        env_rates.append(num_envs * steps / (time.perf_counter() - start))

        saved = env.physics.state.copy()
        filtered = env.filtered_action.copy()
        start = time.perf_counter()
        for i in range(steps):
            # The same work the env hands MuJoCo: smoothed targets, one rollout call.
            filtered = 0.3 * actions[i % 16] + 0.7 * filtered
            env.physics.step(robot.DEFAULT_POSE + 0.25 * filtered, env.substeps)
        physics_rates.append(num_envs * steps / (time.perf_counter() - start))
        env.physics.state[:] = saved

    env.close()
    env_rate, physics_rate = max(env_rates), max(physics_rates)
    return {
        "env_id": env_id,
        "num_envs": num_envs,
        "threads": env.threads,
        "steps_per_round": steps,
        "rounds": rounds,
        "env_steps_per_s": round(env_rate),
        "physics_steps_per_s": round(physics_rate),
        "env_over_physics": round(env_rate / physics_rate, 3),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "timestep_s": env.model.opt.timestep,
        "mujoco": mujoco.__version__,
    }
