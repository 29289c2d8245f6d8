"""Verdicts and the text report of the reward budget audit (``audit.py`` plays the behaviours)."""

from __future__ import annotations

from typing import Any

from vbot_agent.rewards.audit_behaviours import EXPLOITS, RIGHT


def _judge(behaviours: dict[str, Any], s) -> list[dict[str, Any]]:
    right = behaviours[RIGHT]
    required = max(s.margin_abs, s.margin_rel * abs(right["return"]))
    flags = []
    for name, exploit in EXPLOITS.items():
        if name not in behaviours:  # the course-only behaviours on the flat arena
            continue
        wrong = behaviours[name]
        gap = right["return"] - wrong["return"]
        reason = None
        if gap < required:
            reason = (f"{name} earns {wrong['return']:.2f}, within {required:.2f} of walk_and_stop's "
                      f"{right['return']:.2f}" if gap > 0 else
                      f"{name} earns {wrong['return']:.2f} >= walk_and_stop's {right['return']:.2f}")
        elif name == "stand_still" and right["return"] > 0 and wrong["return"] > s.stand_share * right["return"]:
            reason = (f"stand_still earns {wrong['return']:.2f}, more than {s.stand_share:.0%} of walk_and_stop's "
                      f"{right['return']:.2f}: the return pays for surviving, not for arriving")
        if reason is None and name == "stop_midway" and wrong["after_stop_rate"] >= 0.0:
            reason = (f"stop_midway earns {wrong['after_stop_rate']:.2f}/s standing halfway (on a stair on "
                      "section 012): stopping short must cost something (stagnation), or a learner that "
                      "risks falls on the way learns to stand")
        if reason is None:
            continue
        terms = sorted(set(wrong["terms"]) | set(right["terms"]))
        flags.append({
            "behaviour": name,
            "exploit": exploit,
            "reason": reason,
            "return": wrong["return"],
            "right_return": right["return"],
            "gap": round(gap, 4),
            "required_gap": round(required, 4),
            # Per term: what the wrong behaviour earns and what the right one earns.
            "terms": {k: {"wrong": wrong["terms"].get(k, 0.0), "right": right["terms"].get(k, 0.0)} for k in terms},
        })
    return flags


def render_audit(result: dict[str, Any]) -> str:
    """A table of behaviours x terms, then the verdict."""
    behaviours = result["behaviours"]
    terms = sorted({k for b in behaviours.values() for k in b["terms"]})
    head = f"reward audit of {result.get('config', 'the default config')} on {result['env']}"
    geo = result["geometry"]
    lines = [head, f"  target {geo['distance_m']} m away, {geo['episode_s']} s episodes, walk "
                   f"{geo['walk_speed']} m/s, sprint {geo['sprint_speed']} m/s ({result['elapsed_s']} s)", ""]
    width = max(len(n) for n in behaviours) + 2
    cols = [max(8, len(t)) for t in terms]  # whole term names: they are what --set reward.scales.<term> takes
    lines.append(f"{'behaviour':<{width}}{'return':>9}  " + "  ".join(f"{t:>{c}}" for t, c in zip(terms, cols)))
    for name, b in behaviours.items():
        tail = " (fell)" if b["fell"] else ""
        lines.append(f"{name:<{width}}{b['return']:>9.2f}  "
                     + "  ".join(f"{b['terms'].get(t, 0.0):>{c}.2f}" for t, c in zip(terms, cols)) + tail)
    lines.append("")
    if result["passed"]:
        lines.append("PASSED: walk_and_stop beats every wrong behaviour by a clear margin.")
    else:
        lines.append(f"FLAGGED ({len(result['flags'])}):")
        for flag in result["flags"]:
            lines.append(f"  - {flag['exploit']}: {flag['reason']}")
    return "\n".join(lines)
