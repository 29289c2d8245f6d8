"""``vbot status``: one screen about the workspace's campaign (read-only)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from vbot_agent.workspace import Paths
from vbot_agent.workspace.lock import is_locked
from vbot_agent.workspace.state import count_trials, load_state, parse_iso


def campaign_status(root: Path) -> dict[str, Any]:
    """Phase, budget, trial counts, best, the live trial, and whether the campaign process is alive."""
    paths = Paths(root)
    state = load_state(paths.state_file)
    counts = count_trials(state["trials"])
    alive = _alive(state, paths)
    heartbeat_age = None
    if state.get("heartbeat"):
        heartbeat_age = round(time.time() - (parse_iso(state["heartbeat"]) or time.time()), 1)
    status = state["status"]
    if status == "running" and not alive:
        status = "died"
    hint = None
    if status in ("died", "stopped"):
        hint = "vbot curriculum run" if state["mode"] == "curriculum" else "vbot automl --resume"
    elif status == "budget_exhausted":
        hint = "vbot automl --resume --budget-hours H"
    recent = sorted(state["trials"], key=lambda t: t["number"])[-5:]
    return {
        "automl_id": state["automl_id"], "status": status, "alive": alive, "mode": state["mode"],
        "phase": state["phase"], "env_id": state["env_id"],
        "elapsed_hours": state["elapsed_hours"], "budget_hours": state["budget_hours"],
        "heartbeat": state["heartbeat"], "heartbeat_age_s": heartbeat_age, "pid": state["pid"], "host": state["host"],
        "trials": counts, "hp_trials": state["settings"].get("hp_trials"),
        "best": state["best"], "final": state.get("final"),
        "live": state.get("live") if alive else None,  # a dead campaign's last heartbeat is not live
        "recent": [{"number": t["number"], "state": t["state"], "score": t.get("score"), "error": t.get("error")}
                   for t in recent],
        "message": state.get("message"), "next": hint, "score_formula": state["score_formula"],
    }


def _alive(state: dict[str, Any], paths: Paths) -> bool:
    """A running campaign holds the workspace lock; the kernel drops it when the process dies."""
    return state["status"] == "running" and is_locked(paths.automl_lock)


def render_status(s: dict[str, Any]) -> str:
    """The status dict as one terminal screen."""
    used = s["elapsed_hours"] / s["budget_hours"] * 100 if s["budget_hours"] else 0
    lines = [
        f"campaign {s['automl_id']}: {s['status'].upper()}  (mode {s['mode']}, phase {s['phase']}, env {s['env_id']})",
        f"budget    {s['elapsed_hours']:.2f} h of {s['budget_hours']:g} h ({used:.0f}%)   heartbeat {s['heartbeat']}"
        + (f" ({s['heartbeat_age_s']:.0f} s ago)" if s["heartbeat_age_s"] is not None else ""),
        f"trials    {sum(s['trials'].values())} of {s['hp_trials']}: "
        + (", ".join(f"{n} {k}" for k, n in sorted(s["trials"].items())) or "none yet"),
    ]
    best = s["best"]
    if best:
        lines.append(f"best      trial {best['trial']}: score {best['score']:.4f}  checkpoint {best.get('checkpoint')}")
        metrics = best.get("metrics") or {}
        lines.append("          " + "  ".join(f"{k} {metrics[k]:.3g}" for k in
                                            ("success_rate", "competition_points", "fall_rate", "time_to_target_s")
                                            if isinstance(metrics.get(k), (int, float))))
    else:
        lines.append("best      no complete trial yet")
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
    if s.get("message"):
        lines.append(f"note      {s['message']}")
    if s.get("next"):
        lines.append(f"next      {s['next']}")
    return "\n".join(lines)
