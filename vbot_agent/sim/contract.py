"""The batched env contract: everything ``rl`` may assume about an env (docs/design.md, "Simulation").

Shapes use N = ``num_envs``. All arrays are numpy; observations float32.

``reset(seed=None) -> obs[N, obs_dim]``
    Starts a fresh episode in every env. ``seed`` reseeds the env's generator.

``step(actions[N, action_dim]) -> (obs, reward[N], terminated[N], truncated[N], info)``
    Actions are clipped to [-1, 1]. Envs that are done (terminated or truncated) are reset
    automatically: the returned ``obs`` row is already the first observation of the new episode.

``info`` keys, every step:
    ``final_obs``        [N, obs_dim] float32. The last observation of the finished episode for rows
                         where ``terminated | truncated``; other rows are undefined. The trainer
                         bootstraps truncated episodes from it.
    ``reward_terms``     dict term -> float. Mean over envs of each *scaled* reward term this step
                         (their sum is the mean reward).
    ``metrics``          dict name -> float. Mean over envs of the current state, e.g.
                         ``distance_to_target`` (m).
    ``episode``          dict name -> array[K] over the K episodes that finished this step
                         (K may be 0): ``return``, ``length`` (steps), ``success`` (bool: reached the
                         target and did not fall), ``fall`` (bool), ``time_to_target_s`` (NaN when never
                         reached), ``final_distance`` (m), ``truncated`` (bool).

State for exact resume:
    ``get_state() -> dict[str, np.ndarray | int | float]`` and ``set_state(state)`` capture every
    bit that influences future steps (physics states, action filters, targets, timers, RNG), so a
    run resumed from a checkpoint continues exactly as if never stopped.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np


class BatchedEnv(Protocol):
    num_envs: int
    obs_dim: int
    action_dim: int
    control_dt: float  # seconds per step
    max_episode_steps: int
    env_id: str

    def reset(self, seed: int | None = None) -> np.ndarray: ...

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]: ...

    def get_state(self) -> dict[str, Any]: ...

    def set_state(self, state: dict[str, Any]) -> None: ...

    def close(self) -> None: ...
