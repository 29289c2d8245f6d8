"""A tiny batched env that follows the contract exactly: a 2-D point mass walks to a target.

Env id ``dummy:point_nav``. It exists so the trainer, the CLI and the tests can be checked in a
second without MuJoCo: it has named reward terms, ``distance_to_target``, per-episode success and
falls (leaving the arena), time-limit truncation and an exact ``get_state``/``set_state``.

Observation (8): target offset (2, m), velocity (2, m/s), distance (1), reached flag (1),
last action (2). Action (2): acceleration command in [-1, 1] (times ``accel`` m/s^2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np


@dataclass(frozen=True)
class PointSpawnConfig:
    layout: Literal["random", "competition"] = "random"  # competition: every target at target_max_m


@dataclass(frozen=True)
class PointNavConfig:
    episode_length_s: float = 4.0
    control_dt: float = 0.05
    accel: float = 4.0  # m/s^2 at |action| = 1
    target_min_m: float = 0.5
    target_max_m: float = 2.0
    arena_radius_m: float = 4.0  # leaving it counts as a fall
    reach_radius_m: float = 0.2
    spawn: PointSpawnConfig = field(default_factory=PointSpawnConfig)


DEFAULT_SCALES = {"progress": 5.0, "reached": 1.0, "action_rate": -0.01, "fall": -5.0}


@dataclass(frozen=True)
class PointRewardConfig:
    scales: dict[str, float] = field(default_factory=dict)  # given scales override DEFAULT_SCALES one by one

    def __post_init__(self) -> None:
        unknown = sorted(set(self.scales) - set(DEFAULT_SCALES))
        if unknown:
            raise ValueError(f"unknown reward term {unknown[0]!r}; valid terms: {', '.join(DEFAULT_SCALES)}")
        object.__setattr__(self, "scales", {**DEFAULT_SCALES, **self.scales})


class PointNavEnv:
    """N independent point masses; see the module docstring. Vectorised numpy, no per-env loop."""

    env_id = "dummy:point_nav"
    obs_dim = 8
    action_dim = 2

    def __init__(self, num_envs: int, *, seed: int = 0, config: PointNavConfig | None = None,
                 reward: PointRewardConfig | None = None) -> None:
        self.num_envs = num_envs
        self.cfg = config or PointNavConfig()
        self.reward_cfg = reward or PointRewardConfig()
        self.control_dt = self.cfg.control_dt
        self.max_episode_steps = round(self.cfg.episode_length_s / self.cfg.control_dt)
        self._rng = np.random.default_rng(seed)
        n = num_envs
        self._pos = np.zeros((n, 2))
        self._vel = np.zeros((n, 2))
        self._target = np.zeros((n, 2))
        self._last_action = np.zeros((n, 2))
        self._steps = np.zeros(n, dtype=np.int64)
        self._return = np.zeros(n)
        self._time_to_target = np.full(n, np.nan)
        self.reset(seed)

    # -- contract ----------------------------------------------------------------------------
    def reset(self, seed: int | None = None) -> np.ndarray:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._reset_rows(np.ones(self.num_envs, dtype=bool))
        return self._obs()

    def step(self, actions: np.ndarray):
        actions = np.clip(np.asarray(actions, dtype=np.float64), -1.0, 1.0)
        dt = self.cfg.control_dt
        dist_before = self._distance()
        self._vel = 0.9 * self._vel + self.cfg.accel * dt * actions
        self._pos = self._pos + dt * self._vel
        self._steps += 1
        dist = self._distance()
        reached = dist < self.cfg.reach_radius_m
        fell = np.linalg.norm(self._pos, axis=1) > self.cfg.arena_radius_m
        terms = {
            "progress": dist_before - dist,
            "reached": reached.astype(np.float64),
            "action_rate": np.sum((actions - self._last_action) ** 2, axis=1),
            "fall": fell.astype(np.float64),
        }
        scaled = {k: self.reward_cfg.scales.get(k, 0.0) * v for k, v in terms.items()}
        reward = sum(scaled.values())
        self._last_action = actions
        self._return += reward
        newly = reached & np.isnan(self._time_to_target)
        self._time_to_target[newly] = self._steps[newly] * dt
        terminated = fell
        truncated = (self._steps >= self.max_episode_steps) & ~terminated
        done = terminated | truncated
        final_obs = self._obs()
        episode = {
            "return": self._return[done].copy(),
            "length": self._steps[done].copy(),
            "success": (~np.isnan(self._time_to_target) & ~fell)[done],
            "fall": fell[done],
            "time_to_target_s": self._time_to_target[done].copy(),
            "final_distance": dist[done],
            "truncated": truncated[done],
            "points": ((dist < 2 * self.cfg.reach_radius_m).astype(np.int64) + reached)[done] * ~fell[done],
        }
        info = {
            "final_obs": final_obs,
            "reward_terms": {k: float(v.mean()) for k, v in scaled.items()},
            "metrics": {"distance_to_target": float(dist.mean())},
            "episode": episode,
        }
        if done.any():
            self._reset_rows(done)
        return self._obs(), reward.astype(np.float32), terminated, truncated, info

    def get_state(self) -> dict[str, Any]:
        return {
            "pos": self._pos.copy(), "vel": self._vel.copy(), "target": self._target.copy(),
            "last_action": self._last_action.copy(), "steps": self._steps.copy(),
            "return": self._return.copy(), "time_to_target": self._time_to_target.copy(),
            "rng": self._rng.bit_generator.state,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self._pos, self._vel = np.array(state["pos"]), np.array(state["vel"])
        self._target, self._last_action = np.array(state["target"]), np.array(state["last_action"])
        self._steps, self._return = np.array(state["steps"]), np.array(state["return"])
        self._time_to_target = np.array(state["time_to_target"])
        self._rng = np.random.default_rng()
        self._rng.bit_generator.state = state["rng"]

    def close(self) -> None:
        pass

    # -- internals ---------------------------------------------------------------------------
    def _distance(self) -> np.ndarray:
        return np.linalg.norm(self._target - self._pos, axis=1)

    def _reset_rows(self, rows: np.ndarray) -> None:
        k = int(rows.sum())
        radius = self._rng.uniform(self.cfg.target_min_m, self.cfg.target_max_m, k)
        if self.cfg.spawn.layout == "competition":
            radius[:] = self.cfg.target_max_m
        angle = self._rng.uniform(-np.pi, np.pi, k)
        self._pos[rows] = 0.0
        self._vel[rows] = 0.0
        self._target[rows] = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
        self._last_action[rows] = 0.0
        self._steps[rows] = 0
        self._return[rows] = 0.0
        self._time_to_target[rows] = np.nan

    def _obs(self) -> np.ndarray:
        offset = self._target - self._pos
        dist = np.linalg.norm(offset, axis=1, keepdims=True)
        reached = (dist < self.cfg.reach_radius_m).astype(np.float64)
        return np.concatenate([offset, self._vel, dist, reached, self._last_action], axis=1).astype(np.float32)
