"""Curriculum actions: ``curriculum status|advance|run`` (engine in ``vbot_agent.curriculum.session``).

Each function is ``fn(ctx, **params) -> dict``; heavy imports happen when it runs.
"""

from __future__ import annotations

from typing import Any

from vbot_agent.actions.registry import Action, Param

_PLAN = Param("plan", "path", help="plan YAML, or the name of one in starter_kit_schedule/curricula/ "
                                   "(default: the plan of the curriculum in progress)")


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


_F = f"{__name__}"

ACTIONS: list[Action] = [
    Action(
        name="curriculum status",
        summary="the curriculum plan, the current stage, measured metrics against each stage's promotion criteria",
        func=f"{_F}:curriculum_status",
        render=f"{_F}:render_curriculum",
        group="curriculum",
        params=(_PLAN,),
    ),
    Action(
        name="curriculum advance",
        summary="promote the current stage if its measured criteria hold (else name the failing one); "
                "register its best checkpoint and set up the next stage warm",
        func=f"{_F}:curriculum_advance",
        render=f"{_F}:render_curriculum",
        group="curriculum",
        params=(_PLAN,),
    ),
    Action(
        name="curriculum run",
        summary="train the curriculum stage by stage (warm-started, evaluated as it goes, promoted when criteria "
                "hold) until the plan ends or a stage is stuck; resumes where it stopped",
        func=f"{_F}:curriculum_run",
        render=f"{_F}:render_curriculum",
        group="curriculum",
        long_running=True,
        params=(_PLAN, Param("restart", "bool", default=False,
                             help="start the plan from its first stage, leaving the old curriculum's logs")),
        epilog=("Progress: `curriculum:` in starter_kit_schedule/progress/automl_state.yaml; logs in\n"
                "starter_kit_log/<id>/curriculum/<plan>/<stage>/. Ctrl-C stops; `vbot curriculum run` continues\n"
                "(an interrupted stage resumes its run with `vbot train --resume`)."),
    ),
]
