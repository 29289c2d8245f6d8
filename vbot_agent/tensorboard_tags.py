"""The TensorBoard scalar tags the trainer writes and every reader looks up (one spelling each).

Writers: ``rl/runner.py`` (per iteration). Readers: the TUI, ``rl/progress.py``, the reward
diagnosis, the benchmarks. Per-term reward means are ``term_tag(<term>)``.
"""

from __future__ import annotations

EPISODE_RETURN = "Reward / Total reward (mean)"  # mean return of the episodes finished in the iteration
INSTANT_REWARD = "Reward / Instantaneous reward (mean)"  # mean reward per env step
EPISODE_LENGTH = "Episode / Total timesteps (mean)"  # env steps per finished episode
EPISODE_COUNT = "Episode / count"
SUCCESS_RATE = "metrics / success_rate"  # share of finished episodes that reached the target
FALL_RATE = "metrics / fall_rate"
TIME_TO_TARGET = "metrics / time_to_target_s"  # seconds, successful episodes only
DISTANCE_TO_TARGET = "metrics / distance_to_target"  # metres, per-step mean
METRIC_PREFIX = "metrics / "
TERM_PREFIX = "Reward Instant / "
TERM_SUFFIX = " (mean)"
LOSS_SURROGATE = "Loss / surrogate"
LOSS_VALUE = "Loss / value_function"
LOSS_ENTROPY = "Loss / entropy"
LOSS_APPROX_KL = "Loss / approx_kl"
LOSS_CLIP_FRACTION = "Loss / clip_fraction"
LOSS_GRAD_NORM = "Loss / grad_norm"
POLICY_STD = "Policy / std (mean)"
LEARNING_RATE = "Learning / learning_rate"
ENV_STEPS_PER_S = "Perf / env_steps_per_s"
COLLECTION_TIME_S = "Perf / collection_time_s"
LEARN_TIME_S = "Perf / learn_time_s"


EVAL_PREFIX = "Eval / "  # + an EvalResult field: deterministic evaluation episodes of a checkpoint


def eval_tag(key: str) -> str:
    """``Eval / <key>``: one field of a checkpoint's evaluation (success_rate, fall_rate, score, ...)."""
    return f"{EVAL_PREFIX}{key}"


def term_tag(term: str) -> str:
    """``Reward Instant / <term> (mean)``: the per-step mean of one reward term."""
    return f"{TERM_PREFIX}{term}{TERM_SUFFIX}"


def term_of(tag: str) -> str | None:
    """The term name of a ``term_tag``; None for any other tag."""
    if tag.startswith(TERM_PREFIX) and tag.endswith(TERM_SUFFIX):
        return tag[len(TERM_PREFIX):-len(TERM_SUFFIX)]
    return None
