"""Env throughput with domain randomisation on vs off (target: on >= 0.7 x off), in one process.

    python benchmarks/randomization_throughput.py [--env ID] [--num-envs N] [--steps S] [--rounds R]

Two envs of the same id and size, one plain and one with the shipped preset's randomisation (and,
as a third, the preset with its observation noise), step random actions in alternating rounds of
``steps`` control steps, so background load on a shared machine hits them alike. Resets are
included (random actions fall often, so variants are drawn often). Prints one JSON object: the
best and median steps/s of each and the ratios of the medians, with the load average, and the
randomiser's own time per control step measured alone (its overhead without the noise of load).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np


def main() -> None:
    from vbot_agent.config import load_yaml
    from vbot_agent.deploy.robustness import PRESET
    from vbot_agent.sim.registry import make_env

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="vbot_navigation_section001")
    parser.add_argument("--num-envs", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    preset = load_yaml(PRESET)["env"]
    configs = {"off": {}, "randomization": {"randomization": preset["randomization"]},
               "randomization+noise": preset}
    build_s, envs = {}, {}
    for name, config in configs.items():
        start = time.perf_counter()
        envs[name] = make_env(args.env, args.num_envs, seed=0, config=config)
        build_s[name] = round(time.perf_counter() - start, 2)
    rng = np.random.default_rng(0)
    actions = rng.uniform(-1.0, 1.0, (16, args.num_envs, 12))
    for env in envs.values():
        env.reset(seed=0)
        for i in range(20):  # warm-up: thread pool, caches
            env.step(actions[i % 16])
    rates: dict[str, list[float]] = {name: [] for name in envs}
    for _ in range(args.rounds):
        for name, env in envs.items():
            start = time.perf_counter()
            for i in range(args.steps):
                env.step(actions[i % 16])
            rates[name].append(args.num_envs * args.steps / (time.perf_counter() - start))
    # The randomiser's own work per control step, timed alone (less sensitive to load than the A/B):
    # the push/latency step for all envs, and the variant draw for the ~N/2000 envs a step resets.
    randomizer = envs["randomization"].randomizer
    per_step_resets = max(1, args.num_envs // 2000)
    start = time.perf_counter()
    for i in range(args.steps):
        randomizer.before_physics(actions[i % 16])
        randomizer.reset_rows(np.arange(per_step_resets) + i % (args.num_envs - per_step_resets))
    randomizer_us = (time.perf_counter() - start) / args.steps * 1e6
    for env in envs.values():
        env.close()
    median = {name: statistics.median(r) for name, r in rates.items()}
    result = {
        "env_id": args.env, "num_envs": args.num_envs, "threads": envs["off"].threads,
        "steps_per_round": args.steps, "rounds": args.rounds, "build_s": build_s,
        "best_env_steps_per_s": {name: round(max(r)) for name, r in rates.items()},
        "median_env_steps_per_s": {name: round(m) for name, m in median.items()},
        "ratio_randomization_over_off": round(median["randomization"] / median["off"], 3),
        "ratio_randomization_noise_over_off": round(median["randomization+noise"] / median["off"], 3),
        "randomizer_us_per_step": round(randomizer_us, 1),
        "plain_env_us_per_step": round(args.num_envs / median["off"] * 1e6, 1),
        "load_average_1min": round(os.getloadavg()[0], 2), "cpu_count": os.cpu_count(),
    }
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
