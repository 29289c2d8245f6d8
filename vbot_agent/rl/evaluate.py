"""Deterministic evaluation: one episode per env, all started together, policy mean actions.

Used by ``vbot play``, by ``best.pt`` selection during training and by the campaign's trials.
Every env contributes exactly its first episode, so short episodes (falls) are not over-counted.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from vbot_agent.rl.competition import items_of
from vbot_agent.sim.terrain import CENTRE_M, INNER_FENCE_M, POINTS_PER_ROBOT  # the flat competition's scoring

# Up to this many envs, evaluation physics steps faster on one thread than with a pool's hand-offs
# (measured ~2x at 10 envs on 2 cores). The policy always runs on one torch thread while envs step.
SMALL_EVAL_EPISODES = 64


@dataclass(frozen=True)
class EvalResult:
    """Per-episode statistics of one evaluation (NaN where the env does not report the quantity)."""

    episodes: int
    success_rate: float
    fall_rate: float
    mean_return: float
    mean_length: float
    mean_time_to_target_s: float  # over successful episodes; NaN when none succeeded
    mean_final_distance: float
    competition_points: float  # NaN unless the env reports distances (VBot/dummy envs)
    max_competition_points: int
    score: float
    points_by_item: dict[str, float] = field(default_factory=dict)  # a course's items: mean points per episode

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly: NaN becomes None."""
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(self).items()}


# What ``score_of`` computes, for the trainer's output and ``vbot train --help``. It only ranks the
# checkpoints of one run to pick best.pt; campaign trials are ranked by another formula
# (``vbot_agent.trials.score``), so the two numbers are not comparable.
CHECKPOINT_SCORE_FORMULA = (
    "success_rate - 0.5*fall_rate - 0.001*mean_final_distance_m over the eval.episodes deterministic "
    "episodes of each checkpoint (mean return for envs without a target); it only picks best.pt"
)


def score_of(success_rate: float, fall_rate: float, mean_return: float, mean_final_distance: float) -> float:
    """One number to rank checkpoints: success first, falls cost half a success, distance breaks ties.

    Envs without a success notion (Gymnasium) are ranked by mean return. See CHECKPOINT_SCORE_FORMULA.
    """
    if math.isnan(success_rate):
        return mean_return
    tie_break = 0.0 if math.isnan(mean_final_distance) else -1e-3 * mean_final_distance
    return success_rate - 0.5 * fall_rate + tie_break


def evaluate(policy: Callable[[np.ndarray], np.ndarray], env, *, seed: int) -> EvalResult:
    """One deterministic episode in each of the ``env.num_envs`` envs -> their statistics."""
    return summarize_episodes(run_episodes(policy, env, seed=seed))


def run_episodes(policy: Callable[[np.ndarray], np.ndarray], env, *, seed: int,
                 on_step: Callable[[np.ndarray, np.ndarray], None] | None = None) -> dict[str, np.ndarray]:
    """Run the first episode of each of the ``env.num_envs`` envs; return ``info["episode"]`` arrays [N]
    in the order the episodes ended, and ``row``: the env row each one ran in.

    ``policy``: obs [N, O] -> actions [N, A]. ``on_step(terminated, truncated)`` ([N] bool each) is
    called after every step (video, contact sheet); rows that ended are already reset by then.
    The env is reset with ``seed``, so repeated evaluations see the same episodes.
    """
    n = env.num_envs
    obs = env.reset(seed=seed)
    finished = np.zeros(n, dtype=bool)
    collected: dict[str, np.ndarray] = {}
    limit = env.max_episode_steps + 1 if env.max_episode_steps > 0 else 100_000
    for _ in range(limit):
        obs, _, terminated, truncated, info = env.step(policy(obs))
        if on_step is not None:
            on_step(np.asarray(terminated), np.asarray(truncated))
        done = np.asarray(terminated | truncated)
        if done.any():
            first = ~finished[done]  # rows of this step's finished episodes that are first episodes
            episode = {**info["episode"], "row": np.flatnonzero(done)}  # which env row each one ran in
            for key, values in episode.items():
                values = np.asarray(values)
                prev = collected.get(key, np.empty((0,), dtype=values.dtype))
                collected[key] = np.concatenate([prev, values[first]])
            finished |= done
        if finished.all():
            break
    else:
        raise RuntimeError(f"evaluation did not finish within {limit} steps (env never ended its episodes)")
    return collected


def summarize_episodes(ep: dict[str, np.ndarray]) -> EvalResult:
    """EvalResult from per-episode arrays (the contract's ``info["episode"]`` keys)."""
    count = len(ep.get("return", []))

    def mean(key: str, mask: np.ndarray | None = None) -> float:
        if key not in ep or count == 0:
            return math.nan
        values = np.asarray(ep[key], dtype=np.float64)
        if mask is not None:
            values = values[mask]
        return float(values.mean()) if values.size else math.nan

    success_rate, fall_rate = mean("success"), mean("fall")
    success = np.asarray(ep["success"], dtype=bool) if "success" in ep else None
    mean_time = mean("time_to_target_s", success) if success is not None else math.nan
    final_distance = mean("final_distance")
    points, max_points = competition_points(ep)
    return EvalResult(
        episodes=count, success_rate=success_rate, fall_rate=fall_rate, mean_return=mean("return"),
        mean_length=mean("length"), mean_time_to_target_s=mean_time, mean_final_distance=final_distance,
        competition_points=points, max_competition_points=max_points,
        score=score_of(success_rate, fall_rate, mean("return"), final_distance),
        points_by_item=items_of(ep),  # a course's items (rl.competition knows which keys are sections)
    )


def competition_points(ep: dict[str, np.ndarray]) -> tuple[float, int]:
    """Points of the episodes as competition robots: (points, maximum).

    The env's own per-episode ``points`` when it reports them (VBot: inner fence and centre ever
    reached, zero after a fall); else from the final distance; NaN for envs without distances.
    """
    if "points" in ep:
        points = np.asarray(ep["points"], dtype=np.float64)
        if "points_max" in ep:  # a course: its sections' points per episode
            return float(points.sum()), int(np.sum(ep["points_max"]))
        return float(points.sum()), POINTS_PER_ROBOT * len(points)
    if "final_distance" not in ep or "fall" not in ep:
        return math.nan, 0
    distance = np.asarray(ep["final_distance"], dtype=np.float64)
    alive = ~np.asarray(ep["fall"], dtype=bool)
    points = alive * ((distance <= INNER_FENCE_M).astype(int) + (distance <= CENTRE_M).astype(int))
    return float(points.sum()), POINTS_PER_ROBOT * len(distance)
