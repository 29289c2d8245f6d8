"""The functions behind ``vbot curriculum status|advance|run``: ``fn(ctx, **params) -> dict``; heavy
imports happen when one runs."""

from __future__ import annotations

from typing import Any


def curriculum_status(ctx, plan: str | None = None) -> dict[str, Any]:
    from vbot_agent.curriculum.session import status

    return status(ctx.workspace(), plan, cwd=ctx.cwd, say=ctx.say)


def curriculum_advance(ctx, plan: str | None = None) -> dict[str, Any]:
    from vbot_agent.curriculum.session import advance

    return advance(ctx.workspace(), plan, cwd=ctx.cwd, say=ctx.say)


def curriculum_run(ctx, plan: str | None = None, restart: bool = False) -> dict[str, Any]:
    from vbot_agent.curriculum.session import CurriculumStopped, run

    try:
        return run(ctx.workspace(), plan, cwd=ctx.cwd, say=ctx.say, restart=restart)
    except CurriculumStopped as exc:  # like a stopped campaign: say how to resume, exit 130
        ctx.say(str(exc))
        raise KeyboardInterrupt from None


def render_curriculum(s: dict[str, Any]) -> str:
    """``status``/``run`` result as one screen: a line per stage, measured vs criteria."""
    if "promoted" in s:
        nxt = f"; next stage {s['next_stage']!r} warm from {s['warm_start']['checkpoint']}" if s.get("next_stage") else \
            "; the plan is complete"
        return (f"promoted {s['promoted']!r}: checkpoint {s['checkpoint']} registered as {s['registry_id']}{nxt}")
    lines = [f"curriculum {s['plan_name']} ({s['plan']}): {s['status'].upper()}"
             + (" (running now)" if s.get("running") else "")
             + (f", stage {s['current_stage']!r}" if s.get("current_stage") else "")]
    for st in s["stages"]:
        c, last = st["criteria"], st.get("last_evaluation") or {}
        rate = last.get("success_rate")
        best = st.get("best_success_rate")
        measured = (f"success {rate:.2f} (best {best:.2f}) at {last['env_steps']:,} steps" if isinstance(rate, float)
                    and isinstance(best, float) else "not evaluated")
        marker = ">" if st["index"] == s["stage_index"] else " "
        lines.append(f"{marker} {st['index'] + 1}. {st['name']:<12} {st['env_id']:<28} {st['status']:<9} "
                     f"{st['env_steps']:>11,}/{st['steps']:,} steps  {measured}  "
                     f"[needs >= {c['success_rate']:g} x{c['patience']} after {c['min_env_steps']:,}]")
        if st["status"] not in ("pending", "promoted") and not st["check"]["met"]:
            lines.append(f"      not met: {'; '.join(st['check']['failing'])}")
        if st.get("error"):
            lines.append(f"      error: {st['error']}")
    if s.get("message"):
        lines.append(f"note  {s['message']}")
    if s.get("next"):
        lines.append(f"next  {s['next']}")
    return "\n".join(lines)
