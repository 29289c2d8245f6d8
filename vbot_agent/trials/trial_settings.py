"""The settings one trial runs under, shared by the AutoML campaign and the curriculum."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EvaluationSettings:
    """Evaluation episodes of a trial's checkpoints (docs/design.md, "Campaigns": every score term is measured)."""

    episodes: int = 10  # per intermediate evaluation (these feed the pruner)
    final_episodes: int = 32  # for the trial's final score
    every_env_steps: int = 100_000  # intermediate evaluation interval; 0 = final evaluation only
    seed: int = 12345  # fixed, so every trial is evaluated on the same episodes

    def __post_init__(self) -> None:
        if self.episodes <= 0 or self.final_episodes <= 0 or self.every_env_steps < 0:
            raise ValueError("episodes and final_episodes must be > 0, every_env_steps >= 0")


@dataclass(frozen=True)
class TimeoutSettings:
    """Seconds. ``heartbeat_s`` paces the state file and optuna's heartbeat; a worker silent for
    ``grace_s`` is dead and its trial is retried; a trainer with no progress for ``stall_s`` fails."""

    heartbeat_s: float = 10.0
    grace_s: float = 60.0
    stall_s: float = 900.0
    stop_s: float = 30.0  # wait for a stopped trainer before SIGKILL
    poll_s: float = 0.5

    def __post_init__(self) -> None:
        if min(self.heartbeat_s, self.grace_s, self.stall_s, self.stop_s, self.poll_s) <= 0:
            raise ValueError("every timeout must be > 0")
        if self.grace_s <= self.heartbeat_s:
            raise ValueError("grace_s must be longer than heartbeat_s")
