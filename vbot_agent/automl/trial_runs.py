"""What a campaign runs: one search trial (the optuna objective) and the stage's final run.

Both spawn ``vbot_agent.trials.trial`` through the launcher, relay its intermediate scores to the
pruner, and record the outcome in the study (search trials) or the state's ``final`` (final run),
in ``experiments/<name>/summary.yaml`` and, when complete, in the checkpoint registry.
``session`` is the CampaignSession of the process (``vbot_agent.automl.session``).
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from vbot_agent.automl.recovery import (
    final_run_to_continue,
    finished_original,
    finished_run,
    score_finished_final,
)
from vbot_agent.automl.search_space import decode_from_optuna, split_values, suggest_values
from vbot_agent.trials.launcher import run_trial_process, write_trial_config
from vbot_agent.trials.outcomes import StopCause, TrialOutcome
from vbot_agent.trials.trial import LIVE_FILE, RESULT_FILE, run_env_steps
from vbot_agent.workspace import report
from vbot_agent.workspace.state import FinalState, TrialState, now_iso


class TrialFailed(Exception):
    """A search trial ended without a score (recorded failed; the search goes on)."""


class TrialInterrupted(Exception):
    """A search trial stopped by a signal to the campaign (queued again at resume)."""


TRIAL_ENDINGS = (TrialFailed, TrialInterrupted)  # what ``study.optimize`` records and goes on after


def best_trial(study):
    """The complete trial with the highest score; a tie goes to the later trial, as in the checkpoint
    registry (``workspace.checkpoints.best_checkpoint``), so the final run trains the trial that
    ``vbot status`` and WAKE_UP.md call best."""
    complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE" and t.value is not None]
    return max(complete, key=lambda t: (t.value, t.number)) if complete else None


def run_search_trial(session, trial) -> float:
    """The optuna objective: run search trial ``trial`` and return its score (raises TrialPruned,
    TrialFailed or TrialInterrupted otherwise)."""
    values = suggest_values(trial, session.space)
    name = report.trial_name(trial.number)
    for key, value in {"worker": session.worker_id, "interrupted": False, "error": None, "metrics": None,
                       "score": None, "run_dir": None, "checkpoint": None}.items():
        trial.set_user_attr(key, value)  # a retried trial inherits its original's attributes
    original = finished_original(session, trial)
    if original is not None:
        return _take_over(session, trial, name, values, *original)
    cfg = session.trial_config(name=name, number=trial.number, values=values, steps=session.settings.trial_steps,
                            seed=session.settings.seed + trial.number)
    parent = continued_policy(session, trial)
    if parent is not None:
        cfg = replace(cfg, init_checkpoint=parent["checkpoint"])
    config_path = session.log / "configs" / f"{name}.yaml"
    write_trial_config(config_path, cfg)
    session.live = {"trial": trial.number, "name": name, "pid": None, "run_dir": None}
    session.write_state()
    session.say(f"trial {trial.number}: {_short(values)}"
                + (f", continuing trial {parent['trial']}'s policy" if parent is not None else ""))

    def on_event(event: dict[str, Any]) -> bool:
        if event.get("score") is None:
            return False
        trial.report(event["score"], event["step"])
        return trial.should_prune()

    outcome = run_trial_process(
        config_path, cfg, on_event=on_event, should_stop=lambda: session.stop_reason is not None,
        on_tick=lambda pid: session.tick(trial.number, name, pid, Path(cfg.out_dir)),
        heartbeat_s=session.settings.timeouts.heartbeat_s,
    )
    session.live = None
    r = outcome.result
    if outcome.stopped_by is None and not (Path(cfg.out_dir) / RESULT_FILE).is_file():
        # the trial process died (killed) without a result: its training may have finished
        done = finished_run(Path(cfg.out_dir), config_path)
        if done is not None:
            r = {**r, **{k: done[k] for k in ("score", "metrics", "run_dir", "checkpoint", "error")},
                 "status": TrialOutcome.COMPLETE if done["state"] == TrialState.COMPLETE else TrialOutcome.BUDGET}
            session.say(f"trial {trial.number}'s process died after its training had finished: scored its run")
    stopped_by = outcome.stopped_by
    if stopped_by == StopCause.INTERRUPTED and r.get("status") == TrialOutcome.COMPLETE:
        stopped_by = None  # the stop came while the finished run was being scored: keep the score
    error = r.get("error")
    if stopped_by == StopCause.INTERRUPTED:
        error = f"interrupted by {session.stop_reason}; queued again at resume"
    elif stopped_by == StopCause.PRUNED:
        last = [e for e in outcome.events if e.get("score") is not None][-1]
        error = prune_reason(session.settings.pruner, last["step"], last["score"])
    for key, value in {"metrics": r.get("metrics"), "score": r.get("score"), "run_dir": r.get("run_dir"),
                       "checkpoint": r.get("checkpoint"), "error": error, "wall_s": r.get("wall_s"),
                       "eval_s": r.get("eval_s")}.items():
        trial.set_user_attr(key, value)
    if stopped_by == StopCause.INTERRUPTED:
        trial.set_user_attr("interrupted", True)
        word = TrialState.FAIL
    elif stopped_by == StopCause.PRUNED or r["status"] == TrialOutcome.BUDGET:
        word = TrialState.PRUNED
        # a search trial stopped at the search's deadline leaves the final run its reserve
        session.budget_hit = session.budget_hit or (r["status"] == TrialOutcome.BUDGET and time.time() >= session.deadline)
    elif r["status"] == TrialOutcome.COMPLETE:
        word = TrialState.COMPLETE
    else:
        word = TrialState.FAIL
    params, scales = split_values(values)
    record = {"number": trial.number, "name": name, "state": word, "params": params, "reward_scales": scales,
              "metrics": r.get("metrics"), "score": r.get("score"), "run_dir": r.get("run_dir"),
              "checkpoint": r.get("checkpoint"), "started_at": r.get("started_at"),
              "finished_at": r.get("finished_at"), "wall_s": r.get("wall_s"), "eval_s": r.get("eval_s"),
              "error": error, "worker": session.worker_id, "intermediate": outcome.events, "continues": parent}
    report.write_summary(session.log, name, record)
    session.say(f"trial {trial.number}: {word}" + (f", score {r['score']:.4g}" if r.get("score") is not None else "")
             + (f" ({error})" if error and word != TrialState.COMPLETE else ""))
    if word == TrialState.COMPLETE:
        session.register(name, record)
        return float(r["score"])
    if stopped_by == StopCause.INTERRUPTED:
        raise TrialInterrupted(error)
    if word == TrialState.PRUNED:
        import optuna

        raise optuna.TrialPruned(error)
    raise TrialFailed(error)


def _take_over(session, trial, name: str, values: dict[str, Any], number: int, done: dict[str, Any]) -> float:
    """Record the finished run of failed trial ``number`` as copy ``trial``'s outcome: nothing trains."""
    for key in ("metrics", "score", "run_dir", "checkpoint", "error"):
        trial.set_user_attr(key, done[key])
    trial.set_user_attr("adopted", True)
    params, scales = split_values(values)
    record = {"number": trial.number, "name": name, "state": done["state"], "params": params,
              "reward_scales": scales, **{k: done[k] for k in ("metrics", "score", "run_dir", "checkpoint", "error")},
              "worker": session.worker_id, "adopted_from": number}
    report.write_summary(session.log, name, record)
    session.say(f"trial {trial.number} repeats trial {number}, whose training had finished: scored its run, "
                f"{done['score']:.4g} (not retrained)")
    if done["state"] == TrialState.COMPLETE:
        session.register(name, record)
        return float(done["score"])
    import optuna

    raise optuna.TrialPruned(f"trial {number}'s run was stopped by the budget")


