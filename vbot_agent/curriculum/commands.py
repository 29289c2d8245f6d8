"""The functions behind ``vbot curriculum status|advance|run``: ``fn(ctx, **params) -> dict``; heavy
imports happen when one runs.

``status`` is read-only and never an error for want of a curriculum: it then says none is in
progress and how to start one. ``advance`` re-reads the plan file of the curriculum in progress,
so lowered criteria or a larger budget written there count, and refuses naming each failing
criterion with its measured value and its bar. ``run`` trains until the plan ends.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from vbot_agent.config import flatten
from vbot_agent.curriculum.plan import check_promotion
from vbot_agent.curriculum.records import CurriculumStatus, StageStatus, start_advice, summarize
from vbot_agent.curriculum.session import RUN_HINT, CurriculumSession, CurriculumStopped, PromotionRefused
from vbot_agent.errors import UsageError
from vbot_agent.sim.registry import has_competition, is_course
from vbot_agent.workspace import Paths
from vbot_agent.workspace.liveness import Verdict, campaign_liveness
from vbot_agent.workspace.lock import WorkspaceLock
from vbot_agent.workspace.state import load_state

__all__ = ["CurriculumStopped", "advance", "run", "status"]


def curriculum_status(ctx, plan: str | None = None) -> dict[str, Any]:
    return status(ctx.workspace(), plan, cwd=ctx.cwd, say=ctx.say)


def curriculum_advance(ctx) -> dict[str, Any]:
    return advance(ctx.workspace(), cwd=ctx.cwd, say=ctx.say)


def curriculum_edit(ctx, overrides: list[str] | None = None, plan: str | None = None) -> dict[str, Any]:
    from vbot_agent.curriculum.edit import edit_plan

    return edit_plan(ctx.workspace(), list(overrides or []), plan, cwd=ctx.cwd, say=ctx.say)


def curriculum_run(ctx, plan: str | None = None, restart: bool = False, dry_run: bool = False) -> dict[str, Any]:
    if dry_run:
        return dry_run_plan(ctx.workspace(), plan, cwd=ctx.cwd, say=ctx.say, restart=restart)
    try:
        return run(ctx.workspace(), plan, cwd=ctx.cwd, say=ctx.say, restart=restart)
    except CurriculumStopped as exc:  # like a stopped campaign: say how to resume, exit 130
        ctx.say(str(exc))
        raise KeyboardInterrupt from None


FIRST_PLAN = "spawn_distance"  # the plan a new workspace is pointed to: the flat arena's, where training starts


def no_curriculum(root: Path) -> dict[str, Any]:
    """What ``status`` says when no curriculum is in progress (not an error: there is nothing to show)."""
    names = sorted(p.stem for p in (Paths(root).schedule / "curricula").glob("*.yaml"))
    first = FIRST_PLAN if FIRST_PLAN in names else names[0] if names else "FILE"
    start = f"vbot curriculum run --plan {first}"
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
    dead = session.state is not None and campaign_liveness(session.state, time.time()).label == Verdict.DEAD
    # a plan shown before it starts gets a fresh record whose status says running: nothing runs yet
    running = session.started and session.cur["status"] == CurriculumStatus.RUNNING and not dead
    out = summarize(session, running=running)
    if session.started and session.cur["status"] == CurriculumStatus.RUNNING and not running:
        out.update(status="died", next="vbot curriculum run",
                   message="the curriculum process died (its pid is gone); `vbot curriculum run` resumes it")
    if not session.started:
        nxt, note = start_advice(root, session.plan.name, plan)
        out.update(status="not started", next=nxt, message=note)
    if plan is not None:
        shipped = shipped_copy_note(root, plan, cwd)
        if shipped:
            out["message"] = f"{out['message']}; {shipped}" if out.get("message") else shipped
    return out


def shipped_copy_note(root: Path, plan: str, cwd: Path) -> str | None:
    """When ``--plan NAME`` is the workspace's copy of a plan this vbot ships and the two differ (an
    older `vbot init` wrote it, or it was edited): where the shipped one is, which `--plan` takes."""
    from vbot_agent.curriculum.records import PLANS_DIR, resolve_plan_path
    from vbot_agent.workspace.init import SEED_DIR

    path = resolve_plan_path(root, plan, cwd)
    shipped = SEED_DIR / PLANS_DIR / path.name
    if path.parent != Paths(root).schedule / PLANS_DIR or not shipped.is_file():
        return None
    if path.read_text() == shipped.read_text():
        return None
    return (f"this workspace's {path.name} differs from the plan this vbot ships (an older `vbot init` wrote it, "
            f"or it was edited); `--plan {shipped}` uses the shipped one")


def advance(root: Path, *, cwd: Path, say) -> dict[str, Any]:
    """Promote the current stage when its measured criteria hold; PromotionRefused naming the failing ones."""
    paths = Paths(root)
    with WorkspaceLock(paths.automl_lock, "curriculum"):
        if not _in_progress(root):
            raise UsageError(no_curriculum(root)["message"] + "; `advance` promotes a stage of a curriculum in progress")
        # judged against the plan file as it is now (edited criteria or budgets count; the stored copy if it is gone)
        session = CurriculumSession.open(root, None, cwd, say, write=True)
        cur = session.cur
        if cur["stage_index"] >= len(session.plan.stages):
            raise UsageError(f"plan {session.plan.name!r} is complete; nothing to advance")
        i = cur["stage_index"]
        stage, rec = session.plan.stages[i], cur["stages"][i]
        check = check_promotion(stage.promote, rec["evaluations"])
        if not check.met:
            hint = (f"it is stuck: give it more env steps (`vbot curriculum edit --set {stage.name}.steps="
                    f"{2 * stage.steps}`) or lower its bar (`vbot curriculum edit --set {stage.name}.promote."
                    "success_rate=X`), then `vbot curriculum run`" if rec["status"] == StageStatus.STUCK
                    else f"train on with {RUN_HINT}")
            raise PromotionRefused(f"stage {stage.name!r} not promoted: {'; '.join(check.failing)}; {hint}")
        result = session.promote(i)
        return {**result, **{k: v for k, v in summarize(session).items() if k in ("status", "stage_index", "current_stage")}}


def run(root: Path, plan: str | None, *, cwd: Path, say, restart: bool = False) -> dict[str, Any]:
    """Train the current stage and the ones after it until the plan ends, a stage is stuck or fails."""
    paths = Paths(root)
    with WorkspaceLock(paths.automl_lock, "curriculum"):
        session = CurriculumSession.open(root, plan, cwd, say, write=True, restart=restart, create=True)
        if session.cur["status"] == CurriculumStatus.COMPLETE:
            say(f"plan {session.plan.name!r} is already complete; start it again with --plan FILE --restart")
            return summarize(session)
        with session.stop:
            return session.run()


def dry_run_plan(root: Path, plan: str | None, *, cwd: Path, say, restart: bool = False) -> dict[str, Any]:
    """What ``run`` would do, writing nothing: its refusals as errors, then the stage it trains first
    and how (fresh, warm from a checkpoint, resuming its run), and the env steps the plan has left."""
    from vbot_agent.curriculum.plan import NONE, PREVIOUS
    from vbot_agent.curriculum.records import has_more_budget, new_curriculum
    from vbot_agent.curriculum.session import other_plan_refusal

    state_file = Paths(root).state_file
    state = load_state(state_file) if state_file.exists() else None
    held = (state or {}).get("curriculum")
    session = CurriculumSession.open(root, plan, cwd, say, write=False)
    if held and held["plan_name"] != session.plan.name and held["status"] != CurriculumStatus.COMPLETE and not restart:
        raise UsageError(other_plan_refusal(held, session.plan.name))
    if restart and session.started:
        session.cur, session.started = new_curriculum(session.plan, Path(session.cur["plan"])), False
    out = summarize(session)
    if not session.started:
        out["status"] = "not started"
    cur, i = session.cur, session.cur["stage_index"]
    live = bool(state) and campaign_liveness(state, time.time()).label == Verdict.ALIVE  # run: refused by the lock
    left = sum(max(0, stage.steps - (rec["env_steps"] or 0)) for stage, rec in
               zip(session.plan.stages[i:], cur["stages"][i:]))
    if cur["status"] == CurriculumStatus.COMPLETE:
        would = f"nothing: plan {session.plan.name!r} is complete (--restart starts it again from its first stage)"
    else:
        stage, rec = session.plan.stages[i], cur["stages"][i]
        resume = session.resumable_run(i)
        check = check_promotion(stage.promote, rec["evaluations"])
        head = f"stage {i + 1}/{len(session.plan.stages)} {stage.name!r} on {stage.env_id}"
        if rec["status"] in (StageStatus.TRAINED, StageStatus.STUCK) and check.met:
            would = f"promote {head} (its evaluations meet its criteria), then train the next stage"
        elif rec["status"] == StageStatus.STUCK and not has_more_budget(stage, rec):
            would = (f"hand {head}'s best checkpoint on to the next stage (stuck: {'; '.join(check.failing)}; "
                     "on_stuck: advance)" if stage.on_stuck == "advance" and i + 1 < len(session.plan.stages)
                     and rec["best_checkpoint"] else f"nothing: {head} is stuck ({'; '.join(check.failing)}); "
                     f"`vbot curriculum edit --set {stage.name}.steps=N` or a lower bar lets it go on")
        elif resume is not None:
            would = (f"train {head} on to {stage.steps:,} env steps, resuming its run {session.rel(resume)} at its "
                     "last checkpoint")
        else:
            source = stage.warm_source(i)
            warm = (rec.get("warm_start") or {}).get("checkpoint") if source == PREVIOUS else None if source == NONE \
                else source
            how = (f"warm from {warm}" if warm else "warm from the previous stage's best checkpoint"
                   if source == PREVIOUS else "from fresh weights")
            would = f"train {head}: up to {stage.steps:,} env steps, {how}"
    if live:
        would += "; but a curriculum or campaign is running in this workspace now, so `run` would be refused until it stops"
    out.update(dry_run=True, would=would, env_steps_left=left, live=live,
               next=None if live else "vbot curriculum run" + (f" --plan {plan}" if plan else "")
               + (" --restart" if restart else ""))
    return out


# how a course stage's robots started (its evaluation points are measured there, not from START)
SPAWNED = {"anywhere": "spawned anywhere on the course", "mixed": "spawned half from START, half anywhere on the course"}


def render_dry_run(s: dict[str, Any]) -> str:
    head = "dry run: nothing trained, nothing written\n"
    tail = (f"\nrun would: {s['would']}\nenv steps left in the plan: at most {s['env_steps_left']:,}"
            + (f"\nnext  {s['next']}" if s.get("next") else ""))
    body = render_curriculum({**s, "next": None, "dry_run": False})
    return head + body + tail


def render_curriculum(s: dict[str, Any]) -> str:
    """``status``/``run`` result as one screen: a line per stage, measured vs criteria."""
    if s.get("dry_run"):
        return render_dry_run(s)
    if s["status"] == "none":
        return f"no curriculum in progress\nnote  {s['message']}\nnext  {s['next']}"
    if "promoted" in s:
        nxt = f"; next stage {s['next_stage']!r} warm from {s['warm_start']['checkpoint']}" if s.get("next_stage") else \
            "; the plan is complete"
        return (f"promoted {s['promoted']!r}: checkpoint {s['checkpoint']} registered as {s['registry_id']}{nxt}")
    lines = [f"curriculum {s['plan_name']} ({s['plan']}): {s['status'].upper()}"
             + (" (running now)" if s.get("running") else "")
             + (f", stage {s['current_stage']!r}" if s.get("current_stage") else "")]
    ev = s.get("evaluation")
    if ev:
        lines.append(f"  {s['num_envs']} envs; each stage's newest checkpoint is evaluated on {ev['episodes']} episodes "
                     f"every {ev['every_env_steps']:,} env steps ({ev['final_episodes']} at the end of its budget), by the "
                     "curriculum itself: its runs train with the trainer's own evaluations off (eval.enabled=false)")
    if s.get("train"):  # the plan's trainer config under every stage's own options (`vbot runs` shows neither)
        lines.append("  every stage trains with " + ", ".join(f"{k}={v}" for k, v in flatten(s["train"]).items())
                     + " (the plan's train:)")
    width = max(12, *(len(st["name"]) for st in s["stages"]))
    for st in s["stages"]:
        c, last = st["criteria"], st.get("last_evaluation") or {}
        rate = last.get("success_rate")
        best = st.get("best_success_rate")
        kept = st.get("metrics") or {}  # the evaluation of the stage's best checkpoint
        # points per robot on the stage's own spawns and episode length (`play --competition` scores the
        # competition's layout: from START, the section's own time)
        shown: tuple[tuple[str, str], ...] = (("fall_rate", "falls {:.2f}"),)  # the training terrain scores none
        scored = has_competition(st["env_id"])
        course = scored and is_course(st["env_id"])
        if scored:
            env = st.get("env") or {}
            start = (SPAWNED.get((env.get("spawn") or {}).get("course_start"), "from START") if course
                     else "per robot on its own spawns")  # the flat arena: not the competition's ring
            length = f", {env['episode_length_s']:g} s episodes" if isinstance(env.get("episode_length_s"), (int, float)) else ""
            shown += (("competition_points", f"points {{:.2f}} {start}{length}"),)
        extra = "".join(", " + word.format(kept[key]) for key, word in shown if isinstance(kept.get(key), (int, float)))
        paid = {k: v for k, v in (kept.get("points_by_item") or {}).items() if isinstance(v, (int, float)) and v > 0}
        if paid:
            extra += " (" + ", ".join(f"{k} {v:g}" for k, v in paid.items()) + ")"
        elif course and (kept.get("competition_points") or 0) > 0 and "points_by_item" not in kept:
            extra += " (items not recorded: evaluated by an older vbot)"
        measured = (f"last evaluation: success {rate:.2f} at {last['env_steps']:,} steps; best checkpoint: success "
                    f"{best:.2f}{extra}" if isinstance(rate, float) and isinstance(best, float) else "not evaluated")
        marker = ">" if st["index"] == s["stage_index"] else " "
        lines.append(f"{marker} {st['index'] + 1}. {st['name']:<{width}} {st['env_id']:<28} {st['status']:<9} "
                     f"{st['env_steps']:>11,}/{st['steps']:,} steps  {measured}  "
                     f"[needs >= {c['success_rate']:g}"
                     + (f" and >= {c['min_points']:g} points" if c.get("min_points") is not None else "")
                     + f" x{c['patience']} after {c['min_env_steps']:,}"
                     + "".join(f"; evaluation {k} {v:,}" for k, v in (st.get("evaluation") or {}).items()) + "]")
        warm = st.get("warm_plan")
        if warm:
            how = ("fresh weights" if warm["checkpoint"] == "none" else "the previous stage's best checkpoint"
                   if warm["checkpoint"] == "previous" else warm["checkpoint"])
            extras = [f"lr x{warm['lr_multiplier']:g}"] if warm["checkpoint"] != "none" else []
            extras += ["optimiser reset"] * bool(warm["reset_optimizer"]) + ["normaliser frozen"] * bool(warm["freeze_normalizer"])
            lines.append(f"      starts from {how}" + (f" ({', '.join(extras)})" if extras else "")
                         + f"; when stuck: {'advance from its best checkpoint' if st['on_stuck'] == 'advance' else 'stop'}")
        if st.get("overrides"):  # the stage's own trainer keys (its env options show in the episode length above)
            lines.append("      trains with " + ", ".join(f"{k}={v}" for k, v in st["overrides"].items()))
        if st["status"] not in (StageStatus.PENDING, StageStatus.PROMOTED) and not st["check"]["met"]:
            lines.append(f"      not met: {'; '.join(st['check']['failing'])}")
        if st["advanced"]:
            lines.append("      advanced anyway (on_stuck: advance): the next stage started from its best checkpoint")
        elif st["status_word"] != st["status"]:
            lines.append(f"      {st['status_word']}")
        if st.get("error"):
            lines.append(f"      error: {st['error']}")
    if s.get("message"):
        lines.append(f"note  {s['message']}")
    if s.get("next"):
        lines.append(f"next  {s['next']}")
    return "\n".join(lines)
