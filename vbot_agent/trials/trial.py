"""One trial, as a subprocess: train, evaluate the checkpoints, score (``vbot trial --config FILE``).

The trial process runs the trainer as its own child (via the backend's ``train_command``), watches
its ``progress.json``, evaluates new checkpoints every ``evaluation.every_env_steps`` (these
intermediate scores are appended to ``events.jsonl`` for the campaign's pruner), and takes the final
score from the trainer's own evaluation of its last policy (``final_episodes``, run in the trainer
process before it exits, so nothing is loaded twice); when there is none (a budget stop, a backend
that does not make one) it evaluates ``last.pt`` itself. It knows nothing of optuna.

It stops the trainer (SIGTERM, then SIGKILL after ``stop_s``) when: it gets SIGTERM/SIGINT
(pruned or campaign stopping), its parent campaign dies, the budget deadline passes, or the
trainer makes no progress for ``stall_s``.

Output folder (``out_dir``): ``result.json`` (written last, atomically), ``events.jsonl``,
``live.json`` (the run folder, once found), ``trainer.log`` (trainer stderr), ``trainer.stdout``, ``train_config.yaml`` (base trainer config).
``result.json``: status (complete | fail | stopped | budget), error, metrics, score, run_dir,
checkpoint, env_steps, intermediate, started_at, finished_at, wall_s, eval_s, stop_reason.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vbot_agent.config import from_mapping, load_yaml
from vbot_agent.errors import VbotError
from vbot_agent.fileio import atomic_write_json, atomic_write_yaml, read_json
from vbot_agent.signals import GracefulStop
from vbot_agent.trials.backend import DEFAULT_BACKEND, load_backend
from vbot_agent.trials.outcomes import TrialOutcome
from vbot_agent.trials.score import ScoreWeights, compute_score
from vbot_agent.trials.trial_settings import EvaluationSettings
from vbot_agent.workspace.state import now_iso

TRIAL_ENV = "VBOT_TRIAL_ID"  # marks the trial's processes, so a resume can find orphans
RESULT_FILE, EVENTS_FILE, LIVE_FILE = "result.json", "events.jsonl", "live.json"


@dataclass(frozen=True)
class TrialConfig:
    """What one trial trains and how it is judged (``configs/<name>.yaml`` of a campaign)."""

    name: str  # trial_0003, final
    env_id: str
    seed: int
    max_env_steps: int
    num_envs: int
    out_dir: str
    workspace: str
    trial: int = -1  # optuna trial number; -1 outside a study
    values: dict[str, Any] = field(default_factory=dict)  # searched dotted keys -> values (--set)
    train: dict[str, Any] = field(default_factory=dict)  # base trainer config (--config)
    evaluation: EvaluationSettings = field(default_factory=EvaluationSettings)
    score: ScoreWeights = field(default_factory=ScoreWeights)
    deadline_unix: float | None = None  # budget: stop training at this wall-clock time
    stall_s: float = 900.0
    stop_s: float = 30.0
    poll_s: float = 0.5
    parent_pid: int | None = None  # stop when this process (the campaign) dies
    tag: str = ""  # value of VBOT_TRIAL_ID for the trial's processes
    backend: str = DEFAULT_BACKEND
    resume_run_dir: str | None = None  # continue this run folder from its last.pt instead of a new run
    init_checkpoint: str | None = None  # a new run warm-started from this policy (vbot train --checkpoint)


def load_trial_config(path: str | os.PathLike) -> TrialConfig:
    return from_mapping(TrialConfig, load_yaml(path), where=str(path))


def run_trial(cfg: TrialConfig, *, install_signals: bool = True) -> dict[str, Any]:
    """Train, evaluate and score one trial; write and return ``result.json``'s content."""
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stop = GracefulStop(prefix="signal ")  # budget and stall reasons are set on it too
    started = time.time()
    result: dict[str, Any] = {"name": cfg.name, "trial": cfg.trial, "status": TrialOutcome.FAIL, "error": None,
                              "metrics": None, "score": None, "run_dir": None, "checkpoint": None,
                              "env_steps": None, "intermediate": [], "started_at": now_iso(started),
                              "stop_reason": None, "eval_s": 0.0}
    with stop if install_signals else contextlib.nullcontext():
        try:
            _train_and_evaluate(cfg, out, stop, result)
        except VbotError as exc:
            result.update(status=TrialOutcome.FAIL, error=str(exc))
        finally:
            result["finished_at"] = now_iso()
            result["wall_s"] = round(time.time() - started, 3)
            atomic_write_json(out / RESULT_FILE, result)
    return result


