"""What ``--resume`` does with the trials a dead campaign process left behind.

A trial the old process was running is in one of three conditions:

- its trainer reached its env steps (``result.json`` says complete, or the run's progress.json has
  the trial's steps and a ``last.pt``): the run is **adopted**: scored (from ``result.json``, else
  the trainer's own final evaluation, else evaluation episodes of ``last.pt`` here), marked complete
  in the study and registered. Nothing is retrained.
- it was cut off mid-training: failed and queued again with the same settings under a new number
  (``max_retries`` copies at most, then recorded failed).
- it was stopped by a signal earlier (``interrupted``) and not yet queued again: the same.

The stage's final run is continued from its last checkpoint, or scored when it had reached its
steps (``prepare_final``, ``final_run_to_continue``, ``score_finished_final``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vbot_agent.automl.study import fail_and_retry, retried_numbers
from vbot_agent.fileio import read_json
from vbot_agent.trials.backend import load_backend
from vbot_agent.trials.launcher import kill_orphans
from vbot_agent.trials.outcomes import TrialOutcome
from vbot_agent.trials.score import compute_score
from vbot_agent.trials.trial import (
    LIVE_FILE,
    RESULT_FILE,
    TrialConfig,
    final_metrics,
    load_trial_config,
    run_env_steps,
)
from vbot_agent.workspace import report
from vbot_agent.workspace.state import FinalState, TrialState, now_iso


def finished_run(out_dir: Path, config_path: Path) -> dict[str, Any] | None:
    """The outcome of a trial whose training reached its env steps, or None when it did not.

    ``out_dir`` is the trial's folder (``result.json``, ``live.json``), ``config_path`` its
    TrialConfig YAML. Returns {state: complete | pruned, score, metrics, run_dir, checkpoint, error}.
    """
    result = read_json(out_dir / RESULT_FILE)
    if result and result.get("status") in (TrialOutcome.COMPLETE, TrialOutcome.BUDGET) and result.get("score") is not None:
        return {"state": TrialState.COMPLETE if result["status"] == TrialOutcome.COMPLETE else TrialState.PRUNED,
                "score": result["score"],
                "metrics": result.get("metrics"), "run_dir": result.get("run_dir"),
                "checkpoint": result.get("checkpoint"), "error": result.get("error")}
    live = read_json(out_dir / LIVE_FILE)
    if not live or not live.get("run_dir") or not config_path.is_file():
        return None
    cfg = load_trial_config(config_path)
    run_dir = Path(live["run_dir"])
    if not run_dir.is_absolute():
        run_dir = Path(cfg.workspace) / run_dir
    last = run_dir / "checkpoints" / "last.pt"
    if run_env_steps(run_dir) < cfg.max_env_steps or not last.is_file():
        return None
    metrics, _ = final_metrics(load_backend(cfg.backend), run_dir, last, cfg, cfg.evaluation.final_episodes)
    return {"state": TrialState.COMPLETE, "score": compute_score(metrics, cfg.score), "metrics": metrics,
            "run_dir": str(run_dir.resolve()), "checkpoint": str(last.resolve()), "error": None}


def recover_trials(session, old_pid: int, old_host: str) -> None:
    """Adopt or queue again the trials the campaign process ``old_pid`` on ``old_host`` left running
    or interrupted (``session`` is the resuming CampaignSession)."""
    study, say = session.study, session.say
    old_owner = f"{old_host}:{old_pid}"
    trials = study.get_trials(deepcopy=False)
    retried = retried_numbers(trials)
    for t in trials:
        mine_running = t.state.name == "RUNNING" and t.user_attrs.get("worker") == old_owner
        interrupted = t.state.name == "FAIL" and t.user_attrs.get("interrupted") and t.number not in retried
        if not (mine_running or interrupted):
            continue
        name = report.trial_name(t.number)
        if mine_running:
            # a trial process still evaluating would write result.json beside ours
            killed = kill_orphans({f"{session.automl_id}/{name}"})
            if killed:
                say(f"killed the orphaned processes {killed} of trial {t.number}")
            done = finished_run(session.log / "experiments" / name, session.log / "configs" / f"{name}.yaml")
            if done is not None and adopt(session, t, name, done):
                continue
        queued = fail_and_retry(study, t, f"interrupted: campaign process {old_pid} on {old_host} "
                                          "stopped during the trial", session.settings.max_retries)
        say(f"trial {t.number} was interrupted; " + ("queued again" if queued else "retries used up, recorded failed"))


def adopt_stale_finished(session) -> None:
    """Adopt each trial whose process stopped beating (a worker killed) but whose training had
    reached its steps, before optuna fails and queues it again. Its folder must be on this machine
    (a worker's on another machine is not, and that trial is queued again)."""
    storage = session.study._storage  # optuna's stale-trial query is private, like its use here
    find_stale = getattr(storage, "_get_stale_trial_ids", None)
    if find_stale is None:
        return
    for trial_id in find_stale(session.study._study_id):
        trial = storage.get_trial(trial_id)
        name = report.trial_name(trial.number)
        done = finished_run(session.log / "experiments" / name, session.log / "configs" / f"{name}.yaml")
        if done is not None:
            adopt(session, trial, name, done)


def fail_unbeaten(session) -> None:
    """Fail and queue again each RUNNING trial that never recorded a heartbeat and is older than the
    grace period: its process died between optuna creating the trial and its heartbeat thread's first
    beat. optuna's stale check skips trials without a heartbeat, so without this the campaign would
    wait for it forever. Nothing of it ran (training starts after the first beat)."""
    from datetime import datetime

    storage = getattr(session.study._storage, "_backend", session.study._storage)  # under optuna's cache
    try:  # optuna's heartbeat table is private, like the stale-trial query above
        from optuna.storages._rdb import models
    except ImportError:
        return
    if not hasattr(storage, "scoped_session"):
        return
    grace = session.settings.timeouts.grace_s
    now = datetime.now()  # optuna stamps datetime_start in naive local time
    old = [t for t in session.study.get_trials(deepcopy=False)
           if t.state.name == "RUNNING" and t.datetime_start is not None
           and (now - t.datetime_start).total_seconds() > grace]
    if not old:
        return
    db = storage.scoped_session()
    try:
        beaten = {row[0] for row in db.query(models.TrialHeartbeatModel.trial_id)
                  .filter(models.TrialHeartbeatModel.trial_id.in_([t._trial_id for t in old])).all()}
    finally:
        db.close()
    for trial in old:
        if trial._trial_id not in beaten:
            queued = fail_and_retry(session.study, trial, "its process died before its first heartbeat",
                                    session.settings.max_retries)
            session.say(f"trial {trial.number} never started (no heartbeat after {grace:g} s); "
                        + ("queued again" if queued else "retries used up, recorded failed"))


def finished_original(session, trial) -> tuple[int, dict[str, Any]] | None:
    """For a queued copy of failed trials (optuna's ``retry_history``): the newest original whose
    training had finished on this machine, and its outcome (see finished_run); else None.

    optuna fails a trial whose process stopped beating before anyone can look at its run (its
    own ``optimize`` does so too), so the copy, not the original, takes the finished run over.
    """
    history = session.study._storage.get_trial(trial._trial_id).system_attrs.get("retry_history") or []
    for number in reversed(history):
        name = report.trial_name(number)
        done = finished_run(session.log / "experiments" / name, session.log / "configs" / f"{name}.yaml")
        if done is not None:
            return number, done
    return None


def adopt(session, trial, name: str, done: dict[str, Any]) -> bool:
    """Record the RUNNING optuna ``trial`` as ``done`` (see finished_run); False when another
    process finished it meanwhile."""
    import optuna

    storage = session.study._storage  # optuna has no public API to finish another process's trial
    attrs = {k: done[k] for k in ("metrics", "score", "run_dir", "checkpoint", "error")}
    try:
        for key, value in {**attrs, "adopted": True}.items():
            storage.set_trial_user_attr(trial._trial_id, key, value)
        if done["state"] == TrialState.COMPLETE:
            storage.set_trial_state_values(trial._trial_id, state=optuna.trial.TrialState.COMPLETE,
                                           values=[float(done["score"])])
        else:
            storage.set_trial_state_values(trial._trial_id, state=optuna.trial.TrialState.PRUNED)
    except optuna.exceptions.UpdateFinishedTrialError:
        return False
    params = session.trial_values(trial.params)
    record = {"number": trial.number, "name": name, "state": done["state"], **params, **attrs,
              "worker": trial.user_attrs.get("worker"), "adopted": True}
    report.write_summary(session.log, name, record)
    if done["state"] == TrialState.COMPLETE:
        session.register(name, record)
    session.say(f"trial {trial.number} had finished training before the campaign stopped: adopted, "
                f"score {done['score']:.4g} (not retrained)")
    return True


# -- the stage's final run ------------------------------------------------------------------------
def prepare_final(state: dict[str, Any], say) -> None:
    """Mark an unfinished final run to run again at resume: one that was killed, stopped or out of
    budget continues from its last checkpoint (its orphaned trainer killed first, so it does not
    write on beside the next one); a failed one starts afresh."""
    final = state.get("final")
    if not final or final.get("state") == FinalState.COMPLETE:
        return
    if final.get("state") == FinalState.RUNNING:
        killed = kill_orphans({f"{state['automl_id']}/final"})
        if killed:
            say(f"killed the orphaned processes {killed} of the final run")
    final["continue"] = final.get("state") in (FinalState.RUNNING, FinalState.INTERRUPTED, FinalState.BUDGET)
    final["state"] = FinalState.WAITING.value


def score_finished_final(session, run_dir: Path, cfg: TrialConfig) -> None:
    """Record a final run that reached its steps while the campaign was down: its own final
    evaluation when it made one, else evaluation episodes of its last.pt here. Nothing retrains."""
    last = run_dir / "checkpoints" / "last.pt"
    metrics, _ = final_metrics(load_backend(cfg.backend), run_dir, last, cfg, cfg.evaluation.final_episodes)
    st = session.state
    st["final"].update(state=FinalState.COMPLETE.value, metrics=metrics, score=compute_score(metrics, cfg.score),
                       run_dir=str(run_dir), checkpoint=str(last), finished_at=now_iso())
    report.write_summary(session.log, "final", {"name": "final", **st["final"]})
    session.register("final", {"number": "final", **st["final"]})
    session.say(f"final training had reached its {session.settings.final_steps} env steps before the campaign "
             f"stopped; scored {last}: {st['final']['score']:.4g}")


def final_run_to_continue(session, out: Path) -> Path | None:
    """The earlier final run's folder when it has a last.pt and either a resume marked it to continue
    (killed, stopped or out of budget) or it had reached its steps: a final recorded failed after
    its training ended (its trial process killed before the result was written) is scored, never
    trained again."""
    live = read_json(out / LIVE_FILE)
    run_dir = Path(live["run_dir"]) if live and live.get("run_dir") else None
    if run_dir is None or not (run_dir / "checkpoints" / "last.pt").is_file():
        return None
    if (session.state.get("final") or {}).get("continue"):
        return run_dir
    return run_dir if run_env_steps(run_dir) >= session.settings.final_steps else None
