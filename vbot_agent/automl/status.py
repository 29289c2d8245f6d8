"""``vbot status``: one screen about the workspace's campaign (read-only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vbot_agent.errors import UsageError
from vbot_agent.trials.score import LEGEND as SCORE_LEGEND
from vbot_agent.trials.score import METRICS_SOURCE
from vbot_agent.workspace.liveness import Verdict, format_age, resume_command
from vbot_agent.workspace.read_model import env_best_notes, not_in_registry_notes, read_workspace
from vbot_agent.workspace.search_health import state_warnings
from vbot_agent.workspace.state import CampaignState, count_trials, curriculum_place, state_note


def campaign_status(root: Path) -> dict[str, Any]:
    """Phase, budget, trial counts, best, the live trial, and whether the campaign process is alive.

    ``best`` is the workspace's best registered checkpoint (the one ``vbot checkpoints --best`` and
    WAKE_UP.md name). Raises UsageError when there is no state or it is corrupt.
    """
    view = read_workspace(root)
    if view.state_error:
        raise UsageError(view.state_error)
    if view.state is None:
        raise UsageError(f"no campaign state at {view.paths.state_file}; start a campaign with `vbot automl`")
    state, liveness = view.state, view.liveness
    counts = count_trials(state["trials"])
    status = state["status"]
    if liveness.label == Verdict.DEAD:
        status = "died"
    hint = None
    if status in ("died", CampaignState.STOPPED):
        hint = resume_command(state)
    elif status == CampaignState.BUDGET_EXHAUSTED:
        hint = "vbot automl --resume --budget-hours H"
    recent = sorted(state["trials"], key=lambda t: t["number"])[-5:]
    return {
        "automl_id": state["automl_id"], "status": status, "alive": liveness.label == Verdict.ALIVE,
        "liveness": str(liveness.label), "liveness_detail": liveness.detail, "mode": state["mode"],
        "phase": None if curriculum_place(state) else state["phase"], "env_id": state["env_id"],  # a curriculum: stages
        # a curriculum has stages, not a wall budget: its state's zeros are not shown as a budget
        "elapsed_hours": None if curriculum_place(state) else state["elapsed_hours"],
        "budget_hours": None if curriculum_place(state) else state["budget_hours"],
        "heartbeat": state["heartbeat"],
        "heartbeat_age_s": None if liveness.age_s is None else round(liveness.age_s, 1),
        "pid": state["pid"], "host": state["host"],
        "trials": counts, "hp_trials": state["settings"].get("hp_trials"),
        "best": view.best, "unregistered": not_in_registry_notes(view),
        "env_bests": env_best_notes(view), "final": state.get("final"),
        "live": state.get("live") if liveness.label == Verdict.ALIVE else None,  # a dead campaign's is not live
        "search_warnings": state_warnings(state),
        "recent": [{"number": t["number"], "state": t["state"], "score": t.get("score"), "error": t.get("error")}
                   for t in recent],
        "message": state_note(state), "next": hint, "score_formula": state["score_formula"],
        "curriculum": curriculum_place(state),
    }


def _process_line(s: dict[str, Any]) -> str:
    if s["liveness"] == "finished":  # not running; the detail is only "status <status>", the outcome
        return f"process   not running (state status {s['status']})"
    return f"process   {s['liveness']}: {s['liveness_detail']}"


def render_status(s: dict[str, Any]) -> str:
    """The status dict as one terminal screen."""
    used = s["elapsed_hours"] / s["budget_hours"] * 100 if s["budget_hours"] and s["elapsed_hours"] is not None else 0
    beat = f"heartbeat {s['heartbeat']}" + (f" ({format_age(s['heartbeat_age_s'])} ago)" if s["heartbeat_age_s"] is not None else "")
    cur = s.get("curriculum")
    if cur:  # a curriculum has stages, not a budget or trials
        lines = [f"curriculum {s['automl_id']}: {s['status'].upper()}  (plan {cur['plan']}, env of the current stage "
                 f"{s['env_id']})",
                 f"stage     {cur['stage'] or '-'} ({cur['stage_number']} of {cur['stages']}), curriculum {cur['status']}; "
                 f"`vbot curriculum status` shows each stage against its bar   {beat}",
                 _process_line(s)]
    else:
        lines = [
            f"campaign {s['automl_id']}: {s['status'].upper()}  (mode {s['mode']}, phase {s['phase']}, env {s['env_id']})",
            f"budget    {s['elapsed_hours']:.2f} h of {s['budget_hours']:g} h ({used:.0f}%)   {beat}",
            _process_line(s),
            f"trials    {sum(s['trials'].values())} of {s['hp_trials']}: "
            + (", ".join(f"{n} {k}" for k, n in sorted(s["trials"].items())) or "none yet"),
        ]
    best = s["best"]
    if best:
        lines.append(f"best      {best.get('id')}: score {best['score']:.4f}  checkpoint {best.get('checkpoint')}")
        metrics = best.get("metrics") or {}
        shown = {"competition_points": "points_per_robot"}
        lines.append("          " + "  ".join(f"{shown.get(k, k)} {metrics[k]:.3g}" for k in
                                            ("success_rate", "competition_points", "fall_rate", "time_to_target_s")
                                            if isinstance(metrics.get(k), (int, float))))
        lines.append(f"          ({METRICS_SOURCE})")
    else:
        lines.append("best      no checkpoint registered yet")
    lines += [f"          {note}" for note in [*(s.get("env_bests") or []), *(s.get("unregistered") or [])]]
    live = s.get("live")
    if live and live.get("name"):
        steps, total = live.get("env_steps"), live.get("max_env_steps")
        progress = f"{steps}/{total} env steps ({steps / total * 100:.0f}%)" if steps and total else "starting"
        rate = f", {live['env_steps_per_s']:.0f} steps/s" if live.get("env_steps_per_s") else ""
        reward = f", reward {live['reward']:.3g}" if isinstance(live.get("reward"), (int, float)) else ""
        lines.append(f"live      {live['name']} (pid {live.get('pid')}): {progress}{rate}{reward}")
    if s.get("final"):
        f = s["final"]
        lines.append(f"final     {f.get('state')}" + (f", score {f['score']:.4f}" if f.get("score") is not None else ""))
    for t in s["recent"]:
        score = f"{t['score']:.4f}" if t.get("score") is not None else "-"
        lines.append(f"  #{t['number']:<4} {t['state']:<9} {score:>8}  {(t.get('error') or '')[:70]}")
    lines.append(f"score     {s['score_formula']}")
    lines.append(f"          where {SCORE_LEGEND}")
    lines += [f"warning   {w}" for w in s.get("search_warnings") or []]
    if s.get("message"):
        lines.append(f"note      {s['message']}")
    if s.get("next"):
        lines.append(f"next      {s['next']}")
    return "\n".join(lines)
