"""The campaign loop: new, ``--resume`` and ``worker`` (DESIGN.md §5).

One :class:`CampaignSession` per process. The optuna study (SQLite in the workspace, or PostgreSQL) is the
durable record of trials; the state file is rebuilt from it at every heartbeat, so a ``kill -9``
loses at most the running trial (which ``--resume`` queues again) and one heartbeat of elapsed
time. Only the campaign process (holding the workspace lock) writes the state; workers only run
trials and write their own trial folders.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from vbot_agent.automl.health import search_warnings
from vbot_agent.automl.recovery import recover_trials
from vbot_agent.automl.search_space import (
    SearchSpace,
    check_keys,
    decode_from_optuna,
    encode_for_optuna,
    parse_search_space,
    split_values,
    suggest_values,
)
from vbot_agent.automl.settings import (
    AutomlSettings,
    redact,
    settings_from_dict,
    settings_to_dict,
    storage_for_resume,
)
from vbot_agent.automl.study import (
    count_done,
    create_study,
    load_study,
    open_storage,
    retried_numbers,
    state_word,
)
from vbot_agent.errors import UsageError, VbotError
from vbot_agent.fileio import atomic_write_yaml, read_json
from vbot_agent.trials.backend import load_backend
from vbot_agent.trials.launcher import kill_orphans, run_trial_process, write_trial_config
from vbot_agent.trials.score import compute_score, formula
from vbot_agent.trials.trial import LIVE_FILE, TrialConfig, final_metrics, run_env_steps
from vbot_agent.workspace import Paths, checkpoints, report
from vbot_agent.workspace.lock import WorkspaceLock
from vbot_agent.workspace.state import StateWriter, count_trials, load_state, new_state, now_iso

RESUME_HINT = "resume with `vbot automl --resume`"


class CampaignStopped(VbotError):
    """SIGINT/SIGTERM stopped the campaign gracefully (exit 130); the message says how to resume."""

    exit_code = 130


class _TrialFailed(Exception):
    pass


class _TrialInterrupted(Exception):
    pass


def check_search_space(settings: AutomlSettings) -> SearchSpace:
    """The mode's search space, every key resolved through the backend's trainer config."""
    space = settings.space()
    backend = load_backend(settings.backend)
    check_keys(space, lambda assignments: backend.check_overrides(settings.env_id, settings.train, assignments))
    return space


class CampaignSession:
    """One process taking part in a campaign: ``role`` is "campaign" (owns the state) or "worker"."""

    def __init__(self, *, root: Path, settings: AutomlSettings, automl_id: str, study, storage_url: str,
                 role: str, say, base_elapsed_hours: float = 0.0, state: dict[str, Any] | None = None,
                 writer: StateWriter | None = None) -> None:
        self.root, self.paths = root, Paths(root)
        self.settings, self.automl_id, self.study, self.storage_url = settings, automl_id, study, storage_url
        self.role, self.say = role, say
        self.space = settings.space()
        self.full_space = parse_search_space(settings.search_space)
        self.log = report.log_dir(root, automl_id)
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self.session_start = time.time()
        self.base_elapsed_hours = base_elapsed_hours
        self.deadline = self.session_start + (settings.budget_hours - base_elapsed_hours) * 3600.0
        # the search leaves the planned final run its time
        self.search_deadline = self.deadline - (settings.final_reserve_hours if settings.mode == "stage" else 0.0) * 3600.0
        self.state, self.writer = state, writer
        self.stop_reason: str | None = None
        self.budget_hit = False
        self.live: dict[str, Any] | None = None
        self._last_write = 0.0

    # -- clock and signals ------------------------------------------------------------------
    def elapsed_hours(self) -> float:
        return self.base_elapsed_hours + (time.time() - self.session_start) / 3600.0

    def install_signals(self):
        def handle(signum, frame):
            self.stop_reason = self.stop_reason or signal.Signals(signum).name

        return {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}

    # -- state ------------------------------------------------------------------------------
    def write_state(self, *, force: bool = True) -> None:
        """Rebuild trials/best from the study and write the state (campaign role only)."""
        if self.role != "campaign":
            return
        now = time.time()
        if not force and now - self._last_write < self.settings.timeouts.heartbeat_s:
            return
        self._last_write = now
        st = self.state
        trials = self.study.get_trials(deepcopy=False)
        retried = retried_numbers(trials)
        st["trials"] = [self.trial_record(t, retried) for t in trials]
        st["best"] = self.best_record(st["trials"], st.get("final"))
        st["search_warnings"] = search_warnings(st["trials"], st["settings"])
        st["elapsed_hours"] = round(self.elapsed_hours(), 6)
        st["heartbeat"] = now_iso(now)
        st["live"] = self.live
        self.writer.write(st)

    def trial_record(self, t, retried: set[int]) -> dict[str, Any]:
        """One trial of the state, from its optuna record (plain types)."""
        values = decode_from_optuna(self.full_space, t.params)
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
            "error": error, "worker": ua.get("worker"), "retry_of": retry_of, "retried": t.number in retried,
            "adopted": bool(ua.get("adopted")),
            "intermediate": [{"step": int(k), "score": v} for k, v in sorted(t.intermediate_values.items())],
        }

    @staticmethod
    def best_record(trials: list[dict[str, Any]], final: dict[str, Any] | None) -> dict[str, Any] | None:
        candidates = [t for t in trials if t["state"] == "complete" and t["score"] is not None]
        best = max(candidates, key=lambda t: t["score"]) if candidates else None
        record = None
        if best is not None:
            record = {k: best[k] for k in ("score", "params", "reward_scales", "checkpoint", "metrics", "run_dir")}
            record["trial"] = best["number"]
        if final and final.get("state") == "complete" and (record is None or final["score"] >= record["score"]):
            record = {k: final.get(k) for k in ("score", "params", "reward_scales", "checkpoint", "metrics", "run_dir")}
            record["trial"] = "final"
        return record

    def _tick(self, number: int | str, name: str, pid: int, out: Path) -> None:
        live: dict[str, Any] = {"trial": number, "name": name, "pid": pid, "run_dir": None}
        found = read_json(out / LIVE_FILE)
        if found:
            live["run_dir"] = found["run_dir"]
            try:
                progress = read_json(Path(found["run_dir"]) / "progress.json") or {}
            except ValueError:
                progress = {}
            for key in ("env_steps", "max_env_steps", "env_steps_per_s", "reward", "success_rate", "updated_at"):
                live[key] = progress.get(key)
        self.live = live
        self.write_state(force=False)

    # -- one trial --------------------------------------------------------------------------
    def trial_config(self, *, name: str, number: int, values: dict[str, Any], steps: int, seed: int) -> TrialConfig:
        s, t = self.settings, self.settings.timeouts
        return TrialConfig(
            name=name, trial=number, env_id=s.env_id, seed=seed, max_env_steps=steps, num_envs=s.num_envs,
            out_dir=str(self.log / "experiments" / name), workspace=str(self.root), values=values, train=s.train,
            evaluation=s.evaluation, score=s.score, stall_s=t.stall_s, stop_s=t.stop_s,
            deadline_unix=self.deadline if name == "final" else self.search_deadline,
            poll_s=t.poll_s, parent_pid=os.getpid(), tag=f"{self.automl_id}/{name}", backend=s.backend,
        )

    def objective(self, trial) -> float:
        values = suggest_values(trial, self.space)
        name = report.trial_name(trial.number)
        for key, value in {"worker": self.worker_id, "interrupted": False, "error": None, "metrics": None,
                           "score": None, "run_dir": None, "checkpoint": None}.items():
            trial.set_user_attr(key, value)  # a retried trial inherits its original's attributes
        cfg = self.trial_config(name=name, number=trial.number, values=values, steps=self.settings.trial_steps,
                                seed=self.settings.seed + trial.number)
        config_path = self.log / "configs" / f"{name}.yaml"
        write_trial_config(config_path, cfg)
        self.live = {"trial": trial.number, "name": name, "pid": None, "run_dir": None}
        self.write_state()
        self.say(f"trial {trial.number}: {_short(values)}")

        def on_event(event: dict[str, Any]) -> bool:
            if event.get("score") is None:
                return False
            trial.report(event["score"], event["step"])
            return trial.should_prune()

        outcome = run_trial_process(
            config_path, cfg, on_event=on_event, should_stop=lambda: self.stop_reason is not None,
            on_tick=lambda pid: self._tick(trial.number, name, pid, Path(cfg.out_dir)),
            heartbeat_s=self.settings.timeouts.heartbeat_s,
        )
        self.live = None
        r = outcome.result
        error = r.get("error")
        if outcome.stopped_by == "interrupted":
            error = f"interrupted by {self.stop_reason}; queued again at resume"
        elif outcome.stopped_by == "pruned":
            last = [e for e in outcome.events if e.get("score") is not None][-1]
            error = f"pruned at evaluation {last['step']} (score {last['score']:.4g} below the median of earlier trials)"
        for key, value in {"metrics": r.get("metrics"), "score": r.get("score"), "run_dir": r.get("run_dir"),
                           "checkpoint": r.get("checkpoint"), "error": error, "wall_s": r.get("wall_s"),
                           "eval_s": r.get("eval_s")}.items():
            trial.set_user_attr(key, value)
        if outcome.stopped_by == "interrupted":
            trial.set_user_attr("interrupted", True)
            word = "fail"
        elif outcome.stopped_by == "pruned" or r["status"] == "budget":
            word = "pruned"
            # a search trial stopped at the search's deadline leaves the final run its reserve
            self.budget_hit = self.budget_hit or (r["status"] == "budget" and time.time() >= self.deadline)
        elif r["status"] == "complete":
            word = "complete"
        else:
            word = "fail"
        params, scales = split_values(values)
        record = {"number": trial.number, "name": name, "state": word, "params": params, "reward_scales": scales,
                  "metrics": r.get("metrics"), "score": r.get("score"), "run_dir": r.get("run_dir"),
                  "checkpoint": r.get("checkpoint"), "started_at": r.get("started_at"),
                  "finished_at": r.get("finished_at"), "wall_s": r.get("wall_s"), "eval_s": r.get("eval_s"),
                  "error": error, "worker": self.worker_id, "intermediate": outcome.events}
        report.write_summary(self.log, name, record)
        self.say(f"trial {trial.number}: {word}" + (f", score {r['score']:.4g}" if r.get("score") is not None else "")
                 + (f" ({error})" if error and word != "complete" else ""))
        if word == "complete":
            self.register(name, record)
            return float(r["score"])
        if outcome.stopped_by == "interrupted":
            raise _TrialInterrupted(error)
        if word == "pruned":
            import optuna

            raise optuna.TrialPruned(error)
        raise _TrialFailed(error)

    def trial_values(self, optuna_params: dict[str, Any]) -> dict[str, Any]:
        """A trial's optuna parameters as the state's ``params`` and ``reward_scales``."""
        params, scales = split_values(decode_from_optuna(self.full_space, optuna_params))
        return {"params": params, "reward_scales": scales}

    def register(self, name: str, record: dict[str, Any]) -> None:
        ckpt = record.get("checkpoint")
        checkpoints.register(self.paths.registry_file, {
            "id": f"{self.automl_id}/{name}", "automl_id": self.automl_id, "trial": record["number"],
            "env_id": self.settings.env_id, "checkpoint": _relative(self.root, ckpt), "run_dir": _relative(self.root, record.get("run_dir")),
            "score": record.get("score"), "metrics": record.get("metrics"), "params": record.get("params"),
            "reward_scales": record.get("reward_scales"), "host": socket.gethostname(),
        })

    # -- the loops ----------------------------------------------------------------------------
    def run_search(self) -> None:
        """Run trials until ``hp_trials`` are done (and none is queued or running), the budget
        runs out or a signal arrives."""
        from optuna.storages import fail_stale_trials

        while self.stop_reason is None and not self.budget_hit:
            if time.time() >= self.search_deadline:
                self.budget_hit = time.time() >= self.deadline
                break
            if self.role == "worker" and self.study.user_attrs.get("status") not in (None, "running"):
                self.say(f"campaign status is {self.study.user_attrs.get('status')}; worker stops")
                break
            fail_stale_trials(self.study)  # trials of dead workers -> failed and queued again
            trials = self.study.get_trials(deepcopy=False)
            waiting = [t for t in trials if t.state.name == "WAITING"]
            running = [t for t in trials if t.state.name == "RUNNING"]
            # Slots held by running trials (other workers') count as taken, so that N processes do
            # not start N trials for the last slot; if one of them fails, its retry is queued and run.
            if count_done(trials) + len(running) >= self.settings.hp_trials and not waiting:
                if not running or self.role == "worker":
                    break
                self.live = {"waiting_for": [t.number for t in running]}
                self.write_state(force=False)
                time.sleep(self.settings.timeouts.poll_s)
                continue
            self.study.optimize(self.objective, n_trials=1, catch=(_TrialFailed, _TrialInterrupted))
            self.write_state()

    def _warm_start(self, best) -> str | None:
        """The best trial's scored checkpoint, which the final run continues from: it trains the same
        settings (same networks), so the search's experience is not thrown away. None when the file is
        not on this machine (a trial of another worker), and the final run starts fresh."""
        path = best.user_attrs.get("checkpoint")
        if not path:
            return None
        found = Path(path) if Path(path).is_absolute() else self.root / path
        return str(found) if found.is_file() else None

    def run_final(self) -> None:
        """mode stage: one long training of the best configuration (recorded under ``final``)."""
        st = self.state
        best = _best_trial(self.study)
        if best is None:
            st["final"] = {"state": "fail", "error": "no complete trial in the search; nothing to train further"}
            return
        values = decode_from_optuna(self.full_space, best.params)
        params, scales = split_values(values)
        cfg = self.trial_config(name="final", number=-1, values=values, steps=self.settings.final_steps,
                                seed=self.settings.seed + 1_000_003)
        resume_dir = self._final_run_to_continue(Path(cfg.out_dir))
        if resume_dir is None:
            (Path(cfg.out_dir) / LIVE_FILE).unlink(missing_ok=True)  # an earlier attempt's run is not this one's
        warm = self._warm_start(best) if resume_dir is None else None
        cfg = replace(cfg, resume_run_dir=str(resume_dir) if resume_dir else None, init_checkpoint=warm)
        st["phase"] = "final"
        st["final"] = {"state": "running", "from_trial": best.number, "params": params, "reward_scales": scales,
                       "metrics": None, "score": None, "run_dir": None, "checkpoint": None,
                       "started_at": now_iso(), "finished_at": None, "error": None,
                       "continued_run": str(resume_dir) if resume_dir else None, "warm_start": warm}
        if resume_dir is not None and run_env_steps(resume_dir) >= self.settings.final_steps:
            self._score_finished_final(resume_dir, cfg)  # trained to the end before the campaign recorded it
            return
        config_path = self.log / "configs" / "final.yaml"
        write_trial_config(config_path, cfg)
        self.write_state()
        self.say(f"final training of trial {best.number}'s configuration for {self.settings.final_steps} env steps"
                 + (f", continuing {resume_dir}" if resume_dir else "")
                 + (f", warm-started from its policy {warm}" if warm else ""))
        outcome = run_trial_process(config_path, cfg, on_event=lambda e: False,
                                    should_stop=lambda: self.stop_reason is not None,
                                    on_tick=lambda pid: self._tick("final", "final", pid, Path(cfg.out_dir)),
                                    heartbeat_s=self.settings.timeouts.heartbeat_s)
        self.live = None
        r = outcome.result
        word = {"complete": "complete", "budget": "budget"}.get(r["status"], "fail")
        if outcome.stopped_by == "interrupted":
            word = "interrupted"
        self.budget_hit = self.budget_hit or word == "budget"
        st["final"].update(state=word, metrics=r.get("metrics"), score=r.get("score"), run_dir=r.get("run_dir"),
                           checkpoint=r.get("checkpoint"), finished_at=r.get("finished_at"), error=r.get("error"),
                           intermediate=outcome.events)
        report.write_summary(self.log, "final", {"name": "final", **st["final"]})
        if word == "complete":
            self.register("final", {"number": "final", **st["final"]})
        self.say(f"final training: {word}" + (f", score {r['score']:.4g}" if r.get("score") is not None else ""))

    def _score_finished_final(self, run_dir: Path, cfg: TrialConfig) -> None:
        """Record a final run that reached its steps while the campaign was down: its own final
        evaluation when it made one, else evaluation episodes of its last.pt here. Nothing retrains."""
        last = run_dir / "checkpoints" / "last.pt"
        metrics, _ = final_metrics(load_backend(cfg.backend), run_dir, last, cfg, cfg.evaluation.final_episodes)
        st = self.state
        st["final"].update(state="complete", metrics=metrics, score=compute_score(metrics, cfg.score),
                           run_dir=str(run_dir), checkpoint=str(last), finished_at=now_iso())
        report.write_summary(self.log, "final", {"name": "final", **st["final"]})
        self.register("final", {"number": "final", **st["final"]})
        self.say(f"final training had reached its {self.settings.final_steps} env steps before the campaign "
                 f"stopped; scored {last}: {st['final']['score']:.4g}")

    def _final_run_to_continue(self, out: Path) -> Path | None:
        """The interrupted final run's folder, when a resume marked it and it has a last.pt."""
        if not (self.state.get("final") or {}).get("continue"):
            return None
        live = read_json(out / LIVE_FILE)
        run_dir = Path(live["run_dir"]) if live and live.get("run_dir") else None
        return run_dir if run_dir is not None and (run_dir / "checkpoints" / "last.pt").is_file() else None

    def finish(self) -> dict[str, Any]:
        """Write the closing state and report; raise CampaignStopped after a signal."""
        st = self.state
        if self.stop_reason:
            status = "stopped"
            st["message"] = f"stopped by {self.stop_reason} at {now_iso()}; {RESUME_HINT}"
        elif self.budget_hit:
            status = "budget_exhausted"
            st["message"] = (f"budget of {self.settings.budget_hours:g} h used up; to go on, "
                             f"`vbot automl --resume --budget-hours H` with H > {self.settings.budget_hours:g}")
        elif st["final"] and st["final"].get("state") == "fail":
            status = "failed"
            st["message"] = f"final training failed: {st['final'].get('error')}"
        else:
            status = "complete"
            st["phase"] = "done"
            st["message"] = None
        st["status"] = status
        st["live"] = None
        self.live = None
        self.study.set_user_attr("status", status)
        self.write_state()
        report.write_index(self.log, st)
        report.write_report(self.log, st)
        if status == "stopped":
            raise CampaignStopped(st["message"])
        return summary(st, self.paths.state_file)


