"""Where a policy fails: deterministic evaluation episodes broken down by the target's initial
bearing and distance (VBot navigation envs).

    python benchmarks/eval_breakdown.py CHECKPOINT [--episodes 128] [--seed 12345]
        [--set env.spawn.target_distance=[10,12]] [--competition]

Runs the first episode of each of ``--episodes`` envs with the checkpoint's env options (plus
``--set`` env overrides, or the competition layout), and prints one JSON object: overall success
and fall rates, and per bin of initial bearing (|angle| of the target off the robot's heading, deg)
and of initial distance (m): episodes, success rate, fall rate, mean closest approach (m).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint")
    parser.add_argument("--episodes", type=int, default=128)
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="env.KEY=VALUE")
    parser.add_argument("--competition", action="store_true", help="robots on the 10-12 m ring")
    parser.add_argument("--stochastic", action="store_true",
                        help="sample actions from the policy's Gaussian (as in training), not its mean")
    args = parser.parse_args()

    import torch

    from vbot_agent.rl.checkpoint import load_policy
    from vbot_agent.rl.config import resolve_train_config
    from vbot_agent.rl.envs import make_env
    from vbot_agent.sim.navigation import OBS_SLICES

    torch.set_num_threads(1)
    policy = load_policy(args.checkpoint)
    act = policy
    if args.stochastic:
        generator = torch.Generator().manual_seed(args.seed)

        @torch.no_grad()
        def act(obs: np.ndarray) -> np.ndarray:
            x = policy.normalizer(torch.as_tensor(obs, dtype=torch.float32))
            return policy.model.act(x, generator)[0].numpy()
    cfg = resolve_train_config(base=policy.config, overrides=args.overrides)
    env_options = dict(cfg.env)
    if args.competition:
        env_options["spawn"] = {**env_options["spawn"], "layout": "competition"}
    env = make_env(cfg.env_id, args.episodes, seed=args.seed, env=env_options, reward=cfg.reward)
    obs = env.reset(seed=args.seed)
    rel = obs[:, OBS_SLICES["target_pos"]]
    bearing = np.degrees(np.abs(np.arctan2(rel[:, 1], rel[:, 0])))
    distance = obs[:, OBS_SLICES["distance"]][:, 0].astype(np.float64)
    closest = distance.copy()
    done_once = np.zeros(args.episodes, bool)
    success = np.zeros(args.episodes, bool)
    fell = np.zeros(args.episodes, bool)
    for _ in range(env.max_episode_steps + 1):
        obs, _, terminated, truncated, info = env.step(act(obs))
        live = ~done_once
        before_reset = info["final_obs"]  # this step's observation of every env, before any reset
        closest[live] = np.minimum(closest[live], before_reset[live, OBS_SLICES["distance"]][:, 0])
        rows = np.flatnonzero(terminated | truncated)  # the order of info["episode"]'s arrays
        first = ~done_once[rows]
        success[rows[first]] = np.asarray(info["episode"]["success"])[first]
        fell[rows[first]] = np.asarray(info["episode"]["fall"])[first]
        done_once[rows] = True
        if done_once.all():
            break
    env.close()

    def bins(values: np.ndarray, edges: list[float]) -> list[dict]:
        out = []
        for lo, hi in itertools.pairwise(edges):
            m = (values >= lo) & (values < hi)
            if m.any():
                out.append({"range": [lo, hi], "episodes": int(m.sum()), "success_rate": round(float(success[m].mean()), 3),
                            "fall_rate": round(float(fell[m].mean()), 3),
                            "closest_m": round(float(closest[m].mean()), 2)})
        return out

    print(json.dumps({
        "checkpoint": args.checkpoint, "env_steps": policy.env_steps, "episodes": args.episodes,
        "actions": "sampled" if args.stochastic else "mean",
        "spawn": env_options["spawn"], "success_rate": round(float(success.mean()), 3),
        "fall_rate": round(float(fell.mean()), 3),
        "by_bearing_deg": bins(bearing, [0, 30, 60, 90, 120, 150, 180.001]),
        "by_distance_m": bins(distance, [0, 2, 3, 4, 5, 6, 8, 10, 12, 14]),
    }, indent=1), file=sys.stdout)


if __name__ == "__main__":
    main()
