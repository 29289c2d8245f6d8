"""Where a curriculum's plan comes from and the records it keeps in the state (``curriculum:``).

``curriculum:`` = {plan (file), plan_name, plan_config (the parsed plan inline, so a resume needs
no file), status (running | stopped | stuck | failed | complete), stage_index, message, stages}.
Each stage: {name, env_id, status, run_dir, best_checkpoint, metrics, env_steps, evaluations,
warm_start, attempts, wall_s, promotion, error, ...}.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vbot_agent.curriculum.plan import Plan, plan_to_dict
from vbot_agent.errors import UsageError
from vbot_agent.workspace import Paths
from vbot_agent.workspace.state import now_iso

PLANS_DIR = "curricula"  # starter_kit_schedule/curricula/<name>.yaml: `--plan <name>`
RUN_HINT = "`vbot curriculum run`"
START_HINT = "`vbot curriculum run --plan NAME_OR_FILE`"


def resolve_plan_path(root: Path, plan: str, cwd: Path) -> Path:
    """``--plan``: a file (relative to ``cwd``) or the name of a plan in ``starter_kit_schedule/curricula/``."""
    path = Path(plan).expanduser()
    if not path.is_absolute():
        path = cwd / path
    if path.is_file():
        return path
    named = Paths(root).schedule / PLANS_DIR / f"{plan}.yaml"
    if "/" not in plan and named.is_file():
        return named
    raise UsageError(f"--plan {plan}: no such file, and no plan {plan!r} in {named.parent}"
                     + available_plans(root))


def plan_names(root: Path) -> list[str]:
    """The plans shipped in (or added to) ``starter_kit_schedule/curricula/``, by name."""
    return sorted(p.stem for p in (Paths(root).schedule / PLANS_DIR).glob("*.yaml"))


def available_plans(root: Path) -> str:
    names = plan_names(root)
    return f" (plans there: {', '.join(names)})" if names else ""


def new_stage_record(stage) -> dict[str, Any]:
    return {"name": stage.name, "env_id": stage.env_id, "status": "pending", "run_dir": None, "best_checkpoint": None,
            "metrics": None, "env_steps": 0, "evaluations": [], "warm_start": None, "attempts": 0, "wall_s": 0.0,
            "promotion": None, "error": None, "started_at": None, "finished_at": None, "stuck_at_steps": None}


def new_curriculum(plan: Plan, plan_path: Path) -> dict[str, Any]:
    return {"plan": str(plan_path), "plan_name": plan.name, "plan_config": plan_to_dict(plan), "status": "running",
            "stage_index": 0, "started_at": now_iso(), "message": None,
            "stages": [new_stage_record(s) for s in plan.stages]}


def adopt_plan(cur: dict[str, Any], plan: Plan, plan_path: Path) -> None:
    """Take an edited plan of the same name (e.g. a larger budget); finished stages must be unchanged."""
    done = cur["stage_index"]
    old = [s["name"] for s in cur["stages"]]
    new = plan.stage_names()
    if new[:done + 1] != old[:done + 1]:
        raise UsageError(f"plan {plan.name!r} in {plan_path} changed stages the curriculum already reached "
                         f"({', '.join(old[:done + 1])}); run it from the start with `vbot curriculum run --plan "
                         f"{plan_path} --restart`")
    by_name = {s["name"]: s for s in cur["stages"]}
    cur["stages"] = [by_name.get(s.name) or new_stage_record(s) for s in plan.stages]
    cur.update(plan=str(plan_path), plan_config=plan_to_dict(plan))
    if cur["status"] == "complete" and cur["stage_index"] < len(plan.stages):
        cur["status"] = "stopped"  # stages were added after the last one: not complete any more