def summary(state: dict[str, Any], state_path: Path) -> dict[str, Any]:
    """The result of ``vbot automl``: the campaign's outcome in a few keys."""
    counts = count_trials(state["trials"])
    return {"automl_id": state["automl_id"], "status": state["status"], "phase": state["phase"],
            "mode": state["mode"], "elapsed_hours": state["elapsed_hours"], "budget_hours": state["budget_hours"],
            "trials": counts, "best": state["best"], "final": state.get("final"), "message": state.get("message"),
            "state_file": str(state_path), "report": str(report.log_dir(workspace_root(state_path), state["automl_id"]) / "report.md")}


def workspace_root(state_path: Path) -> Path:
    return Path(state_path).resolve().parent.parent.parent


# -- entry points -----------------------------------------------------------------------------
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
        study.set_user_attr("status", "running")
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
        say(f"campaign {automl_id}: mode {settings.mode}, {settings.hp_trials} trials of {settings.trial_steps} "
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
        if state["status"] == "complete":
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
        state.update(status="running", pid=os.getpid(), host=socket.gethostname(), message=None)
        if state.get("final") and state["final"].get("state") != "complete":
            # phase final runs again below: a run that was killed, stopped or out of budget continues
            # from its last checkpoint; a failed one starts afresh
            if state["final"].get("state") == "running":  # its trainer must not write on beside the next one
                killed = kill_orphans({f"{state['automl_id']}/final"})
                if killed:
                    say(f"killed the orphaned processes {killed} of the final run")
            state["final"]["continue"] = state["final"].get("state") in ("running", "interrupted", "budget")
            state["final"]["state"] = "waiting"
        log = report.log_dir(root, state["automl_id"])
        writer = StateWriter(paths.state_file, log / "state.yaml", text)
        session = CampaignSession(root=root, settings=settings, automl_id=state["automl_id"], study=study,
                          storage_url=storage_url, role="campaign", say=say, state=state, writer=writer,
                          base_elapsed_hours=float(state["elapsed_hours"]))
        recover_trials(session, old_pid, old_host)
        study.set_user_attr("status", "running")
        study.set_user_attr("deadline_unix", session.deadline)
        study.set_user_attr("settings", settings_to_dict(settings))
        say(f"resuming campaign {state['automl_id']} (was {previous_status}) at {state['elapsed_hours']:.3f} h "
            f"of {settings.budget_hours:g} h, phase {state['phase']}")
        return _run(session)


def _run(session: CampaignSession) -> dict[str, Any]:
    previous = session.install_signals()
    try:
        session.write_state()
        if session.state["phase"] == "search":
            session.run_search()
        if session.state["phase"] in ("search", "final") and session.settings.mode == "stage" \
                and session.stop_reason is None and not session.budget_hit \
                and (session.state.get("final") or {}).get("state") != "complete":
            session.run_final()
        return session.finish()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


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
    previous = session.install_signals()
    try:
        session.run_search()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    mine = [t for t in study.get_trials(deepcopy=False) if t.user_attrs.get("worker") == session.worker_id]
    counts: dict[str, int] = {}
    for t in mine:
        counts[state_word(t)] = counts.get(state_word(t), 0) + 1
    result = {"worker": session.worker_id, "study": study_name, "trials_run": [t.number for t in mine],
              "states": counts, "stopped_by": session.stop_reason}
    if session.stop_reason:
        raise CampaignStopped(f"worker stopped by {session.stop_reason}; start it again to go on")
    return result


def _best_trial(study):
    complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE" and t.value is not None]
    return max(complete, key=lambda t: t.value) if complete else None


def _existing_state_text(paths: Paths) -> str | None:
    """The current state's text when a new campaign may replace it; refuse an unfinished one."""
    if not paths.state_file.exists():
        return None
    state = load_state(paths.state_file)  # corrupt -> UsageError naming the last good snapshot
    if state["status"] in ("running", "stopped"):
        raise UsageError(
            f"campaign {state['automl_id']} in this workspace is unfinished (status {state['status']}); "
            f"{RESUME_HINT}, or move {paths.state_file} away to start a new one "
            f"(its snapshot stays in starter_kit_log/{state['automl_id']}/)"
        )
    return paths.state_file.read_text()


def _relative(root: Path, path: str | None) -> str | None:
    if not path:
        return None
    try:
        return str(Path(path).resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def _short(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())
