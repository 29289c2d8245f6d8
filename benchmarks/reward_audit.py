"""Reward budget audit timing and verdicts (target: one config audited in < 10 s).

    python benchmarks/reward_audit.py [--env vbot_navigation_section001] [--workspace .]

Audits every preset of the reward library one config at a time (a fresh simulation each, the
cost of `vbot reward audit --preset NAME`), then all of them together (`--preset all`, which shares
the simulation between configs with the same shaping constants). Prints JSON: per preset the
seconds, the verdict, the flagged exploits and the return of each behaviour.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # runnable from a checkout without `pip install -e .`
    sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="vbot_navigation_section001")
    parser.add_argument("--workspace", default=str(REPO))
    args = parser.parse_args()

    from vbot_agent.rewards.audit import audit_many, audit_reward
    from vbot_agent.rewards.library import list_presets

    presets = list_presets(Path(args.workspace))
    rows = []
    for p in presets:
        started = time.perf_counter()
        result = audit_reward(args.env, reward=p.reward, env_config=p.env)
        rows.append({
            "preset": p.name,
            "kind": p.kind,
            "seconds": round(time.perf_counter() - started, 3),
            "passed": result["passed"],
            "flagged": sorted({f["exploit"] for f in result["flags"]}),
            "expected": list(p.expect) or "pass",
            "returns": {b: v["return"] for b, v in result["behaviours"].items()},
        })
    started = time.perf_counter()
    audit_many(args.env, [p.reward for p in presets if p.env is None])
    together = time.perf_counter() - started
    seconds = [r["seconds"] for r in rows]
    print(json.dumps({
        "env": args.env,
        "configs": len(rows),
        "seconds_per_config_max": max(seconds),
        "seconds_per_config_mean": round(sum(seconds) / len(seconds), 3),
        "seconds_all_presets_shared": round(together, 3),
        "target_seconds_per_config": 10.0,
        "presets": rows,
    }, indent=2))


if __name__ == "__main__":
    main()
