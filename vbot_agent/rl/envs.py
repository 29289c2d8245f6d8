"""Env ids the trainer accepts, all behind the batched env contract (``vbot_agent.sim.contract``).

* VBot ids (``vbot_navigation_section001``...) come from ``vbot_agent.sim.registry``.
* ``gym:<id>`` is any Gymnasium env through its vector API (``GymVectorEnv``), so the trainer can
  be checked against published PPO results. Env options become ``gym.make`` keyword arguments.
* ``dummy:point_nav`` is the tiny point-mass env of ``vbot_agent.rl.dummy_env`` (tests, smoke runs).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vbot_agent.config import from_mapping, to_dict
from vbot_agent.errors import UsageError, suggest

GYM_PREFIX = "gym:"
DUMMY_IDS = ("dummy:point_nav",)


def _vbot_schemas() -> tuple[type, type]:
    """(NavConfig, RewardConfig) of the VBot sim; imported only when a VBot id is used."""
    from vbot_agent.sim.navigation import NavConfig
    from vbot_agent.sim.rewards import RewardConfig

    return NavConfig, RewardConfig


def check_env_id(env_id: str) -> None:
    """Raise UsageError (with suggestions and the valid ids) for an unknown env id."""
    if env_id.startswith(GYM_PREFIX):
        import gymnasium as gym

        name = env_id[len(GYM_PREFIX):]
        if name not in gym.registry:
            raise UsageError(
                f"unknown Gymnasium env {name!r}{suggest(name, list(gym.registry))}; "
                "see gymnasium.pprint_registry() for the list"
            )
        return
    if env_id in DUMMY_IDS:
        return
    from vbot_agent.sim.registry import ENV_IDS, get_spec

    if env_id not in ENV_IDS:
        valid = [*ENV_IDS, *DUMMY_IDS, "gym:<Gymnasium id>"]
        raise UsageError(f"unknown env id {env_id!r}{suggest(env_id, list(ENV_IDS))}; valid: {', '.join(valid)}")
    get_spec(env_id)


def resolve_env_options(env_id: str, env: dict[str, Any], reward: dict[str, Any]) -> tuple[dict, dict]:
    """Validate ``env`` options and ``reward`` config for ``env_id``; return them with defaults filled.

    Raises UsageError for an unknown env id or unknown keys (naming the valid ones).
    """
    check_env_id(env_id)
    if env_id.startswith(GYM_PREFIX):
        if reward:
            raise UsageError(f"{env_id}: reward settings apply to VBot envs only; Gymnasium envs bring their own reward")
        return dict(env), {}
    if env_id in DUMMY_IDS:
        from vbot_agent.rl.dummy_env import PointNavConfig, PointRewardConfig

        env_cls, reward_cls = PointNavConfig, PointRewardConfig
    else:
        env_cls, reward_cls = _vbot_schemas()
        from vbot_agent.sim.registry import is_course

        if is_course(env_id):  # the course terms' default scales
            from vbot_agent.sim.rewards import with_course_defaults

            reward = with_course_defaults(reward)
    # The reward config fills in every default scale itself, so the resolved config names them all.
    env_cfg = from_mapping(env_cls, env, where="env")
    reward_cfg = from_mapping(reward_cls, reward, where="reward")
    return to_dict(env_cfg), to_dict(reward_cfg)


def make_env(env_id: str, num_envs: int, *, seed: int, env: dict[str, Any] | None = None,
             reward: dict[str, Any] | None = None, threads: int | None = None, stagger_episodes: bool = False):
    """Build a batched env (contract: ``vbot_agent.sim.contract``). ``threads``: physics threads
    (None: the env decides). ``stagger_episodes``: VBot envs start their first episodes at random
    times, for training (evaluation keeps full-length episodes)."""
    env, reward = dict(env or {}), dict(reward or {})
    if env_id.startswith(GYM_PREFIX):
        return GymVectorEnv(env_id[len(GYM_PREFIX):], num_envs, seed=seed, options=env)
    if env_id in DUMMY_IDS:
        from vbot_agent.rl.dummy_env import PointNavConfig, PointNavEnv, PointRewardConfig

        return PointNavEnv(num_envs, seed=seed, config=from_mapping(PointNavConfig, env, where="env"),
                           reward=from_mapping(PointRewardConfig, reward, where="reward"))
    from vbot_agent.sim.registry import make_env as make_vbot_env

    return make_vbot_env(env_id, num_envs, seed=seed, config=env, reward=reward, threads=threads,
                         stagger_episodes=stagger_episodes)


class GymVectorEnv:
    """A Gymnasium vector env behind the batched env contract.

    Uses ``gym.make_vec`` with same-step autoreset (so ``info["final_obs"]`` holds the last
    observation of finished episodes). Actions in [-1, 1] are mapped affinely to the action box.
    Episode stats are tracked here; ``success`` is never reported (Gymnasium has no such notion),
    ``fall`` means terminated before the time limit. ``get_state`` cannot capture Gymnasium's
    internal simulator state, so resume of a ``gym:`` run is not bit-exact (it is reseeded).
    """

    def __init__(self, gym_id: str, num_envs: int, *, seed: int, options: dict[str, Any]) -> None:
        import gymnasium as gym

        try:
            self._env = gym.make_vec(
                gym_id, num_envs=num_envs, vectorization_mode="sync",
                vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP}, **options,
            )
        except TypeError as exc:
            raise UsageError(f"gym:{gym_id}: bad env option ({exc})") from None
        act_space, obs_space = self._env.single_action_space, self._env.single_observation_space
        if not isinstance(act_space, gym.spaces.Box) or not isinstance(obs_space, gym.spaces.Box):
            raise UsageError(f"gym:{gym_id}: only Box observation and action spaces are supported")
        self.env_id = GYM_PREFIX + gym_id
        self.num_envs = num_envs
        self.obs_dim = int(np.prod(obs_space.shape))
        self.action_dim = int(np.prod(act_space.shape))
        self._low = act_space.low.reshape(-1).astype(np.float64)
        self._high = act_space.high.reshape(-1).astype(np.float64)
        if not (np.all(np.isfinite(self._low)) and np.all(np.isfinite(self._high))):
            raise UsageError(f"gym:{gym_id}: unbounded action spaces are not supported")
        spec = self._env.spec
        self.max_episode_steps = int(spec.max_episode_steps or 0) if spec is not None else 0
        self.control_dt = float((self._env.metadata.get("render_fps") and 1.0 / self._env.metadata["render_fps"]) or 1.0)
        self._seed = seed
        self._return = np.zeros(num_envs)
        self._length = np.zeros(num_envs, dtype=np.int64)

    def reset(self, seed: int | None = None) -> np.ndarray:
        obs, _ = self._env.reset(seed=self._seed if seed is None else seed)
        self._return[:] = 0.0
        self._length[:] = 0
        return obs.reshape(self.num_envs, -1).astype(np.float32)

    def step(self, actions: np.ndarray):
        a = np.clip(np.asarray(actions, dtype=np.float64), -1.0, 1.0)
        scaled = self._low + 0.5 * (a + 1.0) * (self._high - self._low)
        obs, reward, terminated, truncated, info = self._env.step(scaled.astype(np.float32))
        reward = np.asarray(reward, dtype=np.float64)
        terminated, truncated = np.asarray(terminated, bool), np.asarray(truncated, bool) & ~np.asarray(terminated, bool)
        done = terminated | truncated
        self._return += reward
        self._length += 1
        obs = obs.reshape(self.num_envs, -1).astype(np.float32)
        final_obs = obs.copy()
        if done.any():
            final = info["final_obs"]
            for i in np.flatnonzero(done):  # Gymnasium returns an object array; rows are few
                final_obs[i] = np.asarray(final[i], dtype=np.float32).reshape(-1)
        out_info = {
            "final_obs": final_obs,
            "reward_terms": {},
            "metrics": {},
            "episode": {
                "return": self._return[done].copy(),
                "length": self._length[done].copy(),
                "fall": terminated[done],
                "truncated": truncated[done],
            },
        }
        self._return[done] = 0.0
        self._length[done] = 0
        return obs, reward.astype(np.float32), terminated, truncated, out_info

    def get_state(self) -> dict[str, Any]:
        return {}

    def set_state(self, state: dict[str, Any]) -> None:
        if state:
            raise UsageError(f"{self.env_id}: unexpected env state in checkpoint")

    def close(self) -> None:
        self._env.close()


def check_compatible(data: dict[str, Any], path: Any, *, env_id: str, obs_dim: int,
                     action_dim: int, same_env_id: bool) -> None:
    """UsageError when the checkpoint was made for another env (id or observation/action sizes)."""
    if (data["obs_dim"], data["action_dim"]) != (obs_dim, action_dim):
        raise UsageError(
            f"checkpoint {path} is for {data['env_id']} (obs {data['obs_dim']}, actions {data['action_dim']}), "
            f"but {env_id} has obs {obs_dim}, actions {action_dim}"
        )
    if same_env_id and data["env_id"] != env_id:
        raise UsageError(f"checkpoint {path} is from env {data['env_id']}, not {env_id}")