def continued_policy(session, trial) -> dict[str, Any] | None:
    """``trials_from: best``: {"trial": k, "checkpoint": path} of the best complete trial, whose policy
    search trial ``trial`` continues; None for the first trials (nothing complete yet), with
    ``trials_from: scratch``, or when the file is not on this machine. Kept in the trial's
    attributes, so that a retried trial continues the same policy."""
    if session.settings.trials_from != "best":
        return None
    held = trial.user_attrs.get("continues")
    if held:
        return held if Path(held["checkpoint"]).is_file() else None
    best = best_trial(session.study)
    path = warm_start(session, best) if best is not None else None
    if path is None:
        return None
    choice = {"trial": best.number, "checkpoint": path}
    trial.set_user_attr("continues", choice)
    return choice


def warm_start(session, best) -> str | None:
    """The best trial's scored checkpoint, which the final run continues from: it trains the same
    settings (same networks), so the search's experience is not thrown away. None when the file is
    not on this machine (a trial of another worker), and the final run starts fresh."""
    path = best.user_attrs.get("checkpoint")
    if not path:
        return None
    found = Path(path) if Path(path).is_absolute() else session.root / path
    return str(found) if found.is_file() else None


def run_final(session) -> None:
    """mode stage: one long training of the best configuration (recorded under ``final``)."""
    st = session.state
    best = best_trial(session.study)
    if best is None:
        st["final"] = {"state": FinalState.FAIL.value,
                       "error": "no complete trial in the search; nothing to train further"}
        return
    values = decode_from_optuna(session.full_space, best.params)
    params, scales = split_values(values)
    cfg = session.trial_config(name="final", number=-1, values=values, steps=session.settings.final_steps,
                            seed=session.settings.seed + 1_000_003)
    resume_dir = final_run_to_continue(session, Path(cfg.out_dir))
    if resume_dir is None:
        (Path(cfg.out_dir) / LIVE_FILE).unlink(missing_ok=True)  # an earlier attempt's run is not this one's
    warm = warm_start(session, best) if resume_dir is None else None
    cfg = replace(cfg, resume_run_dir=str(resume_dir) if resume_dir else None, init_checkpoint=warm)
    st["phase"] = "final"
    st["final"] = {"state": FinalState.RUNNING.value, "from_trial": best.number, "params": params, "reward_scales": scales,
                   "metrics": None, "score": None, "run_dir": None, "checkpoint": None,
                   "started_at": now_iso(), "finished_at": None, "error": None,
                   "continued_run": str(resume_dir) if resume_dir else None, "warm_start": warm}
    if resume_dir is not None and run_env_steps(resume_dir) >= session.settings.final_steps:
        score_finished_final(session, resume_dir, cfg)  # trained to the end before the campaign recorded it
        return
    config_path = session.log / "configs" / "final.yaml"
    write_trial_config(config_path, cfg)
    session.write_state()
    session.say(f"final training of trial {best.number}'s configuration for {session.settings.final_steps} env steps"
             + (f", continuing {resume_dir}" if resume_dir else "")
             + (f", warm-started from its policy {warm}" if warm else ""))
    outcome = run_trial_process(config_path, cfg, on_event=lambda e: False,
                                should_stop=lambda: session.stop_reason is not None,
                                on_tick=lambda pid: session.tick("final", "final", pid, Path(cfg.out_dir)),
                                heartbeat_s=session.settings.timeouts.heartbeat_s)
    session.live = None
    r = outcome.result
    word = {TrialOutcome.COMPLETE: FinalState.COMPLETE,
            TrialOutcome.BUDGET: FinalState.BUDGET}.get(r["status"], FinalState.FAIL)
    if outcome.stopped_by == StopCause.INTERRUPTED and r["status"] != TrialOutcome.COMPLETE:
        word = FinalState.INTERRUPTED
    session.budget_hit = session.budget_hit or word == FinalState.BUDGET
    st["final"].update(state=word.value, metrics=r.get("metrics"), score=r.get("score"), run_dir=r.get("run_dir"),
                       checkpoint=r.get("checkpoint"), finished_at=r.get("finished_at"), error=r.get("error"),
                       intermediate=outcome.events)
    report.write_summary(session.log, "final", {"name": "final", **st["final"]})
    if word in (FinalState.COMPLETE, FinalState.BUDGET) and r.get("score") is not None:
        # a final run the budget stopped is still the campaign's longest training: weigh it too
        session.register("final", {"number": "final", **st["final"]})
    session.say(f"final training: {word}" + (f", score {r['score']:.4g}" if r.get("score") is not None else ""))

def _short(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())


def prune_reason(pruner, step: int, score: float) -> str:
    """Why the pruner (settings ``PrunerSettings``) stopped a trial, in its own rule's words."""
    rule = (f"outside the top 1/{pruner.reduction_factor} of the trials ranked at that evaluation (the best "
            f"alone until {2 * pruner.reduction_factor} are)" if pruner.type == "successive_halving"
            else "below the median of earlier trials")
    return f"pruned at evaluation {step} (score {score:.4g}, {rule})"
