"""A campaign against a single run for the same wall time, on one machine, one after the other.

1. ``vbot automl --budget-hours H`` (the shipped template: planned trials, successive halving, the
   final run warm-started from the best trial) in a fresh workspace; its wall time is W.
2. ``vbot train`` with the default config in another fresh workspace, stopped (SIGTERM: it saves
   ``last.pt``) after W seconds.
3. Both final policies (the campaign's best, the single run's ``best.pt``, picked by its own
   evaluations as the campaign's is, else ``last.pt``) scored by
   ``vbot play --episodes 64 --json`` and ``vbot play --competition --episodes 50 --json``
   (5 competition rounds of 10 robots).

Prints one JSON object. Training takes the machine's cores: run it on a quiet machine.

    python benchmarks/campaign_vs_single.py --budget-hours 0.5 [--env vbot_navigation_section001]
        [--trials-from best]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
UNBOUNDED_STEPS = 10**12  # the single run is stopped by time, not by its step count


def vbot_argv(root: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "vbot_agent.cli", "--workspace", str(root), *args]


def last_json(text: str) -> dict[str, Any]:
    """The JSON object a ``vbot ... --json`` printed (pretty-printed: from the last line starting with '{')."""
    lines = text.splitlines()
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].startswith("{"):
            try:
                return json.loads("\n".join(lines[i:]))
            except ValueError:
                continue
    raise SystemExit(f"no JSON object in the output:\n{text[-2000:]}")


def run_campaign(root: Path, budget_hours: float, env: str | None, extra: list[str], log: Path) -> dict[str, Any]:
    argv = vbot_argv(root, "automl", "--budget-hours", f"{budget_hours:g}", "--json", *extra)
    if env:
        argv += ["--env", env]
    started = time.time()
    with open(log, "w") as err:
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=err, text=True, cwd=root)
    wall = time.time() - started
    if done.returncode != 0:
        raise SystemExit(f"the campaign failed (exit {done.returncode}); see {log}")
    result = last_json(done.stdout)
    best = result.get("best") or {}
    policy = best.get("checkpoint")
    if not policy:
        raise SystemExit(f"the campaign has no best checkpoint; see {log}")
    policy_path = Path(policy) if Path(policy).is_absolute() else root / policy
    return {"wall_s": round(wall, 1), "status": result["status"], "best_trial": best.get("trial"),
            "best_score": best.get("score"), "trials": result.get("trials"), "policy": str(policy_path)}


def run_single(root: Path, wall_s: float, env: str | None, extra: list[str], log: Path) -> dict[str, Any]:
    argv = vbot_argv(root, "train", "--max-env-steps", str(UNBOUNDED_STEPS), "--json", *extra)
    if env:
        argv += ["--env", env]
    started = time.time()
    with open(log, "w") as err:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, text=True, cwd=root)
        try:
            proc.wait(timeout=wall_s)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)  # finishes its iteration and saves last.pt
        out, _ = proc.communicate()
    summary = last_json(out)
    policy = summary.get("best_checkpoint") or summary.get("last_checkpoint")
    if not policy:
        raise SystemExit(f"the single run saved no checkpoint; see {log}")
    return {"wall_s": round(time.time() - started, 1), "env_steps": summary.get("env_steps"),
            "env_steps_per_s": summary.get("env_steps_per_s"), "policy": policy}


def score(root: Path, policy: str, episodes: int, competition_episodes: int) -> dict[str, Any]:
    """64 evaluation episodes and the competition rounds of ``policy``."""
    out: dict[str, Any] = {}
    for key, args in (("evaluation", ["--episodes", str(episodes)]),
                      ("competition", ["--competition", "--episodes", str(competition_episodes)])):
        done = subprocess.run(vbot_argv(root, "play", "--policy", policy, "--json", *args),
                              capture_output=True, text=True, cwd=root)
        if done.returncode != 0:
            raise SystemExit(f"vbot play {' '.join(args)} failed on {policy}: {done.stderr.strip()[-500:]}")
        result = last_json(done.stdout)
        keys = ("episodes", "success_rate", "fall_rate", "mean_time_to_target_s", "mean_final_distance_m",
                "competition_points", "competition_max_points", "competition_rounds")
        out[key] = {k: result[k] for k in keys if k in result}
    return out


def continue_from_best(root: Path) -> None:
    """The campaign workspace's templates set to ``trials_from: best``, without network sizes to search."""
    import yaml

    templates = root / "starter_kit_schedule/templates"
    automl = yaml.safe_load((templates / "automl.yaml").read_text())
    automl["trials_from"] = "best"
    (templates / "automl.yaml").write_text(yaml.safe_dump(automl, sort_keys=False))
    space = yaml.safe_load((templates / "search_space.yaml").read_text())
    space["params"] = {k: v for k, v in space["params"].items() if not k.endswith("_hidden_dims")}
    space["known_good"] = [{k: v for k, v in good.items() if not k.endswith("_hidden_dims")}
                           for good in space.get("known_good") or []]
    (templates / "search_space.yaml").write_text(yaml.safe_dump(space, sort_keys=False))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget-hours", type=float, required=True)
    parser.add_argument("--env", help="env id for both (default: the template's and train's default)")
    parser.add_argument("--episodes", type=int, default=64)
    parser.add_argument("--competition-episodes", type=int, default=50, help="10 robots a round: 50 = 5 rounds")
    parser.add_argument("--automl-args", default="", help="extra `vbot automl` flags, one shell-quoted string")
    parser.add_argument("--train-args", default="", help="extra `vbot train` flags, one shell-quoted string")
    parser.add_argument("--workdir", help="folder for the two workspaces (default: a temporary one)")
    parser.add_argument("--trials-from", choices=("scratch", "best"), default="scratch",
                        help="the campaign's trials_from (best: trials continue the best policy; the network "
                             "sizes leave its search space)")
    args = parser.parse_args(argv)
    if args.budget_hours <= 0:
        parser.error("--budget-hours must be > 0")

    sys.path.insert(0, str(REPO))
    from vbot_agent.workspace.init import init_workspace

    base = Path(args.workdir or tempfile.mkdtemp(prefix="vbot_vs_"))
    campaign_ws, single_ws = base / "campaign", base / "single"
    for root in (campaign_ws, single_ws):
        init_workspace(root)
    if args.trials_from == "best":
        continue_from_best(campaign_ws)
    load_before = os.getloadavg()[0]
    campaign = run_campaign(campaign_ws, args.budget_hours, args.env, shlex.split(args.automl_args),
                            base / "campaign.log")
    single = run_single(single_ws, campaign["wall_s"], args.env, shlex.split(args.train_args), base / "single.log")
    campaign.update(score(campaign_ws, campaign["policy"], args.episodes, args.competition_episodes))
    single.update(score(single_ws, single["policy"], args.episodes, args.competition_episodes))
    print(json.dumps({"benchmark": "campaign_vs_single", "budget_hours": args.budget_hours, "env_id": args.env,
                      "trials_from": args.trials_from,
                      "campaign": campaign, "single": single, "workdir": str(base), "cpus": os.cpu_count(),
                      "load_1min_before": round(load_before, 2), "load_1min_after": round(os.getloadavg()[0], 2)},
                     indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
