"""Per-trial overhead of a campaign: spawn, imports, evaluation and bookkeeping vs training time.

Runs ONE trial exactly as ``vbot automl`` does (parent side ``runner.run_trial_process`` ->
``python -m vbot_agent.trials.trial`` -> ``vbot train``), with the real trainer and evaluation,
in a temporary workspace, and prints one JSON object:

    wall_s             spawn of the trial process to its result, seen by the parent
    training_s         env_steps / env_steps_per_s reported by the trainer (its own loop)
    eval_s             the trial's evaluation episodes (intermediate + final)
    overhead_s         wall_s - training_s (spawn, imports, env build, evaluation, bookkeeping)
    overhead_fraction  overhead_s / wall_s  (target: <= 0.05 at the default trial length)
    startup_s          spawn of the trial process to the trainer's run folder (imports, env build; 1 s resolution)
    final_eval_s       the trainer's own evaluation of its last policy (final_episodes)

Defaults are the shipped automl template's: trials of min_trial_steps = 4M env steps (the first
successive-halving rung) with 1024 envs, 10 evaluation episodes at every 4M env steps (the rung), 20 final.

    python benchmarks/campaign_overhead.py [--env vbot_navigation_section001] [--steps 4000000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from vbot_agent.trials.launcher import run_trial_process, write_trial_config
from vbot_agent.trials.trial import TrialConfig
from vbot_agent.trials.trial_settings import EvaluationSettings
from vbot_agent.workspace.init import init_workspace
from vbot_agent.workspace.state import parse_time as parse_iso


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="vbot_navigation_section001")
    parser.add_argument("--steps", type=int, default=4_000_000)
    parser.add_argument("--num-envs", type=int, default=1024)
    parser.add_argument("--episodes", type=int, default=10, help="per intermediate evaluation")
    parser.add_argument("--final-episodes", type=int, default=20)
    parser.add_argument("--every", type=int, default=4_000_000, help="env steps between intermediate evaluations")
    parser.add_argument("--workspace", help="default: a temporary folder")
    args = parser.parse_args()

    root = Path(args.workspace or tempfile.mkdtemp(prefix="vbot_bench_"))
    init_workspace(root)
    out = root / "starter_kit_log" / "bench" / "experiments" / "trial_0000"
    cfg = TrialConfig(name="trial_0000", trial=0, env_id=args.env, seed=0, max_env_steps=args.steps,
                      num_envs=args.num_envs, out_dir=str(out), workspace=str(root), tag="bench/trial_0000",
                      evaluation=EvaluationSettings(episodes=args.episodes, final_episodes=args.final_episodes,
                                                    every_env_steps=args.every), stall_s=1800)
    config_path = root / "starter_kit_log" / "bench" / "configs" / "trial_0000.yaml"
    write_trial_config(config_path, cfg)
    started = time.time()
    outcome = run_trial_process(config_path, cfg, on_event=lambda e: False, should_stop=lambda: False,
                                on_tick=lambda pid: None, heartbeat_s=5.0)
    wall = time.time() - started
    r = outcome.result
    if r["status"] != "complete":
        print(json.dumps({"error": r.get("error"), "status": r["status"], "workspace": str(root)}))
        return 1
    train = r["train"]
    training_s = train["env_steps"] / train["env_steps_per_s"]
    run_dir = Path(r["run_dir"])
    progress = json.loads((run_dir / "progress.json").read_text())
    startup_s = parse_iso(progress["started_at"]) - started
    final_eval = run_dir / "final_evaluation.json"
    final_eval_s = json.loads(final_eval.read_text())["wall_s"] if final_eval.is_file() else None
    overhead = wall - training_s
    print(json.dumps({
        "benchmark": "campaign_overhead", "env_id": args.env, "env_steps": train["env_steps"],
        "num_envs": args.num_envs, "wall_s": round(wall, 2), "training_s": round(training_s, 2),
        "eval_s": round(r["eval_s"], 2), "startup_s": round(startup_s, 1), "final_eval_s": final_eval_s, "intermediate_evaluations": len(r["intermediate"]),
        "overhead_s": round(overhead, 2), "overhead_fraction": round(overhead / wall, 4),
        "target_fraction": 0.05, "load_1min_at_end": round(os.getloadavg()[0], 2), "cpus": os.cpu_count(), "score": r["score"], "workspace": str(root),
    }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
