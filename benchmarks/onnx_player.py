"""Export a policy and play it without torch: export time, ONNX size, torch-vs-ONNX difference,
and the player's success against `vbot play` on the same seed and episodes.

    python benchmarks/onnx_player.py --policy runs/<env>/<run>/checkpoints/best.pt [--episodes 32] [--seed 0]

``vbot play`` evaluates with the checkpoint's env options; the exported scene is the nominal one,
so when the policy was trained with randomisation or noise, ``play_nominal`` (the same evaluation
with both off) is the number to compare the player with. ``vbot play`` runs the policy's own
precision (bf16 hidden layers on CPUs with native bf16), the export fp32: ``play_nominal_fp32`` is
the trainer's env driven by the exported fp32 policy in torch, which the player should match exactly;
the gap between it and ``play_nominal`` is the policy's sensitivity to bf16 rounding, not the player.
Prints one JSON object.
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

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    from vbot_agent.actions.context import Context
    from vbot_agent.deploy.commands import export
    from vbot_agent.deploy.policy import deployed_policy, torch_actions
    from vbot_agent.rl.checkpoint import InferencePolicy, load_checkpoint
    from vbot_agent.rl.commands import play
    from vbot_agent.rl.evaluate import run_episodes, summarize_episodes
    from vbot_agent.sim.registry import make_env

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--policy", required=True, help="checkpoint file or run folder")
    parser.add_argument("--episodes", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    ctx = Context(json=True)

    with tempfile.TemporaryDirectory(prefix="vbot-onnx-") as tmp:
        exported = export(ctx, policy=args.policy, onnx=str(Path(tmp) / "policy.onnx"),
                          torchscript=str(Path(tmp) / "policy.pt"), episodes=args.episodes, seed=args.seed)
        start = time.perf_counter()
        played = subprocess.run([sys.executable, str(ROOT / "vbot_agent" / "deploy" / "onnx_player.py"),
                                 exported["files"]["sidecar"], "--json"], capture_output=True, text=True, check=True)
        player_s = time.perf_counter() - start
    player = json.loads(played.stdout)

    start = time.perf_counter()
    reference = play(ctx, policy=exported["policy"], episodes=args.episodes, seed=args.seed)
    play_s = time.perf_counter() - start
    data = load_checkpoint(exported["policy"])
    policy = InferencePolicy(data)
    options = dict(data["config"]["env"])
    options["randomization"] = {**options.get("randomization", {}), "enabled": False}
    options["noise"] = {**options.get("noise", {}), "enabled": False}
    fp32 = deployed_policy(data)
    summaries = {}
    for name, fn in (("nominal", policy), ("nominal_fp32", lambda obs: torch_actions(fp32, obs))):
        env = make_env(data["env_id"], args.episodes, seed=args.seed, config=options, reward=data["config"]["reward"])
        try:
            summaries[name] = summarize_episodes(run_episodes(fn, env, seed=args.seed)).to_dict()
        finally:
            env.close()
    nominal, nominal_fp32 = summaries["nominal"], summaries["nominal_fp32"]
    keys = ("success_rate", "fall_rate", "mean_time_to_target_s")
    result = {
        "policy": exported["policy"], "episodes": args.episodes, "seed": args.seed,
        "onnx_export_s": exported["onnx_export_s"], "torchscript_export_s": exported["torchscript_export_s"],
        "onnx_bytes": exported["onnx_bytes"], "torch_vs_onnx_max_abs_diff": exported["max_abs_diff"],
        "play_precision": policy.model.precision,
        "play": {k: reference[k] for k in keys} | {"wall_s": round(play_s, 1)},
        "play_nominal": {k: nominal[k] for k in keys} | {"points": nominal["competition_points"]},
        "play_nominal_fp32": {k: nominal_fp32[k] for k in keys} | {"points": nominal_fp32["competition_points"]},
        "player": {k: player[k] for k in keys} | {"points": player["points"], "wall_s": round(player_s, 1)},
        "player_minus_play_nominal_success": round(player["success_rate"] - nominal["success_rate"], 4),
        "player_minus_play_nominal_fp32_success": round(player["success_rate"] - nominal_fp32["success_rate"], 4),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
