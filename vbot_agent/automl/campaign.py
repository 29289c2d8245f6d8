"""The campaign's entry points: a new campaign, ``--resume``, and ``vbot automl worker``.

Each builds a :class:`~vbot_agent.automl.session.CampaignSession` (the workspace lock held for a
campaign) and runs it: the search, then in mode stage the final run. See ``session`` for the loop,
``trial_runs`` for what one trial records and ``recovery`` for what a resume adopts or runs again.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from vbot_agent.automl.recovery import prepare_final, recover_trials
from vbot_agent.automl.search_space import SearchSpace, check_keys, encode_for_optuna
from vbot_agent.automl.session import RESUME_HINT, CampaignSession, CampaignStopped, summary
from vbot_agent.automl.settings import (
    AutomlSettings,
    redact,
    settings_from_dict,
    settings_to_dict,
    storage_for_resume,
)
from vbot_agent.automl.study import create_study, load_study, open_storage, state_word
from vbot_agent.automl.trial_runs import run_final
from vbot_agent.errors import UsageError
from vbot_agent.fileio import atomic_write_yaml
from vbot_agent.trials.backend import load_backend
from vbot_agent.trials.score import formula
from vbot_agent.workspace import Paths, report
from vbot_agent.workspace.liveness import resume_command
from vbot_agent.workspace.lock import WorkspaceLock
from vbot_agent.workspace.state import CampaignState, FinalState, StateWriter, load_state, new_state

__all__ = ["CampaignStopped", "check_search_space", "resume", "run_worker", "start"]


def check_search_space(settings: AutomlSettings) -> SearchSpace:
    """The mode's search space, every key resolved through the backend's trainer config."""
    space = settings.space()
    backend = load_backend(settings.backend)
    check_keys(space, lambda assignments: backend.check_overrides(settings.env_id, settings.train, assignments))
    return space


def start(root: Path, settings: AutomlSettings, *, say) -> dict[str, Any]:
    """A new campaign on workspace ``root``. Refused while another holds the lock or an unfinished
    campaign's state is in the way."""
    paths = Paths(root)
    space = check_search_space(settings)
    automl_id = f"automl_{datetime.now().strftime('%Y%m%d_%H%M%S')}_{secrets.token_hex(2)}"
    with WorkspaceLock(paths.automl_lock, automl_id):
        previous_text = _existing_state_text(paths)
        storage_url = settings.storage or paths.default_storage_url
        settings = replace(settings, storage=storage_url)
        storage = open_storage(storage_url, settings)
        study = create_study(storage, automl_id, settings, seed_offset=0)
        study.set_user_attr("settings", settings_to_dict(settings))
        study.set_user_attr("automl_id", automl_id)
        study.set_user_attr("status", CampaignState.RUNNING)
        for values in space.known_good:
            study.enqueue_trial(encode_for_optuna(space, values), user_attrs={"known_good": True})
        state = new_state(automl_id=automl_id, settings=settings_to_dict(settings), storage=redact(storage_url),
                          study_name=automl_id, score_formula=formula(settings.score))
        if previous_text:  # curriculum progress outlives the campaign it was recorded beside
            previous = load_state(paths.state_file)
            state["curriculum"] = previous.get("curriculum")
        log = report.log_dir(root, automl_id)
        atomic_write_yaml(log / "configs" / "automl.yaml", settings_to_dict(settings))
        atomic_write_yaml(log / "configs" / "search_space.yaml", space.to_dict())
        writer = StateWriter(paths.state_file, log / "state.yaml", previous_text)
        session = CampaignSession(root=root, settings=settings, automl_id=automl_id, study=study, storage_url=storage_url,
                          role="campaign", say=say, state=state, writer=writer)
        study.set_user_attr("deadline_unix", session.deadline)
        say(f"campaign {automl_id}: mode {settings.mode}, {settings.hp_trials} trial{'s' * (settings.hp_trials != 1)} of {settings.trial_steps:,} "
            f"env steps on {settings.env_id}, budget {settings.budget_hours:g} h; state {paths.state_file}")
        return _run(session)


