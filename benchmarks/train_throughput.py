"""Training throughput vs physics-only throughput of the same env, in one process (target:
train_env_steps_per_s >= 0.4 x physics_steps_per_s with the default config on 2 CPU cores).

    python benchmarks/train_throughput.py [--env ID] [--num-envs N] [--iterations K]

Physics-only rollouts and training iterations alternate, so both see the same background load.
Prints one JSON object (the same as ``vbot bench train --json``), plus ``rss_mb`` (peak RSS) and
the load average (the machine may be shared).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys

from vbot_agent.actions.context import Context
from vbot_agent.rl.commands import bench_train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="vbot_navigation_section001")
    parser.add_argument("--num-envs", type=int, default=None, help="default: the default config's (1024)")
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="config key=value")
    args = parser.parse_args()
    result = bench_train(Context(json=True), env=args.env, num_envs=args.num_envs, iterations=args.iterations,
                         overrides=args.overrides)
    result["load_average_1min"] = round(os.getloadavg()[0], 2)
    result["rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: KiB
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
