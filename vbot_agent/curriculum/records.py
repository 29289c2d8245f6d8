"""The curriculum's part of the state file: its words, its records, and the summary ``status`` shows.

``curriculum:`` = {plan (file), plan_name, plan_config (the parsed plan inline, so a resume needs
no file), status (:class:`CurriculumStatus`), stage_index, message, stages}. Each stage: {name,
env_id, status (:class:`StageStatus`), run_dir, best_checkpoint, metrics, env_steps, evaluations,
warm_start, attempts, wall_s, promotion, error, ...}.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vbot_agent.curriculum.plan import NONE, PREVIOUS, Plan, check_promotion, load_plan, plan_to_dict
from vbot_agent.enums import WordEnum
from vbot_agent.errors import UsageError
from vbot_agent.workspace import Paths
from vbot_agent.workspace.state import curriculum_next, curriculum_note, now_iso, stage_status_word

PLANS_DIR = "curricula"  # starter_kit_schedule/curricula/<name>.yaml: `--plan <name>`


class CurriculumStatus(WordEnum):
    RUNNING = "running"
    STOPPED = "stopped"  # by a signal, or stages were added after the last one
    STUCK = "stuck"  # a stage used its budget without promotion
    FAILED = "failed"  # a stage's run crashed; `run` retries it
    COMPLETE = "complete"


class StageStatus(WordEnum):
    PENDING = "pending"  # not started
    TRAINING = "training"  # a run started; if the process died, `run` resumes it with `vbot train --resume`
    TRAINED = "trained"  # its run ended; promotion is decided next
    PROMOTED = "promoted"
    STUCK = "stuck"  # budget used, or `stuck_after` failing evaluations, without promotion
    FAILED = "failed"  # the run crashed; `run` retries


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
    from vbot_agent.workspace.init import SEED_DIR

    shipped = "/" not in plan and (SEED_DIR / PLANS_DIR / f"{plan}.yaml").is_file()
    raise UsageError(f"--plan {plan}: no such file, and no plan {plan!r} in {named.parent}" + available_plans(root)
                     + ("; this vbot ships it: `vbot init` adds the files a workspace lacks, never overwriting one"
                        if shipped else ""))


def available_plans(root: Path) -> str:
    names = sorted(p.stem for p in (Paths(root).schedule / PLANS_DIR).glob("*.yaml"))
    return f" (plans there: {', '.join(names)})" if names else ""


def has_more_budget(stage, rec: dict[str, Any]) -> bool:
    """A stage stopped by its budget whose plan now gives it more env steps than it had then."""
    return stage.steps > (rec.get("stuck_at_steps") or stage.steps)


def new_stage_record(stage) -> dict[str, Any]:
    return {"name": stage.name, "env_id": stage.env_id, "status": StageStatus.PENDING, "run_dir": None, "best_checkpoint": None,
            "metrics": None, "env_steps": 0, "evaluations": [], "warm_start": None, "attempts": 0, "wall_s": 0.0,
            "promotion": None, "error": None, "started_at": None, "finished_at": None, "stuck_at_steps": None}


def new_curriculum(plan: Plan, plan_path: Path) -> dict[str, Any]:
    return {"plan": str(plan_path), "plan_name": plan.name, "plan_config": plan_to_dict(plan), "status": CurriculumStatus.RUNNING,
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
    if cur["status"] == CurriculumStatus.COMPLETE and cur["stage_index"] < len(plan.stages):
        cur["status"] = CurriculumStatus.STOPPED  # stages were added after the last one: not complete any more


def summarize(session: Any, *, running: bool = False) -> dict[str, Any]:
    """What ``status`` (and the end of ``run``/``advance``) shows: the plan, each stage vs its criteria."""
    cur, plan = session.cur, session.plan
    stages = []
    for i, (stage, rec) in enumerate(zip(plan.stages, cur["stages"])):
        check = check_promotion(stage.promote, rec["evaluations"]).to_dict()
        # the check sees only the evaluations; a stage that used its budget is stuck as well
        check["stuck"] = check["stuck"] or rec["status"] == StageStatus.STUCK
        last = rec["evaluations"][-1] if rec["evaluations"] else None
        stages.append({
            "index": i, "name": stage.name, "env_id": stage.env_id, "status": rec["status"], "env": stage.env,
            "steps": stage.steps, "env_steps": rec["env_steps"], "run_dir": rec["run_dir"],
            "best_checkpoint": rec["best_checkpoint"], "metrics": rec["metrics"],
            "best_success_rate": (rec["metrics"] or {}).get("success_rate"),
            "last_evaluation": last, "evaluations": len(rec["evaluations"]), "wall_s": rec["wall_s"],
            "criteria": {"success_rate": stage.promote.success_rate, "min_env_steps": stage.promote.min_env_steps,
                         "patience": stage.promote.patience, "max_fall_rate": stage.promote.max_fall_rate,
                         "min_points": stage.promote.min_points,
                         "stuck_after": stage.promote.stuck_after},
            "check": check, "warm_start": rec["warm_start"], "error": rec["error"],
            "advanced": bool(rec.get("advanced")), "on_stuck": stage.on_stuck, "evaluation": dict(stage.evaluation),
            "overrides": dict(stage.overrides),
            "status_word": stage_status_word(cur, i),
            "warm_plan": {"checkpoint": stage.warm_source(i), "lr_multiplier": stage.warm_start.lr_multiplier,
                          "reset_optimizer": stage.warm_start.reset_optimizer,
                          "freeze_normalizer": stage.warm_start.freeze_normalizer},
        })
    index = cur["stage_index"]
    nxt = None if cur["status"] == CurriculumStatus.COMPLETE else curriculum_next(cur)
    if running:
        nxt = None
    evaluation = {"episodes": plan.evaluation.episodes, "every_env_steps": plan.evaluation.every_env_steps,
                  "final_episodes": plan.evaluation.final_episodes, "seed": plan.evaluation.seed}
    return {"plan": cur["plan"], "plan_name": plan.name, "description": plan.description, "status": cur["status"],
            "num_envs": plan.num_envs, "evaluation": evaluation, "train": dict(plan.train),
            "running": running, "stage_index": index,
            "current_stage": cur["stages"][index]["name"] if index < len(cur["stages"]) else None,
            "stages": stages, "message": curriculum_note(cur), "state_file": str(session.paths.state_file), "next": nxt}


def success_rate_of(evaluation: dict[str, Any]) -> float | None:
    value = evaluation.get("success_rate")
    return float(value) if isinstance(value, (int, float)) and value == value else None


def format_success(metrics: dict[str, Any] | None) -> str:
    value = (metrics or {}).get("success_rate")
    return f"{value:.3f}" if isinstance(value, (int, float)) and value == value else "unmeasured"


def start_advice(root: Path, plan_name: str, plan_arg: str) -> tuple[str, str]:
    """(next command, note) for a plan not started in this workspace: ``run --plan`` alone is refused
    while another plan's curriculum is unfinished there, so the command says ``--restart`` and why."""
    from vbot_agent.workspace.state import load_state

    state_file = Paths(root).state_file
    other = ((load_state(state_file) or {}).get("curriculum") or {}) if state_file.exists() else {}
    if other and other.get("plan_name") != plan_name and other.get("status") != CurriculumStatus.COMPLETE:
        return (f"vbot curriculum run --plan {plan_arg} --restart",
                f"plan {plan_name!r} is not started in this workspace, where the curriculum of plan "
                f"{other.get('plan_name')!r} is unfinished ({other.get('status')}): --restart replaces it in the "
                "state (its runs, checkpoints and snapshot in starter_kit_log/ stay); or start it in another "
                "workspace (`vbot init DIR`)")
    return f"vbot curriculum run --plan {plan_arg}", f"plan {plan_name!r} is not started in this workspace"


def load_workspace_plan(root: Path, path: str | Path) -> Plan:
    """``load_plan``, plus the check that needs the workspace: ``check_warm_paths``."""
    plan = load_plan(path)
    check_warm_paths(plan, root, str(path))
    return plan


def check_warm_paths(plan: Plan, root: Path, where: str) -> None:
    """Every warm-start checkpoint a plan names by path is a file (a relative path is read from the
    workspace, as `curriculum run` reads it)."""
    for i, stage in enumerate(plan.stages):
        source = stage.warm_source(i)
        if source not in (PREVIOUS, NONE) and not (Path(root) / source).is_file():
            raise UsageError(f"{where}: stage {i + 1} {stage.name!r}: warm_start.checkpoint {source} is not a file "
                             f"(a relative path is read from the workspace {root})")
