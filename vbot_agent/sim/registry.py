"""Env ids: one line each, one ``make_env``. Importing this module is cheap (no mujoco)."""

from __future__ import annotations

from typing import Any

from vbot_agent.errors import UsageError, suggest
from vbot_agent.sim.env_spec import EnvSpec

ENV_SPECS: dict[str, EnvSpec] = {
    spec.env_id: spec
    for spec in (
        EnvSpec(
            "vbot_navigation_section001",
            "flat disc r=12.5 m; walk to a random target (x, y, yaw) and stop; competition ring layout option",
            "flat",
        ),
        EnvSpec(
            "vbot_navigation_section011",
            "course: height-field bumps, a 15 deg ramp, a platform 0.4 m up; targets at checkpoints",
            "section011",
        ),
        EnvSpec(
            "vbot_navigation_section012",
            "course: stairs of 0.10 and 0.15 m up to a 0.6 m platform and down; targets at checkpoints",
            "section012",
        ),
        EnvSpec(
            "vbot_navigation_section013",
            "course: a 0.2 m step, balls rolling across the lane, a 25 deg ramp to a platform",
            "section013",
        ),
    )
}
ENV_IDS: tuple[str, ...] = tuple(ENV_SPECS)


def get_spec(env_id: str) -> EnvSpec:
    try:
        return ENV_SPECS[env_id]
    except KeyError:
        raise UsageError(
            f"unknown env id {env_id!r}{suggest(env_id, list(ENV_IDS))}; valid: {', '.join(ENV_IDS)}"
        ) from None


def make_env(env_id: str, num_envs: int = 1, *, seed: int = 0, config: Any = None, reward: Any = None,
             threads: int | None = None, stagger_episodes: bool = False):
    """Build the batched env ``env_id`` with ``num_envs`` copies (see ``vbot_agent.sim.contract``).

    ``config`` is a ``NavConfig`` or a mapping (YAML ``env:``); ``reward`` a ``RewardConfig`` or a
    mapping (YAML ``reward:``); None means the defaults. ``stagger_episodes``: see ``NavigationEnv``.
    """
    spec = get_spec(env_id)
    from vbot_agent.sim.navigation import NavigationEnv

    return NavigationEnv(spec, num_envs=num_envs, seed=seed, config=config, reward=reward, threads=threads,
                        stagger_episodes=stagger_episodes)