def _train_and_evaluate(cfg: TrialConfig, out: Path, stop: GracefulStop, result: dict[str, Any]) -> None:
    backend = load_backend(cfg.backend)
    train_file = None
    if cfg.train:
        train_file = out / "train_config.yaml"
        atomic_write_yaml(train_file, cfg.train)
    argv = backend.train_command(cfg, train_file)
    env = {**os.environ, TRIAL_ENV: cfg.tag or cfg.name, "PYTHONUNBUFFERED": "1"}
    launched = time.time()
    with open(out / "trainer.stdout", "wb") as stdout, open(out / "trainer.log", "ab") as stderr:
        proc = subprocess.Popen(argv, cwd=cfg.workspace, env=env, stdout=stdout, stderr=stderr,
                                stdin=subprocess.DEVNULL)
    watch = _Watch(cfg, backend, out, proc, launched, result)
    reason = watch.loop(stop)
    if reason is not None:
        _stop_process(proc, cfg.stop_s)
        result["stop_reason"] = reason
    rc = proc.wait()
    run_dir = watch.run_dir
    # a trainer killed on its way out (after its last checkpoint, before its summary) has trained
    ended_late = reason is None and rc != 0 and run_env_steps(run_dir) >= cfg.max_env_steps
    if reason is None and rc != 0 and not ended_late:
        raise VbotError(f"trainer exited with code {rc}: {_tail(out / 'trainer.log')}")
    if ended_late:
        result["env_steps"] = run_env_steps(run_dir)
    if reason is None and not ended_late:
        summary = _last_json_line(out / "trainer.stdout")
        run_dir = Path(summary["run_dir"]) if summary.get("run_dir") else run_dir
        result["env_steps"] = summary.get("env_steps")
        result["train"] = summary
    if run_dir is not None:
        run_dir = (Path(cfg.workspace) / run_dir).resolve()
    result["run_dir"] = str(run_dir) if run_dir else None
    if reason is not None and reason.startswith("budget"):
        result["status"] = TrialOutcome.BUDGET
    elif reason is not None:
        result.update(status=TrialOutcome.STOPPED if not reason.startswith("stalled") else TrialOutcome.FAIL, error=reason)
        if result["status"] == TrialOutcome.FAIL:
            raise VbotError(reason)
        return
    if run_dir is None:
        raise VbotError("the trainer wrote no run folder (no progress.json with its pid under runs/)")
    checkpoint = run_dir / "checkpoints" / "last.pt"
    if not checkpoint.is_file():
        checkpoint = _newest_checkpoint(run_dir)
    if checkpoint is None:
        raise VbotError(f"no checkpoint to evaluate in {run_dir / 'checkpoints'}")
    # A trial the budget stopped is scored on the same final_episodes as every other: the campaign's
    # best compares these scores (a final run cut by the budget against its own trial), and a few
    # seconds past the budget cost less than a pick decided by a smaller, noisier evaluation.
    metrics, eval_s = final_metrics(backend, run_dir, checkpoint, cfg, cfg.evaluation.final_episodes)
    result["eval_s"] += eval_s
    result.update(metrics=metrics, checkpoint=str(checkpoint))
    result["score"] = compute_score(metrics, cfg.score)
    if result["status"] != TrialOutcome.BUDGET:
        result["status"] = TrialOutcome.COMPLETE
    else:
        result["error"] = reason


class _Watch:
    """Poll loop of a running trainer: progress, stalls, deadline, parent, intermediate evaluations."""

    def __init__(self, cfg: TrialConfig, backend, out: Path, proc: subprocess.Popen, launched: float,
                 result: dict[str, Any]) -> None:
        self.cfg, self.backend, self.out, self.proc, self.launched = cfg, backend, out, proc, launched
        self.result = result
        self.run_dir: Path | None = None
        self.last_progress_at = launched
        self.last_updated: Any = None
        self.progress: dict[str, Any] | None = None
        self.next_eval = 1  # index of the next intermediate evaluation (step k at k * every_env_steps)

    def loop(self, stop: GracefulStop) -> str | None:
        """Return None when the trainer exited by itself, else why it must be stopped."""
        while self.proc.poll() is None:
            if stop.reason:
                return stop.reason
            now = time.time()
            if self.cfg.parent_pid is not None and os.getppid() != self.cfg.parent_pid:
                return "parent campaign died"
            if self.cfg.deadline_unix is not None and now >= self.cfg.deadline_unix:
                return "budget exhausted during the trial"
            self._read_progress(now)
            if now - self.last_progress_at > self.cfg.stall_s:
                return f"stalled: no training progress for {self.cfg.stall_s:g} s"
            self._maybe_evaluate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=self.cfg.poll_s)  # returns as soon as the trainer exits
        self._read_progress(time.time())
        if not self.result["intermediate"]:  # training outran every poll: the pruner still gets one mark
            self._maybe_evaluate()
        return None

    def _read_progress(self, now: float) -> None:
        if self.run_dir is None:
            self.run_dir = _find_run_dir(Path(self.cfg.workspace) / "runs", self.proc.pid, self.launched)
            if self.run_dir is None:
                return
            atomic_write_json(self.out / LIVE_FILE, {"run_dir": str(self.run_dir), "trainer_pid": self.proc.pid})
        try:
            progress = read_json(self.run_dir / "progress.json")
        except ValueError:  # the trainer writes atomically; a partial read means another writer: retry
            return
        if progress and progress.get("updated_at") != self.last_updated:
            self.last_updated = progress.get("updated_at")
            self.last_progress_at = now
            self.progress = progress

    def _maybe_evaluate(self) -> None:
        every = self.cfg.evaluation.every_env_steps
        if not every or self.run_dir is None or not self.progress:
            return
        iteration, env_steps = self.progress.get("iteration") or 0, self.progress.get("env_steps") or 0
        if iteration <= 0:
            return
        steps_per_iteration = env_steps / iteration
        # The newest checkpoint at or past the next mark that the final evaluation will not judge: the
        # trainer keeps every model_<iter>.pt, so a late poll still finds the one for a mark it missed,
        # and an evaluation slower than training skips marks instead of falling behind.
        pending = []
        for path in (self.run_dir / "checkpoints").glob("model_*.pt"):
            match = re.fullmatch(r"model_(\d+)\.pt", path.name)
            # whole (the trainer writes checkpoints atomically) and of this trainer, not of a run it continues
            if not match or path.stat().st_mtime < self.launched - 1:
                continue
            steps = int(int(match.group(1)) * steps_per_iteration)
            if steps // every >= self.next_eval and steps + every / 2 < self.cfg.max_env_steps:
                pending.append((steps, path))
        if not pending:
            return
        ckpt_steps, path = max(pending)
        step = ckpt_steps // every
        self.next_eval = step + 1
        event: dict[str, Any] = {"step": step, "env_steps": ckpt_steps, "checkpoint": str(path)}
        t0 = time.time()
        try:
            metrics = self.backend.evaluate(path, self.cfg, self.cfg.evaluation.episodes, self.cfg.evaluation.seed)
            event.update(metrics=metrics, score=compute_score(metrics, self.cfg.score))
        except VbotError as exc:
            event.update(error=str(exc))
        self.result["eval_s"] += time.time() - t0
        event["at"] = now_iso()
        self.result["intermediate"].append(event)
        with open(self.out / EVENTS_FILE, "a") as handle:  # one line per event; the reader skips a partial last line
            handle.write(json.dumps(event) + "\n")
            handle.flush()
            os.fsync(handle.fileno())


