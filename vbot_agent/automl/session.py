"""One process taking part in a campaign: its clock, signals, the state it writes, the search loop.

One :class:`CampaignSession` per process, with ``role`` "campaign" (holds the workspace lock and is
the only writer of the state) or "worker" (runs trials only). The optuna study (SQLite in the
workspace, or PostgreSQL) is the durable record of trials; the state file is rebuilt from it at
every heartbeat, so a ``kill -9`` loses at most the running trial (which ``--resume`` adopts when
its training had finished, else queues again) and one heartbeat of elapsed time.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import Any

from vbot_agent.automl.recovery import adopt_stale_finished, fail_unbeaten
from vbot_agent.automl.search_space import decode_from_optuna, parse_search_space, split_values
from vbot_agent.automl.settings import AutomlSettings
from vbot_agent.automl.study import count_done, retried_numbers, state_word
from vbot_agent.automl.trial_runs import TRIAL_ENDINGS, run_search_trial
from vbot_agent.errors import VbotError
from vbot_agent.fileio import read_json
from vbot_agent.signals import GracefulStop
from vbot_agent.trials.trial import LIVE_FILE, TrialConfig
from vbot_agent.workspace import Paths, checkpoints, report
from vbot_agent.workspace.read_model import relative
from vbot_agent.workspace.state import (
    CampaignState,
    FinalState,
    StateWriter,
    TrialState,
    count_trials,
    now_iso,
)

RESUME_HINT = "resume with `vbot automl --resume`"


class CampaignStopped(VbotError):
    """SIGINT/SIGTERM stopped the campaign gracefully (exit 130); the message says how to resume."""

    exit_code = 130


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
        self.stop = GracefulStop()  # entered by the campaign loop; its reason stops trials and the loop
        self.budget_hit = False
        self.live: dict[str, Any] | None = None
        self._last_write = 0.0
        self.write_error: str | None = None  # why the last state write failed, until one succeeds

    # -- clock and signals ------------------------------------------------------------------
    def elapsed_hours(self) -> float:
        return self.base_elapsed_hours + (time.time() - self.session_start) / 3600.0

    @property
    def stop_reason(self) -> str | None:
        """``SIGINT``/``SIGTERM`` once a signal asked the campaign to stop, else None."""
        return self.stop.reason

    # -- state ------------------------------------------------------------------------------
    def write_state(self, *, force: bool = True, final: bool = False) -> None:
        """Rebuild trials/best from the study and write the state (campaign role only).

        A write the file system refuses (OSError) is reported once and retried at the next write, so
        a full disk does not kill a trial; ``final`` (the closing write) raises VbotError instead.
        """
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
        st["elapsed_hours"] = round(self.elapsed_hours(), 6)
        st["heartbeat"] = now_iso(now)
        st["live"] = self.live
        try:
            self.writer.write(st)
        except OSError as exc:  # disk full, folder read-only: the study still records every trial
            if self.write_error is None:
                self.say(f"cannot write the campaign state {self.paths.state_file} ({exc.strerror or exc}); "
                         "trials go on and are recorded in the study; the state is written again once it can be")
            self.write_error = f"{exc.strerror or exc}"
            if final:
                raise VbotError(f"cannot write the campaign state {self.paths.state_file} ({self.write_error}); "
                                f"every trial is in the study: make the folder writable, then {RESUME_HINT}") from None
            return
        if self.write_error is not None:
            self.say(f"the campaign state is written again ({self.paths.state_file})")
            self.write_error = None

    def trial_record(self, t, retried: set[int]) -> dict[str, Any]:
        return trial_record(t, self.full_space, retried)

    @staticmethod
    def best_record(trials: list[dict[str, Any]], final: dict[str, Any] | None) -> dict[str, Any] | None:
        candidates = [t for t in trials if t["state"] == TrialState.COMPLETE and t["score"] is not None]
        best = max(candidates, key=lambda t: (t["score"], t["number"])) if candidates else None  # ties: the later
        record = None
        if best is not None:
            record = {k: best[k] for k in ("score", "params", "reward_scales", "checkpoint", "metrics", "run_dir")}
            record["trial"] = best["number"]
        if final and final.get("state") == FinalState.COMPLETE and (record is None or final["score"] >= record["score"]):
            record = {k: final.get(k) for k in ("score", "params", "reward_scales", "checkpoint", "metrics", "run_dir")}
            record["trial"] = "final"
        return record

    def tick(self, number: int | str, name: str, pid: int, out: Path) -> None:
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
            if self.role == "worker" and self.study.user_attrs.get("status") not in (None, CampaignState.RUNNING):
                self.say(f"campaign status is {self.study.user_attrs.get('status')}; worker stops")
                break
            adopt_stale_finished(self)  # a dead worker's trial that had finished training: scored
            fail_stale_trials(self.study)  # other trials of dead workers -> failed and queued again
            fail_unbeaten(self)  # a worker killed before its trial's first heartbeat: queued again
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
            self.study.optimize(lambda trial: run_search_trial(self, trial), n_trials=1, catch=TRIAL_ENDINGS)
            self.write_state()
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
        st["status"] = status.value
        st["live"] = None
        self.live = None
        self.study.set_user_attr("status", status)
        self.write_state(final=True)
        report.write_index(self.log, st)
        report.write_report(self.log, st)
        if status == CampaignState.STOPPED:
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


def _relative(root: Path, path: str | None) -> str | None:
    return relative(root, path) if path else None


def trial_record(t, space, retried: set[int]) -> dict[str, Any]:
    """One trial of the state, from its optuna record (plain types)."""
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
        "error": error, "worker": ua.get("worker"), "retry_of": retry_of, "retried": t.number in retried,
        "adopted": bool(ua.get("adopted")), "continues": ua.get("continues"),
        "intermediate": [{"step": int(k), "score": v} for k, v in sorted(t.intermediate_values.items())],
    }