def resume(root: Path, *, budget_hours: float | None, say, storage: str | None = None) -> dict[str, Any]:
    """Continue the campaign in the workspace's state file with the settings stored there.

    The state never holds the storage's password: ``storage`` (the same URL with it) supplies it,
    else libpq reads PGPASSWORD or ~/.pgpass.
    """
    paths = Paths(root)
    state = load_state(paths.state_file)
    with WorkspaceLock(paths.automl_lock, state["automl_id"]):
        text = paths.state_file.read_text()
        state = load_state(paths.state_file)  # re-read under the lock
        if state["mode"] == "curriculum":
            raise UsageError(f"the state in {paths.state_file} belongs to a curriculum, not an automl campaign; "
                             "continue it with `vbot curriculum run`")
        settings = settings_from_dict(state["settings"], str(paths.state_file))
        if budget_hours is not None:
            settings = replace(settings, budget_hours=budget_hours)
            state["budget_hours"] = budget_hours
        state["settings"] = settings_to_dict(settings)  # also redacts a password an older state kept
        if state["status"] == CampaignState.COMPLETE:
            say(f"campaign {state['automl_id']} is already complete; nothing to resume")
            return summary(state, paths.state_file)
        if state["elapsed_hours"] >= settings.budget_hours:
            raise UsageError(f"campaign {state['automl_id']} used {state['elapsed_hours']:.3f} h of its "
                             f"{settings.budget_hours:g} h budget; give a larger one: "
                             f"`vbot automl --resume --budget-hours H`")
        storage_url = storage_for_resume(settings.storage or state["storage"], storage)
        storage = open_storage(storage_url, settings)
        study = load_study(storage, state["study_name"], settings,
                           seed_offset=len(load_study(storage, state["study_name"]).trials))
        old_pid, old_host = state["pid"], state["host"]
        previous_status = state["status"]
        state.update(status=CampaignState.RUNNING.value, pid=os.getpid(), host=socket.gethostname(), message=None)
        prepare_final(state, say)
        log = report.log_dir(root, state["automl_id"])
        writer = StateWriter(paths.state_file, log / "state.yaml", text)
        session = CampaignSession(root=root, settings=settings, automl_id=state["automl_id"], study=study,
                          storage_url=storage_url, role="campaign", say=say, state=state, writer=writer,
                          base_elapsed_hours=float(state["elapsed_hours"]))
        recover_trials(session, old_pid, old_host)
        study.set_user_attr("status", CampaignState.RUNNING)
        study.set_user_attr("deadline_unix", session.deadline)
        study.set_user_attr("settings", settings_to_dict(settings))
        say(f"resuming campaign {state['automl_id']} (was {previous_status}) at {state['elapsed_hours']:.3f} h "
            f"of {settings.budget_hours:g} h, phase {state['phase']}")
        return _run(session)


def _run(session: CampaignSession) -> dict[str, Any]:
    with session.stop:  # SIGINT/SIGTERM: stop the running trial, write the state, exit 130
        session.write_state()
        if session.state["phase"] == "search":
            session.run_search()
        if session.state["phase"] in ("search", "final") and session.settings.mode == "stage" \
                and session.stop_reason is None and not session.budget_hit \
                and (session.state.get("final") or {}).get("state") != FinalState.COMPLETE:
            run_final(session)
        return session.finish()


def run_worker(root: Path, storage_url: str, study_name: str, *, say) -> dict[str, Any]:
    """Join study ``study_name`` in ``storage_url`` and run its trials until it is done."""
    from vbot_agent.automl.study import quiet_optuna

    quiet_optuna()
    probe = load_study(open_storage(storage_url, AutomlSettings()), study_name)
    stored = probe.user_attrs.get("settings")
    if not stored:
        raise UsageError(f"study {study_name!r} has no campaign settings; it was not created by `vbot automl`")
    settings = replace(settings_from_dict(stored, f"study {study_name}"), storage=storage_url)
    storage = open_storage(storage_url, settings)
    study = load_study(storage, study_name, settings, seed_offset=len(probe.trials) + 1 + os.getpid() % 997)
    deadline = probe.user_attrs.get("deadline_unix")
    session = CampaignSession(root=root, settings=settings, automl_id=probe.user_attrs.get("automl_id", study_name),
                      study=study, storage_url=storage_url, role="worker", say=say)
    if deadline is not None:
        session.deadline = float(deadline)
    say(f"worker {session.worker_id} joined study {study_name} ({redact(storage_url)})")
    with session.stop:
        session.run_search()
    mine = [t for t in study.get_trials(deepcopy=False) if t.user_attrs.get("worker") == session.worker_id]
    counts: dict[str, int] = {}
    for t in mine:
        counts[state_word(t)] = counts.get(state_word(t), 0) + 1
    result = {"worker": session.worker_id, "study": study_name, "trials_run": [t.number for t in mine],
              "states": counts, "stopped_by": session.stop_reason}
    if session.stop_reason:
        raise CampaignStopped(f"worker stopped by {session.stop_reason}; start it again to go on")
    return result


def start_refusal(paths: Paths) -> str | None:
    """Why a new campaign may not start in this workspace now (an unfinished campaign or curriculum
    owns its state), or None. Checked before the plan's throughput measurement, by ``--dry-run`` too."""
    if not paths.state_file.exists():
        return None
    state = load_state(paths.state_file)  # corrupt -> UsageError naming the last good snapshot
    if state["status"] not in (CampaignState.RUNNING, CampaignState.STOPPED):
        return None
    what = "curriculum" if state.get("mode") == "curriculum" else "campaign"
    command = resume_command(state)
    then = ", then `vbot curriculum run`" if command.startswith("vbot curriculum edit") else ""
    hint = RESUME_HINT if what == "campaign" else f"continue it with `{command}`{then}"
    cur = state.get("curriculum") if isinstance(state.get("curriculum"), dict) else {}
    status = f"status {state['status']}" + (f", curriculum {cur['status']}" if cur.get("status") else "")
    return (f"{what} {state['automl_id']} in this workspace is unfinished ({status}); {hint}; "
            f"a new campaign starts in another workspace (`vbot init DIR`, then `vbot automl` there), "
            f"never over this one's state")


def _existing_state_text(paths: Paths) -> str | None:
    """The current state's text when a new campaign may replace it; refuse an unfinished one."""
    refusal = start_refusal(paths)
    if refusal:
        raise UsageError(refusal)
    return paths.state_file.read_text() if paths.state_file.exists() else None