def _find_run_dir(runs: Path, pid: int, launched: float) -> Path | None:
    """The run folder whose progress.json names ``pid`` (created after ``launched``)."""
    for progress in runs.glob("*/*/progress.json"):
        try:
            if progress.stat().st_mtime < launched - 1:
                continue
            data = read_json(progress)
        except (OSError, ValueError):
            continue
        if data and data.get("pid") == pid:
            return progress.parent
    return None


def final_metrics(backend, run_dir: Path, checkpoint: Path, spec: TrialConfig,
                  episodes: int) -> tuple[dict[str, Any], float]:
    """Metrics of a trained run's last policy, and the seconds its evaluation took.

    The trainer's own final evaluation when it made one for ``spec`` (``final_evaluation`` is
    optional in a backend; a run stopped before its end has none), else ``episodes`` evaluation
    episodes of ``checkpoint`` in this process.
    """
    own = getattr(backend, "final_evaluation", None)
    record = own(run_dir, spec) if own else None
    if record is not None:
        return record["metrics"], record["wall_s"]
    started = time.time()
    return backend.evaluate(checkpoint, spec, episodes, spec.evaluation.seed), time.time() - started


def run_env_steps(run_dir: Path | None) -> int:
    """The env steps a run folder's progress.json reports (0 when there is none)."""
    if run_dir is None:
        return 0
    try:
        data = read_json(run_dir / "progress.json") or {}
    except ValueError:
        return 0
    return int(data.get("env_steps") or 0)


def _newest_checkpoint(run_dir: Path) -> Path | None:
    found = sorted((run_dir / "checkpoints").glob("*.pt"), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def _stop_process(proc: subprocess.Popen, wait_s: float) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=wait_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _last_json_line(path: Path) -> dict[str, Any]:
    """The last JSON object printed on stdout (one line, or pretty-printed as `vbot --json` does)."""
    lines = path.read_text(errors="replace").splitlines()
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].startswith("{"):
            try:
                data = json.loads("\n".join(lines[i:]))
            except ValueError:
                continue
            if isinstance(data, dict):
                return data
    raise VbotError(f"the trainer printed no JSON summary on stdout ({path})")


def _tail(path: Path, lines: int = 5, chars: int = 600) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except FileNotFoundError:
        return "(no trainer.log)"
    return " | ".join(text[-lines:])[-chars:] or "(trainer.log is empty)"


def main(argv: list[str] | None = None) -> int:
    """``python -m vbot_agent.trials.trial --config FILE`` (what the campaign spawns)."""
    import argparse

    parser = argparse.ArgumentParser(prog="vbot trial")
    parser.add_argument("--config", required=True)
    args = parser.parse_args(argv)
    result = run_trial(load_trial_config(args.config))
    gc.freeze()  # a fast exit: shutdown skips collecting torch's objects (see vbot_agent.cli.main)
    return 0 if result["status"] == TrialOutcome.COMPLETE else 1


if __name__ == "__main__":
    sys.exit(main())
