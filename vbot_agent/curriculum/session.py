"""One open curriculum: its stages trained as trials, evaluated, promoted (docs/design.md, "Campaigns").

Progress lives in the campaign state file under ``curriculum:`` (and ``stage:``), written with the
campaign's :class:`StateWriter` while holding the workspace lock, so a curriculum and a campaign
never write the state at once. When the workspace has no state yet, a curriculum-owned one is made
(``mode: curriculum``, ``automl_id: curriculum_<stamp>_<hex>``); an existing campaign's state only
gets its ``curriculum``/``stage`` fields updated.

The records and their words (``CurriculumStatus``, ``StageStatus``) are in ``records``.

Each stage run is one trial process (``vbot_agent.trials.launcher.run_trial_process``): the trial
trains with ``vbot train`` and evaluates its checkpoints with real episodes every
``evaluation.every_env_steps``. Its backend is ``stage_backend``: the plan's own backend plus the
stage's warm-start or resume flags, written to ``launch.yaml`` in the trial folder.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from vbot_agent.curriculum.plan import (
    NONE,
    PREVIOUS,
    Plan,
    check_promotion,
    parse_plan,
)
from vbot_agent.curriculum.records import (
    CurriculumStatus,
    StageStatus,
    adopt_plan,
    available_plans,
    format_success,
    has_more_budget,
    load_workspace_plan,
    new_curriculum,
    resolve_plan_path,
    success_rate_of,
    summarize,
)
from vbot_agent.curriculum.stage_backend import LAUNCH_FILE
from vbot_agent.errors import UsageError, VbotError
from vbot_agent.fileio import atomic_copy, atomic_write_yaml, read_json
from vbot_agent.signals import GracefulStop
from vbot_agent.trials.backend import load_backend
from vbot_agent.trials.outcomes import StopCause, TrialOutcome
from vbot_agent.trials.score import ScoreWeights, compute_score, formula
from vbot_agent.trials.trial import final_metrics, run_env_steps
from vbot_agent.workspace import Paths, checkpoints, report
from vbot_agent.workspace.state import (
    CampaignState,
    StateWriter,
    curriculum_note,
    load_state,
    new_state,
    now_iso,
)

THIS_BACKEND = "vbot_agent.curriculum.stage_backend"
RUN_HINT = "`vbot curriculum run`"


class CurriculumStopped(VbotError):
    """SIGINT/SIGTERM stopped the curriculum between evaluations (exit 130)."""

    exit_code = 130


class PromotionRefused(VbotError):
    """``advance`` was asked to promote a stage whose criteria do not hold."""


def other_plan_refusal(cur: dict[str, Any], plan_name: str) -> str:
    """Why ``run --plan`` is refused while another plan's curriculum is unfinished here."""
    return (f"a curriculum of plan {cur['plan_name']!r} is in progress ({cur['status']}, stage "
            f"{cur['stage_index'] + 1} of {len(cur['stages'])}); continue it with {RUN_HINT}, "
            f"or start {plan_name!r} over it with --restart")


