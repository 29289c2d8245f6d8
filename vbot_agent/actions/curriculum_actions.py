"""Curriculum actions: ``curriculum status|advance|run`` (functions in ``vbot_agent.curriculum.commands``)."""

from __future__ import annotations

from vbot_agent.actions.registry import Action, Param

_PLAN = Param("plan", "path", help="plan YAML, or the name of one in starter_kit_schedule/curricula/ "
                                   "(default: the plan of the curriculum in progress)")

_F = "vbot_agent.curriculum.commands"

ACTIONS: list[Action] = [
    Action(
        name="curriculum status",
        summary="the curriculum plan, the current stage, measured metrics against each stage's promotion criteria",
        func="vbot_agent.curriculum.commands:curriculum_status",
        render="vbot_agent.curriculum.commands:render_curriculum",
        group="curriculum",
        params=(_PLAN,),
    ),
    Action(
        name="curriculum advance",
        summary="promote the current stage if its measured criteria hold (else name the failing one); "
                "register its best checkpoint and set up the next stage warm",
        func="vbot_agent.curriculum.commands:curriculum_advance",
        render="vbot_agent.curriculum.commands:render_curriculum",
        group="curriculum",
        epilog=("Judges the stage against the plan file of the curriculum in progress as it is now: to promote a\n"
                "stuck stage deliberately, lower its bar (`vbot curriculum edit --set STAGE.promote.success_rate=X`).\n"
                "Refused (exit 1) naming each failing criterion with its measured value and its bar."),
    ),
    Action(
        name="curriculum edit",
        summary="change a plan's budgets, criteria or env options (--set STAGE.KEY=VALUE), validated, comments kept; "
                "a stuck stage that can go on is unstuck",
        func="vbot_agent.curriculum.commands:curriculum_edit",
        render="vbot_agent.curriculum.edit:render_edit",
        group="curriculum",
        params=(Param("overrides", repeat=True, flag="--set",
                      help="STAGE.KEY=VALUE or a plan key, repeatable, e.g. --set section011.steps=12000000 "
                           "--set section011.promote.success_rate=0.4"),
                _PLAN),
        epilog=("Edits the plan file of the curriculum in progress (or --plan NAME), after checking the edited plan\n"
                "as `vbot curriculum run` reads it; nothing is written when a value is refused. `status`, `advance`\n"
                "and `run` read the plan file as it is now. Keys after `overrides.` form one config key\n"
                "(--set flat.overrides.reward.scales.stagnation=0.1). STAGE.steps is the stage's whole budget in env\n"
                "steps, counted from its start (a stage that used 4M and gets steps=6000000 trains 2M more, to the\n"
                "first whole iteration at or past it); `vbot curriculum run` resumes the stage's own run."),
    ),
    Action(
        name="curriculum run",
        summary="train the curriculum stage by stage (warm-started, evaluated as it goes, promoted when criteria "
                "hold) until the plan ends or a stage is stuck; resumes where it stopped",
        func="vbot_agent.curriculum.commands:curriculum_run",
        render="vbot_agent.curriculum.commands:render_curriculum",
        group="curriculum",
        long_running=True,
        params=(_PLAN, Param("restart", "bool", default=False,
                             help="start the plan from its first stage, leaving the old curriculum's logs"),
                Param("dry_run", "bool", default=False,
                      help="say what would train (which stage, fresh, warm or resumed) and the env steps left; "
                           "write nothing")),
        epilog=("Progress: `curriculum:` in starter_kit_schedule/progress/automl_state.yaml; logs in\n"
                "starter_kit_log/<id>/curriculum/<plan>/<stage>/. Ctrl-C stops; `vbot curriculum run` continues\n"
                "(an interrupted stage resumes its run with `vbot train --resume`)."),
    ),
]
