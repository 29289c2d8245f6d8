"""Gymnasium views of the batched env, for interoperability (SB3, gymnasium tooling).

``VBotGymEnv``: one env, the standard ``gymnasium.Env`` API (registered as ``vbot_agent/<env_id>``).
``VBotGymVectorEnv``: N envs as a ``gymnasium.vector.VectorEnv`` with same-step autoreset.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv

from vbot_agent.sim.registry import make_env


def _spaces(obs_dim: int, action_dim: int) -> tuple[spaces.Box, spaces.Box]:
    observation_space = spaces.Box(-np.inf, np.inf, (obs_dim,), dtype=np.float32)
    action_space = spaces.Box(-1.0, 1.0, (action_dim,), dtype=np.float32)
    return observation_space, action_space


def _flat_info(info: dict[str, Any], row: int, done: bool) -> dict[str, Any]:
    out: dict[str, Any] = {f"reward/{k}": v for k, v in info["reward_terms"].items()}
    if done:
        out["episode_stats"] = {k: v[0].item() for k, v in info["episode"].items()}
    return out


class VBotGymEnv(gymnasium.Env):
    """A single VBot env. Episodes end with ``terminated`` (fall) or ``truncated`` (time limit)."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 50}

    def __init__(self, env_id: str, render_mode: str | None = None, **kwargs: Any) -> None:
        self._env = make_env(env_id, 1, threads=1, **kwargs)
        self.observation_space, self.action_space = _spaces(self._env.obs_dim, self._env.action_dim)
        self.render_mode = render_mode
        self._renderer = None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if seed is None:
            seed = int(self.np_random.integers(2**31))
        obs = self._env.reset(seed=seed)
        return obs[0], {}

    def step(self, action):
        obs, reward, terminated, truncated, info = self._env.step(np.asarray(action, dtype=np.float64)[None])
        done = bool(terminated[0] or truncated[0])
        # The batched env has already started the next episode; hand back the last observation.
        last = info["final_obs"][0] if done else obs[0]
        return last, float(reward[0]), bool(terminated[0]), bool(truncated[0]), _flat_info(info, 0, done)

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        from vbot_agent.sim.render import SceneRenderer

        if self._renderer is None:
            self._renderer = SceneRenderer(self._env, width=480, height=360)
        return self._renderer.render(0)

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
        self._env.close()


class VBotGymVectorEnv(VectorEnv):
    """N VBot envs stepped together (physics on all cores); autoreset in the same step."""

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP}

    def __init__(self, env_id: str, num_envs: int = 1, **kwargs: Any) -> None:
        kwargs.pop("render_mode", None)
        self._env = make_env(env_id, num_envs, **kwargs)
        self.num_envs = num_envs
        self.single_observation_space, self.single_action_space = _spaces(self._env.obs_dim, self._env.action_dim)
        self.observation_space = gymnasium.vector.utils.batch_space(self.single_observation_space, num_envs)
        self.action_space = gymnasium.vector.utils.batch_space(self.single_action_space, num_envs)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        return self._env.reset(seed=seed), {}

    def step(self, actions):
        obs, reward, terminated, truncated, info = self._env.step(np.asarray(actions, dtype=np.float64))
        done = terminated | truncated
        infos: dict[str, Any] = {}
        if done.any():
            infos["final_obs"] = np.where(done[:, None], info["final_obs"], np.nan)
            infos["_final_obs"] = done
        return obs, reward.astype(np.float64), terminated, truncated, infos

    def close_extras(self, **kwargs: Any) -> None:
        self._env.close()


def register_gymnasium_envs() -> None:
    """Register every env id with Gymnasium as ``vbot_agent/<env_id>`` (idempotent; runs at import)."""
    from vbot_agent.sim.registry import ENV_IDS

    for env_id in ENV_IDS:
        gym_id = f"vbot_agent/{env_id}"
        if gym_id not in gymnasium.registry:
            gymnasium.register(
                id=gym_id,
                entry_point="vbot_agent.sim.gym_wrappers:VBotGymEnv",
                vector_entry_point="vbot_agent.sim.gym_wrappers:VBotGymVectorEnv",
                kwargs={"env_id": env_id},
            )


register_gymnasium_envs()
