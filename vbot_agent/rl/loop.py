"""The training loop around an ``OnPolicyRunner``: iterate until the step budget, a stop signal or
the NaN guard; log every iteration to TensorBoard and ``progress.json``; checkpoint, evaluate and
keep ``best.pt``; run the final evaluation. Returns a ``TrainResult``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass

from vbot_agent import tensorboard_tags as tags
from vbot_agent.errors import VbotError
from vbot_agent.rl.run_dir import CHECKPOINT_DIR
from vbot_agent.rl.runner import IterationStats, NonFiniteError, OnPolicyRunner
from vbot_agent.signals import GracefulStop


@dataclass(frozen=True)
class TrainResult:
    run_dir: str
    status: str
    iterations: int
    env_steps: int
    env_steps_per_s: float
    final_reward: float | None
    success_rate: float | None
    best_checkpoint_score: float | None  # evaluate.CHECKPOINT_SCORE_FORMULA of best.pt, not a campaign score
    best_checkpoint: str | None
    last_checkpoint: str | None


def train(runner: OnPolicyRunner, on_iteration: Callable[[IterationStats], None] | None = None) -> TrainResult:
    """Run ``runner`` until ``max_env_steps``, a stop signal or the NaN guard; return the summary.

    Logs every iteration to TensorBoard (step = env steps) and ``progress.json``; every
    ``check_point_interval`` iterations and at the end: ``model_<iter>.pt``, ``last.pt``, an
    evaluation and ``best.pt`` when its score improves. On NaN: the last good checkpoint stays,
    status ``failed``, VbotError.
    """
    from torch.utils.tensorboard import SummaryWriter

    cfg = runner.cfg
    # Resuming: drop events the interrupted process logged after its last checkpoint (steps > env_steps).
    writer = SummaryWriter(str(runner.run_dir), purge_step=runner.env_steps + 1 if runner.env_steps else None)
    progress = runner.progress
    # checkpoint_env_steps: where `vbot train --resume` would restart (last.pt), which `vbot runs` names
    saved_at = runner.env_steps or None  # a resumed run starts at its last.pt
    progress.update(status="running", iteration=runner.iteration, env_steps=runner.env_steps, pid=os.getpid(),
                    checkpoint_env_steps=saved_at)
    total_time, total_steps = 0.0, 0
    status = "finished"
    try:
        with GracefulStop(second_raises=True) as stop:  # finish the iteration, save last.pt, stop
            while runner.env_steps < cfg.max_env_steps:
                try:
                    stats = runner.run_iteration()
                except NonFiniteError as exc:
                    last = runner.run_dir / CHECKPOINT_DIR / "last.pt"
                    keep = f"; last good checkpoint: {last}" if last.exists() else "; no checkpoint was written yet"
                    message = f"NaN guard at iteration {runner.iteration + 1}: {exc}{keep}"
                    progress.update(status="failed", message=message)
                    raise VbotError(message) from None
                total_time += cfg.steps_per_iteration / stats.env_steps_per_s
                total_steps += cfg.steps_per_iteration
                for tag, value in stats.scalars.items():
                    writer.add_scalar(tag, value, stats.env_steps)
                _remember(runner.last_values, stats.scalars)
                if on_iteration is not None:
                    on_iteration(stats)
                at_end = runner.env_steps >= cfg.max_env_steps
                if stats.iteration % cfg.check_point_interval == 0 or at_end or stop.requested:
                    _checkpoint(runner, writer, periodic=stats.iteration % cfg.check_point_interval == 0)
                    saved_at = runner.env_steps
                progress.update(
                    iteration=stats.iteration, env_steps=stats.env_steps, env_steps_per_s=stats.env_steps_per_s,
                    checkpoint_env_steps=saved_at,
                    reward=runner.last_values.get("reward"), success_rate=runner.last_values.get("success_rate"),
                    distance_to_target=runner.last_values.get("distance_to_target"),
                    best_checkpoint_score=None if runner.best_score == -math.inf else runner.best_score,
                )
                if stop.requested:
                    status = "stopped"
                    break
            if status == "finished" and cfg.eval.final_episodes and runner.iteration:
                progress.update(message=f"final evaluation: {cfg.eval.final_episodes} episodes")
                try:
                    runner.final_evaluation()
                    progress.update(message=None)
                except Exception as exc:  # the training is done and saved: a reader can still evaluate last.pt
                    progress.update(message=f"final evaluation failed: {type(exc).__name__}: {exc}"[:500])
    except KeyboardInterrupt:
        progress.update(status="stopped", message="interrupted twice; last.pt is from the last checkpoint")
        raise
    except VbotError:
        raise  # progress.json already says why
    except Exception as exc:  # an env or torch crash: readers of progress.json must not see "running"
        progress.update(status="failed", message=f"{type(exc).__name__}: {exc}"[:500])
        raise
    finally:
        writer.close()
        runner.close()
    progress.update(status=status)
    ckpt_dir = runner.run_dir / CHECKPOINT_DIR
    best = ckpt_dir / "best.pt"
    return TrainResult(
        run_dir=str(runner.run_dir), status=status, iterations=runner.iteration, env_steps=runner.env_steps,
        env_steps_per_s=total_steps / total_time if total_time else 0.0,
        final_reward=runner.last_values.get("reward"), success_rate=runner.last_values.get("success_rate"),
        best_checkpoint_score=None if runner.best_score == -math.inf else runner.best_score,
        best_checkpoint=str(best) if best.exists() else None, last_checkpoint=str(ckpt_dir / "last.pt"),
    )


def _remember(last: dict[str, float], scalars: dict[str, float]) -> None:
    """The latest value of the headline metrics (episode tags are absent in some iterations)."""
    for key, tag in (("reward", tags.EPISODE_RETURN), ("success_rate", tags.SUCCESS_RATE),
                     ("distance_to_target", tags.DISTANCE_TO_TARGET),
                     ("instant_reward", tags.INSTANT_REWARD)):
        if tag in scalars:
            last[key] = scalars[tag]


def _checkpoint(runner: OnPolicyRunner, writer, *, periodic: bool) -> None:
    """Evaluate, update best.pt, write model_<iter>.pt and last.pt (last.pt last: resume point)."""
    if runner.cfg.eval.enabled:
        result = runner.evaluate()
        for key, value in result.to_dict().items():
            if isinstance(value, (int, float)) and key != "max_competition_points":
                writer.add_scalar(tags.eval_tag(key), value, runner.env_steps)
        if result.score > runner.best_score:
            runner.best_score = result.score
            runner.save("best.pt")
    if periodic:
        runner.save(f"model_{runner.iteration}.pt")
    runner.save("last.pt")
    writer.flush()
