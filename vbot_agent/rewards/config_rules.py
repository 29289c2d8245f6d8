"""Diagnosis rules that read only a run's resolved config: true at any age of the run.

- :func:`rule_untrained_targets`: the spawn never varies the target;
- :func:`audit_findings`: every exploit the reward audit (``vbot reward audit --run``) flags for the
  run's reward, as findings. The audit itself runs in :mod:`vbot_agent.rewards.audit`; this module
  only turns its flags into findings, so the two commands cannot disagree;
- :func:`rule_unused_search_keys`: search-space keys the reward never uses (config plus which terms
  were logged).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from vbot_agent.rewards.findings import Finding, audit_cmd, fmt, train_cmd
from vbot_agent.rewards.log_rules import NEVER_FIRES
from vbot_agent.rewards.run_data import RunData

# The audit's exploit names (rewards.audit.EXPLOITS) and the id the log rules use for the same failure.
EXPLOIT_IDS = {"lazy_robot": "lazy_robot", "hover": "hovering_near_target", "reach_and_farm": "reach_and_farm",
               "sprint_and_crash": "sprint_and_crash", "die_early": "die_early"}
FULL_CIRCLE = [-3.14159, 3.14159]  # rad


def rule_untrained_targets(data: RunData) -> Finding | None:
    spawn = (data.config.get("env") or {}).get("spawn") or {}
    if not spawn:
        return None
    layout = spawn.get("layout", "random")
    problems, sets = [], {}
    if layout == "competition":
        problems.append("layout 'competition': the target is always the arena centre")
        sets["env.spawn.layout"] = "random"
    elif layout in ("random", "auto") and float(spawn.get("target_area_radius", 2.0)) <= 0.0:
        problems.append("target_area_radius 0: the target is always the centre")
        sets["env.spawn.target_area_radius"] = 2.0
    lo, hi = (spawn.get("target_yaw") or [-math.pi, math.pi])[:2]
    if abs(hi - lo) < 1e-9:
        problems.append(f"target_yaw fixed at {lo}")
        sets["env.spawn.target_yaw"] = FULL_CIRCLE
    d_lo, d_hi = (spawn.get("target_distance") or [3.0, 8.0])[:2]
    if layout in ("random", "auto") and abs(d_hi - d_lo) < 1e-9:
        problems.append(f"target_distance fixed at {d_lo} m")
        sets["env.spawn.target_distance"] = [3.0, 8.0]
    if not problems:
        return None
    evidence = {"layout": layout, "problems": problems,
                **{k: spawn[k] for k in ("target_area_radius", "target_yaw", "target_distance") if k in spawn}}
    return Finding(
        "untrained_targets", "medium", "Targets are not randomised in training",
        evidence,
        "; ".join(problems) + ": the policy only ever sees one kind of target and will not generalise "
        "to others (the competition spawns on a 10-12 m ring, targets elsewhere in training)",
        "train with random targets (env.spawn.layout random, target_area_radius ~2 m, target_yaw over "
        "the full circle, a distance range) and evaluate on the competition layout",
        train_cmd(data, sets),
        source="config",
    )


def _exploit_fix(exploit: str, flag: dict[str, Any], scales: dict[str, float]) -> tuple[str, dict[str, Any]]:
    """(fix in words, ``--set`` keys) for one audit flag."""
    arrival = abs(scales.get("arrival", 0.0)) or 10.0
    # The term that pays the wrong behaviour most over the right one.
    advantage = {k: v["wrong"] - v["right"] for k, v in flag["terms"].items()}
    lead = max(advantage, key=advantage.get) if advantage else None
    if exploit == "lazy_robot":
        # What standing earns most: the survival term to cut.
        earner = max(flag["terms"], key=lambda k: flag["terms"][k]["wrong"], default=None)
        if earner and flag["terms"][earner]["wrong"] > 0:
            return (f"{earner} pays the robot for standing: set reward.scales.{earner} to 0 (or much smaller) and "
                    "let progress, arrival and hold carry the return", {f"reward.scales.{earner}": 0.0})
    if exploit == "reach_and_farm":
        return ("pay arrival once per episode (entry 0, arrival 10) and reward staying with hold",
                {"reward.scales.entry": 0.0, "reward.scales.arrival": max(arrival, 10.0)})
    if exploit == "hover":
        return ("pay for the centre, not the zone: near_target 0, more hold inside the reach radius",
                {"reward.scales.near_target": 0.0, "reward.scales.hold": max(2.0, 2 * scales.get("hold", 0.0))})
    if exploit == "sprint_and_crash":
        return ("make a fall cost more than arrival pays (termination <= -2 x arrival)",
                {"reward.scales.termination": min(scales.get("termination", 0.0), -2 * arrival)})
    if exploit == "die_early":
        if scales.get("alive", 0.0) < 0:
            return "drop the time cost (a negative alive) that makes dying early pay", {"reward.scales.alive": 0.0}
        return ("make the fall penalty larger than what dying early saves",
                {"reward.scales.termination": 2 * min(scales.get("termination", 0.0), -arrival)})
    if lead and scales.get(lead, 0.0) > 0:
        return f"shrink reward.scales.{lead}, which pays the wrong behaviour most", {f"reward.scales.{lead}": 0.0}
    return "re-balance the terms listed in the evidence", {}


def audit_findings(data: RunData, audit: dict[str, Any]) -> list[Finding]:
    """One finding per flag of ``audit`` (the result of ``rewards.audit.audit_reward`` on the run's config)."""
    out = []
    for flag in audit.get("flags") or []:
        exploit = flag["exploit"]
        fix, sets = _exploit_fix(exploit, flag, data.scales)
        # Terms that pay or cost either behaviour at least 0.01 over the episode (the rest is noise).
        lead_terms = {k: v for k, v in flag["terms"].items() if max(abs(v["wrong"]), abs(v["right"])) >= 0.01}
        out.append(Finding(
            EXPLOIT_IDS.get(exploit, exploit), "high",
            f"The reward audit of this run's config flags {exploit}",
            {"exploit": exploit, "behaviour": flag["behaviour"], "behaviour_return": fmt(flag["return"]),
             "walk_and_stop_return": fmt(flag["right_return"]), "gap": fmt(flag["gap"]),
             "required_gap": fmt(flag["required_gap"]), "terms_wrong_vs_right": lead_terms},
            f"{flag['reason']} (scripted behaviours replayed under this run's reward; true at any age of the run)",
            fix,
            audit_cmd(data, sets),
            source="config",
        ))
    return out


def rule_unused_search_keys(data: RunData, search_space: dict[str, Any] | None) -> Finding | None:
    if not search_space:
        return None
    from vbot_agent.sim.rewards import TERMS, RewardConfig

    params = search_space.get("params", search_space)
    shaping = {f for f in RewardConfig.__dataclass_fields__ if f != "scales"}
    unknown, zero, silent = [], [], []
    for key in params:
        if not str(key).startswith("reward."):
            continue
        parts = str(key).split(".")
        if parts[1] == "scales" and len(parts) == 3:
            name = parts[2]
            if name not in TERMS:
                unknown.append(key)
            else:
                s = data.term(name)
                if s is None:
                    zero.append(key)
                elif np.all(np.abs(s.values) < NEVER_FIRES):
                    silent.append(key)
        elif len(parts) != 2 or parts[1] not in shaping:
            unknown.append(key)
    if not (unknown or zero or silent):
        return None
    return Finding(
        "unused_search_keys", "medium", "Search-space keys the reward never uses",
        {"unknown_keys": unknown, "terms_off_in_this_run": zero, "terms_that_never_fired": silent},
        "trials spend budget on reward weights that cannot change the return: unknown names, terms with "
        "scale 0 here, or terms that never fire",
        "remove those keys from the search space (or fix their names) so the sampler searches what matters",
        audit_cmd(data),
        source="config+logs",
    )
