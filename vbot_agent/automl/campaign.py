"""The campaign loop: one :class:`CampaignSession` runs trials, writes the state, ends (docs/design.md, "Campaigns").

One :class:`CampaignSession` per process. The optuna study (SQLite in the workspace, or PostgreSQL) is the
durable record of trials; the state file is rebuilt from it at every heartbeat, so a ``kill -9``
loses at most the running trial (which ``--resume`` queues again) and one heartbeat of elapsed
time. Only the campaign process (holding the workspace lock) writes the state; workers only run
trials and write their own trial folders.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from vbot_agent.automl.records import (
    best_record,
    best_trial,
    relative_to_root,
    short_values,
    summary,
    trial_record,
)
from vbot_agent.automl.search_space import (
    SearchSpace,
    check_keys,
    decode_from_optuna,
    parse_search_space,
    split_values,
    suggest_values,
)
from vbot_agent.automl.settings import AutomlSettings
from vbot_agent.automl.study import (
    count_done,
    retried_numbers,
)
from vbot_agent.errors import VbotError
from vbot_agent.fileio import read_json
from vbot_agent.signals import GracefulStop
from vbot_agent.trials.backend import load_backend
from vbot_agent.trials.launcher import run_trial_process, write_trial_config
from vbot_agent.trials.outcomes import StopCause, TrialOutcome
from vbot_agent.trials.score import compute_score
from vbot_agent.trials.trial import LIVE_FILE, TrialConfig, final_metrics, run_env_steps
from vbot_agent.workspace import Paths, checkpoints, report
from vbot_agent.workspace.state import (
    CampaignState,
    FinalState,
    StateWriter,
    TrialState,
    now_iso,
)

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
        self.state, self.writer = state, writer
        self.stop = GracefulStop()  # SIGINT/SIGTERM: stop the running trial, write the state, exit 130
        self.budget_hit = False
        self.live: dict[str, Any] | None = None
        self._last_write = 0.0

    # -- clock and signals ------------------------------------------------------------------
    def elapsed_hours(self) -> float:
        return self.base_elapsed_hours + (time.time() - self.session_start) / 3600.0

    @property
    def stop_reason(self) -> str | None:
        """The signal that asked the campaign to stop (``SIGINT``/``SIGTERM``), or None."""
        return self.stop.reason

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
        st["trials"] = [trial_record(t, self.full_space, retried) for t in trials]
        st["best"] = best_record(st["trials"], st.get("final"))
        st["elapsed_hours"] = round(self.elapsed_hours(), 6)
        st["heartbeat"] = now_iso(now)
        st["live"] = self.live
        self.writer.write(st)

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
            evaluation=s.evaluation, score=s.score, deadline_unix=self.deadline, stall_s=t.stall_s, stop_s=t.stop_s,
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
        self.say(f"trial {trial.number}: {short_values(values)}")

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
        if outcome.stopped_by == StopCause.INTERRUPTED:
            error = f"interrupted by {self.stop_reason}; queued again at resume"
        elif outcome.stopped_by == StopCause.PRUNED:
            last = [e for e in outcome.events if e.get("score") is not None][-1]
            error = f"pruned at evaluation {last['step']} (score {last['score']:.4g} below the median of earlier trials)"
        for key, value in {"metrics": r.get("metrics"), "score": r.get("score"), "run_dir": r.get("run_dir"),
                           "checkpoint": r.get("checkpoint"), "error": error, "wall_s": r.get("wall_s"),
                           "eval_s": r.get("eval_s")}.items():
            trial.set_user_attr(key, value)
        if outcome.stopped_by == StopCause.INTERRUPTED:
            trial.set_user_attr("interrupted", True)
            word = TrialState.FAIL
        elif outcome.stopped_by == StopCause.PRUNED or r["status"] == TrialOutcome.BUDGET:
            word = TrialState.PRUNED
            self.budget_hit = self.budget_hit or r["status"] == TrialOutcome.BUDGET
        elif r["status"] == TrialOutcome.COMPLETE:
            word = TrialState.COMPLETE
        else:
            word = TrialState.FAIL
        params, scales = split_values(values)
        record = {"number": trial.number, "name": name, "state": word, "params": params, "reward_scales": scales,
                  "metrics": r.get("metrics"), "score": r.get("score"), "run_dir": r.get("run_dir"),
                  "checkpoint": r.get("checkpoint"), "started_at": r.get("started_at"),
                  "finished_at": r.get("finished_at"), "wall_s": r.get("wall_s"), "eval_s": r.get("eval_s"),
                  "error": error, "worker": self.worker_id, "intermediate": outcome.events}
        report.write_summary(self.log, name, record)
        self.say(f"trial {trial.number}: {word}" + (f", score {r['score']:.4g}" if r.get("score") is not None else "")
                 + (f" ({error})" if error and word != TrialState.COMPLETE else ""))
        if word == TrialState.COMPLETE:
            self._register(name, record)
            return float(r["score"])
        if outcome.stopped_by == StopCause.INTERRUPTED:
            raise _TrialInterrupted(error)
        if word == TrialState.PRUNED:
            import optuna

            raise optuna.TrialPruned(error)
        raise _TrialFailed(error)

    def _register(self, name: str, record: dict[str, Any]) -> None:
        ckpt = record.get("checkpoint")
        checkpoints.register(self.paths.registry_file, {
            "id": f"{self.automl_id}/{name}", "automl_id": self.automl_id, "trial": record["number"],
            "env_id": self.settings.env_id, "checkpoint": relative_to_root(self.root, ckpt), "run_dir": relative_to_root(self.root, record.get("run_dir")),
            "score": record.get("score"), "metrics": record.get("metrics"), "params": record.get("params"),
            "reward_scales": record.get("reward_scales"), "host": socket.gethostname(),
        })

    # -- the loops ----------------------------------------------------------------------------
    def run_search(self) -> None:
        """Run trials until ``hp_trials`` are done (and none is queued or running), the budget
        runs out or a signal arrives."""
        from optuna.storages import fail_stale_trials

        while self.stop_reason is None and not self.budget_hit:
            if time.time() >= self.deadline:
                self.budget_hit = True
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

    def run_final(self) -> None:
        """mode stage: one long training of the best configuration (recorded under ``final``)."""
        st = self.state
        best = best_trial(self.study)
        if best is None:
            st["final"] = {"state": FinalState.FAIL, "error": "no complete trial in the search; nothing to train further"}
            return
        values = decode_from_optuna(self.full_space, best.params)
        params, scales = split_values(values)
        cfg = self.trial_config(name="final", number=-1, values=values, steps=self.settings.final_steps,
                                seed=self.settings.seed + 1_000_003)
        resume_dir = self._final_run_to_continue(Path(cfg.out_dir))
        if resume_dir is None:
            (Path(cfg.out_dir) / LIVE_FILE).unlink(missing_ok=True)  # an earlier attempt's run is not this one's
        cfg = replace(cfg, resume_run_dir=str(resume_dir) if resume_dir else None)
        st["phase"] = "final"
        st["final"] = {"state": FinalState.RUNNING, "from_trial": best.number, "params": params, "reward_scales": scales,
                       "metrics": None, "score": None, "run_dir": None, "checkpoint": None,
                       "started_at": now_iso(), "finished_at": None, "error": None,
                       "continued_run": str(resume_dir) if resume_dir else None}
        if resume_dir is not None and run_env_steps(resume_dir) >= self.settings.final_steps:
            self._score_finished_final(resume_dir, cfg)  # trained to the end before the campaign recorded it
            return
        config_path = self.log / "configs" / "final.yaml"
        write_trial_config(config_path, cfg)
        self.write_state()
        self.say(f"final training of trial {best.number}'s configuration for {self.settings.final_steps} env steps"
                 + (f", continuing {resume_dir}" if resume_dir else ""))
        outcome = run_trial_process(config_path, cfg, on_event=lambda e: False,
                                    should_stop=lambda: self.stop_reason is not None,
                                    on_tick=lambda pid: self._tick("final", "final", pid, Path(cfg.out_dir)),
                                    heartbeat_s=self.settings.timeouts.heartbeat_s)
        self.live = None
        r = outcome.result
        word = {TrialOutcome.COMPLETE: FinalState.COMPLETE, TrialOutcome.BUDGET: FinalState.BUDGET}.get(
            r["status"], FinalState.FAIL)
        if outcome.stopped_by == StopCause.INTERRUPTED:
            word = FinalState.INTERRUPTED
        self.budget_hit = self.budget_hit or word == FinalState.BUDGET
        st["final"].update(state=word, metrics=r.get("metrics"), score=r.get("score"), run_dir=r.get("run_dir"),
                           checkpoint=r.get("checkpoint"), finished_at=r.get("finished_at"), error=r.get("error"),
                           intermediate=outcome.events)
        report.write_summary(self.log, "final", {"name": "final", **st["final"]})
        if word == FinalState.COMPLETE:
            self._register("final", {"number": "final", **st["final"]})
        self.say(f"final training: {word}" + (f", score {r['score']:.4g}" if r.get("score") is not None else ""))

    def _score_finished_final(self, run_dir: Path, cfg: TrialConfig) -> None:
        """Record a final run that reached its steps while the campaign was down: its own final
        evaluation when it made one, else evaluation episodes of its last.pt here. Nothing retrains."""
        last = run_dir / "checkpoints" / "last.pt"
        metrics, _ = final_metrics(load_backend(cfg.backend), run_dir, last, cfg, cfg.evaluation.final_episodes)
        st = self.state
        st["final"].update(state=FinalState.COMPLETE, metrics=metrics, score=compute_score(metrics, cfg.score),
                           run_dir=str(run_dir), checkpoint=str(last), finished_at=now_iso())
        report.write_summary(self.log, "final", {"name": "final", **st["final"]})
        self._register("final", {"number": "final", **st["final"]})
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
            status = CampaignState.STOPPED
            st["message"] = f"stopped by {self.stop_reason} at {now_iso()}; {RESUME_HINT}"
        elif self.budget_hit:
            status = CampaignState.BUDGET_EXHAUSTED
            st["message"] = (f"budget of {self.settings.budget_hours:g} h used up; to go on, "
                             f"`vbot automl --resume --budget-hours H` with H > {self.settings.budget_hours:g}")
        elif st["final"] and st["final"].get("state") == FinalState.FAIL:
            status = CampaignState.FAILED
            st["message"] = f"final training failed: {st['final'].get('error')}"
        else:
            status = CampaignState.COMPLETE
            st["phase"] = "done"
            st["message"] = None
        st["status"] = status
        st["live"] = None
        self.live = None
        self.study.set_user_attr("status", status)
        self.write_state()
        report.write_index(self.log, st)
        report.write_report(self.log, st)
        if status == CampaignState.STOPPED:
            raise CampaignStopped(st["message"])
        return summary(st, self.paths.state_file)


