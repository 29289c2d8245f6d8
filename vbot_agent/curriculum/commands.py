"""The curriculum commands: ``vbot curriculum status|advance|run`` (engine in ``curriculum.session``).

``status`` is read-only and never an error for want of a curriculum: it then says none is in
progress and how to start one. ``advance`` re-reads the plan file of the curriculum in progress,
so lowered criteria or a larger budget written there count, and refuses naming each failing
criterion with its measured value and its bar. ``run`` trains until the plan ends.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

from vbot_agent.curriculum.plan import check_promotion
from vbot_agent.curriculum.records import RUN_HINT, plan_names
from vbot_agent.curriculum.session import CurriculumSession, PromotionRefused
from vbot_agent.errors import UsageError
from vbot_agent.workspace import Paths
from vbot_agent.workspace.lock import WorkspaceLock, is_locked
from vbot_agent.workspace.state import load_state


def summarize(session: CurriculumSession, *, running: bool = False) -> dict[str, Any]:
    """What ``status`` (and the end of ``run``/``advance``) shows: the plan, each stage vs its criteria."""
    cur, plan = session.cur, session.plan
    stages = []
    for i, (stage, rec) in enumerate(zip(plan.stages, cur["stages"])):
        check = check_promotion(stage.promote, rec["evaluations"])
        last = rec["evaluations"][-1] if rec["evaluations"] else None
        stages.append({
            "index": i, "name": stage.name, "env_id": stage.env_id, "status": rec["status"], "env": stage.env,
            "steps": stage.steps, "env_steps": rec["env_steps"], "run_dir": rec["run_dir"],
            "best_checkpoint": rec["best_checkpoint"], "metrics": rec["metrics"],
            "best_success_rate": (rec["metrics"] or {}).get("success_rate"),
            "last_evaluation": last, "evaluations": len(rec["evaluations"]), "wall_s": rec["wall_s"],
            "criteria": {"success_rate": stage.promote.success_rate, "min_env_steps": stage.promote.min_env_steps,
                         "patience": stage.promote.patience, "max_fall_rate": stage.promote.max_fall_rate,
                         "stuck_after": stage.promote.stuck_after},
            "check": check.to_dict(), "warm_start": rec["warm_start"], "error": rec["error"],
        })
    index = cur["stage_index"]
    nxt = {"complete": None, "stuck": f"edit {cur['plan']} then vbot curriculum run --plan {cur['plan']}"}.get(
        cur["status"], "vbot curriculum run")
    if running:
        nxt = None
    return {"plan": cur["plan"], "plan_name": plan.name, "description": plan.description, "status": cur["status"],
            "running": running, "stage_index": index,
            "current_stage": cur["stages"][index]["name"] if index < len(cur["stages"]) else None,
            "stages": stages, "message": cur.get("message"), "state_file": str(session.paths.state_file), "next": nxt}


def no_curriculum(root: Path) -> dict[str, Any]:
    """What ``status`` says when no curriculum is in progress (not an error: there is nothing to show)."""
    names = plan_names(root)
    start = f"vbot curriculum run --plan {names[0] if names else 'FILE'}"
    where = Paths(root).schedule / "curricula"
    return {"status": "none", "running": False, "plans": names, "next": start,
            "message": (f"no curriculum in progress in {root}; start one with `{start}`"
                        + (f" (plans in {where}: {', '.join(names)}; `vbot curriculum status --plan NAME` shows one)"
                           if names else " (write a plan from starter_kit_schedule/templates/"
                                         "curriculum_plan_template.yaml)"))}


def _in_progress(root: Path) -> bool:
    state_file = Paths(root).state_file
    return state_file.exists() and bool((load_state(state_file) or {}).get("curriculum"))


def status(root: Path, plan: str | None, *, cwd: Path, say) -> dict[str, Any]:
    """Read-only: the curriculum in the state, the plan given (not started yet), or that there is none."""
    if plan is None and not _in_progress(root):
        return no_curriculum(root)
    session = CurriculumSession.open(root, plan, cwd, say, write=False)
    running = session.cur["status"] == "running" and is_locked(session.paths.automl_lock)
    out = summarize(session, running=running)
    if session.cur["status"] == "running" and not running:
        out.update(status="died", next="vbot curriculum run",
                   message="the curriculum process died (it holds no workspace lock); `vbot curriculum run` resumes it")
    if not session.started:
        out.update(status="not started", message=f"plan {session.plan.name!r} is not started in this workspace",
                   next=f"vbot curriculum run --plan {plan}")
    return out


def advance(root: Path, *, cwd: Path, say) -> dict[str, Any]:
    """Promote the current stage when its measured criteria hold; PromotionRefused naming the failing ones."""
    paths = Paths(root)
    with WorkspaceLock(paths.automl_lock, "curriculum"):
        if not _in_progress(root):
            raise UsageError(no_curriculum(root)["message"] + "; `advance` promotes a stage of a curriculum in progress")
        stored = load_state(paths.state_file)["curriculum"]["plan"]
        # The plan file as it is now (criteria or budgets edited by hand count); the stored copy if it is gone.
        plan_file = stored if stored and Path(stored).is_file() else None
        session = CurriculumSession.open(root, plan_file, cwd, say, write=True)
        cur = session.cur
        if cur["stage_index"] >= len(session.plan.stages):
            raise UsageError(f"plan {session.plan.name!r} is complete; nothing to advance")
        i = cur["stage_index"]
        stage, rec = session.plan.stages[i], cur["stages"][i]
        check = check_promotion(stage.promote, rec["evaluations"])
        if not check.met:
            hint = (f"it is stuck: raise its steps in {cur['plan']} and `vbot curriculum run`, or lower its criteria "
                    "there and `vbot curriculum advance` again" if rec["status"] == "stuck"
                    else f"train on with {RUN_HINT}")
            raise PromotionRefused(f"stage {stage.name!r} not promoted: {'; '.join(check.failing)}; {hint}")
        result = session.promote(i)
        return {**result, **{k: v for k, v in summarize(session).items() if k in ("status", "stage_index", "current_stage")}}


def run(root: Path, plan: str | None, *, cwd: Path, say, restart: bool = False) -> dict[str, Any]:
    """Train the current stage and the ones after it until the plan ends, a stage is stuck or fails."""
    paths = Paths(root)
    with WorkspaceLock(paths.automl_lock, "curriculum"):
        session = CurriculumSession.open(root, plan, cwd, say, write=True, restart=restart, create=True)
        if session.cur["status"] == "complete":
            say(f"plan {session.plan.name!r} is already complete; start it again with --plan FILE --restart")
            return summarize(session)

        def handle(signum, frame):
            session.stop_reason = session.stop_reason or signal.Signals(signum).name

        previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            session.run()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return summarize(session)