class CurriculumSession:
    """One open curriculum: the state (and, when writable, its writer and the plan)."""

    def __init__(self, root: Path, state: dict[str, Any], plan: Plan, writer: StateWriter | None, say) -> None:
        self.root, self.paths, self.state, self.plan, self.writer, self.say = root, Paths(root), state, plan, writer, say
        self.cur = state["curriculum"]
        self.owned = state.get("mode") == "curriculum"
        self.stop = GracefulStop()  # SIGINT/SIGTERM: stop between evaluations, write the state, exit 130
        self.started = True  # False: a plan shown by `status` that this workspace has not started

    @property
    def stop_reason(self) -> str | None:
        """The signal that asked the curriculum to stop, or None."""
        return self.stop.reason

    @classmethod
    def open(cls, root: Path, plan_arg: str | None, cwd: Path, say, *, write: bool, restart: bool = False,
             create: bool = False) -> CurriculumSession:
        paths = Paths(root)
        text = paths.state_file.read_text() if paths.state_file.exists() else None
        state = load_state(paths.state_file) if text is not None else None
        cur = (state or {}).get("curriculum")
        plan_path = resolve_plan_path(root, plan_arg, cwd) if plan_arg else None
        plan = load_workspace_plan(root, plan_path) if plan_path is not None else None
        if plan is None and cur and cur.get("plan") and Path(cur["plan"]).is_file():
            on_disk = load_workspace_plan(root, cur["plan"])
            if on_disk.name == cur["plan_name"]:  # the plan file as it is now: edited budgets and criteria count
                plan_path, plan = Path(cur["plan"]), on_disk
        if plan is not None:
            if cur and cur["plan_name"] != plan.name and (not write or cur["status"] == CurriculumStatus.COMPLETE or restart):
                cur = None  # another plan: shown as not started (status), or started afresh (run)
            elif cur and cur["plan_name"] != plan.name:
                raise UsageError(other_plan_refusal(cur, plan.name))
            elif cur and write and restart:
                cur = None  # the same plan from its first stage
            elif cur:
                adopt_plan(cur, plan, plan_path)  # the same plan, perhaps edited (a view unless write)
        elif cur:
            plan = parse_plan(cur["plan_config"], f"the plan stored in {paths.state_file}")
        else:
            raise UsageError(f"no curriculum in progress in {root}; start one with `vbot curriculum run --plan FILE`"
                             + available_plans(root))
        if state is None:
            if not write:
                session = cls(root, {"mode": "curriculum", "curriculum": new_curriculum(plan, plan_path)}, plan, None, say)
                session.started = False
                return session
            if not create:
                raise UsageError(f"no curriculum in progress in {root}; start one with {RUN_HINT} --plan FILE")
            stamp = f"{datetime.now():%Y%m%d_%H%M%S}_{secrets.token_hex(2)}"
            state = new_state(automl_id=f"curriculum_{stamp}",
                              settings={"mode": "curriculum", "env_id": plan.stages[0].env_id, "budget_hours": 0.0},
                              storage="none", study_name="none", score_formula=formula(ScoreWeights()))
            state["phase"] = "done"  # no search phase: `vbot automl --resume` has nothing to do here
        if cur is None:
            if not (create or not write):
                raise UsageError(f"no curriculum in progress in {root}; start one with {RUN_HINT} --plan FILE")
            cur = new_curriculum(plan, plan_path)
            started = False
        else:
            started = True
        if not write:
            state = {**state, "curriculum": cur}  # a view: the loaded state stays as it was
        state["curriculum"] = cur
        writer = None
        if write:
            writer = StateWriter(paths.state_file, report.log_dir(root, state["automl_id"]) / "state.yaml", text)
        session = cls(root, state, plan, writer, say)
        session.started = started
        return session

    # -- bookkeeping --------------------------------------------------------------------------
    def write(self, *, beat: bool = True) -> None:
        """Write the state; ``beat=False`` (an edit by another command) leaves the heartbeat and
        the process of the last curriculum run as they were."""
        st, cur = self.state, self.cur
        index = min(cur["stage_index"], len(cur["stages"]) - 1)
        st["stage"] = cur["stages"][index]["name"]
        if self.owned:
            if beat:
                st.update(heartbeat=now_iso(), pid=os.getpid(), host=socket.gethostname())
            st.update(env_id=cur["stages"][index]["env_id"], message=cur.get("message"),
                      status={CurriculumStatus.RUNNING: CampaignState.RUNNING, CurriculumStatus.COMPLETE: CampaignState.COMPLETE,
                              CurriculumStatus.FAILED: CampaignState.FAILED}.get(cur["status"], CampaignState.STOPPED))
        self.writer.write(st)

    def stage_dir(self, index: int) -> Path:
        return report.log_dir(self.root, self.state["automl_id"]) / "curriculum" / self.plan.name / self.plan.stages[index].name

    def rel(self, path: str | os.PathLike | None) -> str | None:
        if not path:
            return None
        try:
            return str(Path(path).resolve().relative_to(self.root.resolve()))
        except ValueError:
            return str(path)

    def abs(self, path: str | None) -> Path | None:
        return None if not path else (self.root / path).resolve()

    # -- evaluations and promotion ---------------------------------------------------------------
    def add_evaluation(self, index: int, env_steps: int, metrics: dict[str, Any], checkpoint: str) -> bool:
        """Record one evaluation; keep a copy of the checkpoint when it is the stage's best. False for a repeat."""
        rec = self.cur["stages"][index]
        if any(e["env_steps"] == env_steps for e in rec["evaluations"]):
            return False
        entry = {"env_steps": int(env_steps), "success_rate": metrics.get("success_rate"),
                 "fall_rate": metrics.get("fall_rate"), "competition_points": metrics.get("competition_points"),
                 "episodes": metrics.get("episodes"),
                 "checkpoint": self.rel(checkpoint), "at": now_iso()}
        best = max((e for e in rec["evaluations"] if success_rate_of(e) is not None), key=success_rate_of, default=None)
        rec["evaluations"].append(entry)
        if success_rate_of(entry) is not None and (best is None or success_rate_of(entry) >= success_rate_of(best)):
            target = self.stage_dir(index) / "best.pt"
            atomic_copy(checkpoint, target)  # the trainer may write over model files; keep our own copy
            rec.update(best_checkpoint=self.rel(target), metrics=dict(metrics), best_env_steps=int(env_steps),
                       best_source=self.rel(checkpoint))
        return True

    def promote(self, index: int) -> dict[str, Any]:
        """Register the stage's best checkpoint, mark it promoted and set up the next stage warm."""
        cur, stage, rec = self.cur, self.plan.stages[index], self.cur["stages"][index]
        check = check_promotion(stage.promote, rec["evaluations"])
        registry_id = f"curriculum/{self.plan.name}/{stage.name}"
        try:
            score = compute_score(rec["metrics"] or {}, ScoreWeights())
        except VbotError:
            score = None  # a backend that measures only some terms: the registry keeps it unscored
        checkpoints.register(self.paths.registry_file, {
            "id": registry_id, "automl_id": self.state["automl_id"], "trial": None, "env_id": stage.env_id,
            "checkpoint": rec["best_checkpoint"], "run_dir": rec["run_dir"], "score": score, "metrics": rec["metrics"],
            "params": stage.values(), "reward_scales": None, "host": socket.gethostname(),
            "curriculum": {"plan": self.plan.name, "stage": stage.name, "stage_index": index,
                           "env_steps": rec.get("best_env_steps")},
        })
        rec.update(status=StageStatus.PROMOTED, promotion={**check.to_dict(), "at": now_iso(), "registry_id": registry_id})
        result: dict[str, Any] = {"promoted": stage.name, "checkpoint": rec["best_checkpoint"], "metrics": rec["metrics"],
                                  "registry_id": registry_id, "next_stage": None}
        if index + 1 < len(self.plan.stages):
            nxt, ckpt = self.hand_over(index)
            result.update(next_stage=nxt.name, warm_start=cur["stages"][index + 1]["warm_start"])
            self.say(f"stage {stage.name!r} promoted (success_rate {format_success(rec['metrics'])}); next: {nxt.name!r} "
                     f"on {nxt.env_id}, warm from {ckpt or 'fresh weights'}")
        else:
            cur.update(stage_index=len(self.plan.stages), status=CurriculumStatus.COMPLETE, message=None)
            self.say(f"stage {stage.name!r} promoted; plan {self.plan.name!r} complete")
        self.write()
        return result

    def hand_over(self, index: int):
        """Set up stage ``index + 1`` warm from stage ``index``'s best checkpoint (its plan's
        ``warm_start``) and make it current; returns (next stage, its warm-start checkpoint)."""
        cur, rec = self.cur, self.cur["stages"][index]
        nxt, nrec = self.plan.stages[index + 1], cur["stages"][index + 1]
        source = nxt.warm_source(index + 1)
        ckpt = rec["best_checkpoint"] if source == PREVIOUS else None if source == NONE else source
        nrec["warm_start"] = {"checkpoint": ckpt, "lr_multiplier": nxt.warm_start.lr_multiplier,
                              "reset_optimizer": nxt.warm_start.reset_optimizer,
                              "freeze_normalizer": nxt.warm_start.freeze_normalizer}
        cur["stage_index"] = index + 1
        return nxt, ckpt

    # -- training one stage -----------------------------------------------------------------------
    def train_stage(self, index: int) -> None:
        from vbot_agent.trials.launcher import run_trial_process, write_trial_config
        from vbot_agent.trials.trial import LIVE_FILE, TrialConfig

        stage, rec, plan = self.plan.stages[index], self.cur["stages"][index], self.plan
        resume_dir = self.resumable_run(index)
        if resume_dir is not None and run_env_steps(resume_dir) >= stage.steps:
            self._evaluate_finished_run(index, resume_dir)  # the run ended before we recorded it
            return
        rec["attempts"] += 1
        out = self.stage_dir(index) / f"attempt_{rec['attempts']}"
        warm = rec.get("warm_start") or {}
        if resume_dir is None and index == 0 and stage.warm_source(0) not in (NONE, PREVIOUS):
            warm = {"checkpoint": stage.warm_source(0), "lr_multiplier": stage.warm_start.lr_multiplier,
                    "reset_optimizer": stage.warm_start.reset_optimizer,
                    "freeze_normalizer": stage.warm_start.freeze_normalizer}
            rec["warm_start"] = warm
        if resume_dir is None and warm.get("checkpoint") is None and stage.warm_source(index) == PREVIOUS:
            raise VbotError(f"stage {stage.name!r} warm-starts from the previous stage, which has no best checkpoint; "
                            "promote it first with `vbot curriculum advance`")
        checkpoint = self.abs(warm.get("checkpoint")) if resume_dir is None else None
        if checkpoint is not None and not checkpoint.is_file():
            raise VbotError(f"stage {stage.name!r}: warm-start checkpoint {checkpoint} is missing")
        atomic_write_yaml(out / LAUNCH_FILE, {
            "base_backend": plan.backend, "resume_run_dir": str(resume_dir) if resume_dir else None,
            "checkpoint": str(checkpoint) if checkpoint else None,
            **{k: warm.get(k, d) for k, d in (("lr_multiplier", 1.0), ("reset_optimizer", False),
                                             ("freeze_normalizer", False))}})
        t = plan.timeouts
        cfg = TrialConfig(name=stage.name, env_id=stage.env_id, seed=plan.seed + index, max_env_steps=stage.steps,
                          num_envs=stage.num_envs or plan.num_envs, out_dir=str(out), workspace=str(self.root),
                          values=stage.values(), train=plan.train, evaluation=plan.evaluation_of(stage), stall_s=t.stall_s,
                          stop_s=t.stop_s, poll_s=t.poll_s, parent_pid=os.getpid(),
                          tag=f"{self.state['automl_id']}/curriculum/{stage.name}", backend=THIS_BACKEND)
        config_path = out / "trial.yaml"
        write_trial_config(config_path, cfg)
        rec.update(status=StageStatus.TRAINING, error=None, started_at=rec["started_at"] or now_iso())
        self.cur.update(status=CurriculumStatus.RUNNING, message=None)
        how = f"resuming {resume_dir}" if resume_dir else f"warm from {checkpoint}" if checkpoint else "fresh weights"
        self.say(f"stage {index + 1}/{len(plan.stages)} {stage.name!r} on {stage.env_id}: up to {stage.steps:,} env "
                 f"steps, {how}")
        self.write()
        first_new = len(rec["evaluations"])
        t0 = time.time()

        def on_event(event: dict[str, Any]) -> bool:
            if not event.get("metrics"):
                return False
            if not self.add_evaluation(index, event["env_steps"], event["metrics"], event["checkpoint"]):
                return False
            check = check_promotion(stage.promote, rec["evaluations"])
            recent = check_promotion(stage.promote, rec["evaluations"][first_new:])
            self.say(f"  {event['env_steps']:,} env steps: success_rate {format_success(event['metrics'])}"
                     + (" -> promotion criteria hold" if check.met else " -> stuck" if recent.stuck else ""))
            self.write()
            return check.met or recent.stuck

        def on_tick(pid: int) -> None:
            live = read_json(out / LIVE_FILE)
            if live and live.get("run_dir"):
                rec["run_dir"] = self.rel(live["run_dir"])
                rec["env_steps"] = run_env_steps(Path(live["run_dir"])) or rec["env_steps"]
            self.write()

        outcome = run_trial_process(config_path, cfg, on_event=on_event, should_stop=lambda: self.stop_reason is not None,
                                    on_tick=on_tick, heartbeat_s=t.heartbeat_s)
        r = outcome.result
        rec["wall_s"] = round(rec["wall_s"] + time.time() - t0, 3)
        if r.get("run_dir"):
            rec["run_dir"] = self.rel(r["run_dir"])
        if rec["run_dir"]:
            rec["env_steps"] = run_env_steps(self.abs(rec["run_dir"])) or r.get("env_steps") or rec["env_steps"]
        if outcome.stopped_by == "interrupted":
            self.write()  # stays "training": the next `run` resumes the run
            return
        if outcome.stopped_by is None and r["status"] == TrialOutcome.COMPLETE and r.get("metrics"):
            self.add_evaluation(index, int(r.get("env_steps") or rec["env_steps"]), r["metrics"], r["checkpoint"])
            rec["env_steps"] = int(r.get("env_steps") or rec["env_steps"])
        if outcome.stopped_by == StopCause.PRUNED or r["status"] == TrialOutcome.COMPLETE:
            rec.update(status=StageStatus.TRAINED, finished_at=now_iso())
        else:
            rec.update(status=StageStatus.FAILED, error=r.get("error") or f"trial {r['status']}", finished_at=now_iso())
        self.write()

    def resumable_run(self, index: int) -> Path | None:
        rec = self.cur["stages"][index]
        run_dir = self.abs(rec.get("run_dir"))
        if rec["status"] in (StageStatus.TRAINING, StageStatus.FAILED, StageStatus.STUCK) and run_dir and (run_dir / "checkpoints" / "last.pt").is_file():
            return run_dir
        return None

    def _evaluate_finished_run(self, index: int, run_dir: Path) -> None:
        """A run that reached its steps while no curriculum watched it: score its last policy here, once."""
        from vbot_agent.trials.trial import TrialConfig

        stage, rec = self.plan.stages[index], self.cur["stages"][index]
        steps = run_env_steps(run_dir)
        if not any(e["env_steps"] == steps for e in rec["evaluations"]):
            evaluation = self.plan.evaluation_of(stage)
            spec = TrialConfig(name=stage.name, env_id=stage.env_id, seed=self.plan.seed + index, max_env_steps=stage.steps,
                               num_envs=stage.num_envs or self.plan.num_envs, out_dir=str(self.stage_dir(index)),
                               workspace=str(self.root), values=stage.values(), train=self.plan.train,
                               evaluation=evaluation, backend=self.plan.backend)
            last = run_dir / "checkpoints" / "last.pt"
            metrics, _ = final_metrics(load_backend(self.plan.backend), run_dir, last, spec, evaluation.final_episodes)
            self.add_evaluation(index, steps, metrics, str(last))
        rec.update(status=StageStatus.TRAINED, env_steps=steps, finished_at=now_iso())
        self.write()

    # -- the loop ---------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        cur = self.cur
        failed_now: set[int] = set()
        while cur["stage_index"] < len(self.plan.stages) and self.stop_reason is None:
            i = cur["stage_index"]
            stage, rec = self.plan.stages[i], cur["stages"][i]
            more_budget = rec["status"] == StageStatus.STUCK and has_more_budget(stage, rec)
            if rec["status"] in (StageStatus.PENDING, StageStatus.TRAINING) or more_budget \
                    or (rec["status"] == StageStatus.FAILED and i not in failed_now):
                self.train_stage(i)
            if self.stop_reason is not None:
                break
            if rec["status"] in (StageStatus.TRAINED, StageStatus.STUCK):
                check = check_promotion(stage.promote, rec["evaluations"])
                if check.met:  # a stuck stage whose bar was lowered in its plan file is promoted as well
                    self.promote(i)
                    continue
                if rec["status"] == StageStatus.TRAINED:
                    rec.update(status=StageStatus.STUCK, stuck_at_steps=stage.steps)
            if rec["status"] == StageStatus.STUCK:
                check = check_promotion(stage.promote, rec["evaluations"])
                if stage.on_stuck == "advance" and i + 1 < len(self.plan.stages) and rec["best_checkpoint"]:
                    rec["advanced"] = True
                    nxt, ckpt = self.hand_over(i)
                    self.say(f"stage {stage.name!r} is stuck after {rec['env_steps']:,} env steps "
                             f"({'; '.join(check.failing)}); its plan says on_stuck: advance, so {nxt.name!r} "
                             f"starts warm from its best checkpoint {ckpt}")
                    self.write()
                    continue
                cur.update(status=CurriculumStatus.STUCK)
                cur["message"] = curriculum_note(cur)
                self.say(f"stage {stage.name!r} not met: {'; '.join(check.failing)}\n{cur['message']}")
                break
            if rec["status"] == StageStatus.FAILED:
                failed_now.add(i)
                cur.update(status=CurriculumStatus.FAILED, message=f"stage {stage.name!r} failed: {rec['error']}; {RUN_HINT} retries it "
                           "(resuming its run when it has a checkpoint)")
                self.say(cur["message"])
                break
        if self.stop_reason is not None:
            i = min(cur["stage_index"], len(cur["stages"]) - 1)
            cur.update(status=CurriculumStatus.STOPPED, message=f"stopped by {self.stop_reason} at {now_iso()}; {RUN_HINT} continues "
                                                 f"stage {cur['stages'][i]['name']!r}")
        self.write()
        if self.stop_reason is not None:
            raise CurriculumStopped(cur["message"])
        return summarize(self)
