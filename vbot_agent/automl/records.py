"""The state's records of a campaign's trials, built from optuna's, and small helpers of the loop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vbot_agent.automl.search_space import (
    SearchSpace,
    decode_from_optuna,
    split_values,
)
from vbot_agent.automl.study import state_word
from vbot_agent.workspace import report
from vbot_agent.workspace.state import (
    FinalState,
    TrialState,
    now_iso,
    workspace_of,
)


def trial_record(t, space: SearchSpace, retried: set[int]) -> dict[str, Any]:
    """One trial of the state, from its optuna record ``t`` (a FrozenTrial) decoded through ``space``."""
    values = decode_from_optuna(space, t.params)
    params, scales = split_values(values)
    ua = t.user_attrs
    retry_of = t.system_attrs.get("failed_trial")
    error = ua.get("error")
    if t.state.name == "FAIL" and not error:  # failed by the heartbeat check of another process
        error = (f"worker {ua.get('worker')} stopped beating (died); "
                 + ("queued again" if t.number in retried else "retries used up"))
    return {
        "number": t.number, "state": state_word(t), "params": params, "reward_scales": scales,
        "metrics": ua.get("metrics"), "score": t.value if t.state.name == "COMPLETE" else ua.get("score"),
        "run_dir": ua.get("run_dir"), "checkpoint": ua.get("checkpoint"),
        "started_at": now_iso(t.datetime_start.timestamp()) if t.datetime_start else None,
        "finished_at": now_iso(t.datetime_complete.timestamp()) if t.datetime_complete else None,
        "error": error, "worker": ua.get("worker"), "retry_of": retry_of,
        "intermediate": [{"step": int(k), "score": v} for k, v in sorted(t.intermediate_values.items())],
    }


def best_record(trials: list[dict[str, Any]], final: dict[str, Any] | None) -> dict[str, Any] | None:
    """The campaign's best trial (or its final run when that scored at least as well), as ``best:``."""
    candidates = [t for t in trials if t["state"] == TrialState.COMPLETE and t["score"] is not None]
    best = max(candidates, key=lambda t: t["score"]) if candidates else None
    record = None
    if best is not None:
        record = {k: best[k] for k in ("score", "params", "reward_scales", "checkpoint", "metrics", "run_dir")}
        record["trial"] = best["number"]
    if final and final.get("state") == FinalState.COMPLETE and (record is None or final["score"] >= record["score"]):
        record = {k: final.get(k) for k in ("score", "params", "reward_scales", "checkpoint", "metrics", "run_dir")}
        record["trial"] = "final"
    return record



def best_trial(study):
    complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE" and t.value is not None]
    return max(complete, key=lambda t: t.value) if complete else None


def relative_to_root(root: Path, path: str | None) -> str | None:
    if not path:
        return None
    try:
        return str(Path(path).resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def short_values(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())


def summary(state: dict[str, Any], state_path: Path) -> dict[str, Any]:
    """The result of ``vbot automl``: the campaign's outcome in a few keys."""
    counts: dict[str, int] = {}
    for t in state["trials"]:
        counts[t["state"]] = counts.get(t["state"], 0) + 1
    return {"automl_id": state["automl_id"], "status": state["status"], "phase": state["phase"],
            "mode": state["mode"], "elapsed_hours": state["elapsed_hours"], "budget_hours": state["budget_hours"],
            "trials": counts, "best": state["best"], "final": state.get("final"), "message": state.get("message"),
            "state_file": str(state_path), "report": str(report.log_dir(workspace_of(state_path), state["automl_id"]) / "report.md")}
