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
            "START, pothole field (0-0.277 m), 15 deg ramp to the 1.294 m '2026' platform; 20 points",
            "section011",
        ),
        EnvSpec(
            "vbot_navigation_section012",
            "waves, stairs 10x0.15 / 10x0.10, bridge or riverbed with stones, stairs down; 60 points",
            "section012",
        ),
        EnvSpec(
            "vbot_navigation_section013",
            "rolling balls, 0.2 m 21.8 deg ramp, random terrain, final platform with gold balls; 25 points",
            "section013",
        ),
        EnvSpec(
            "vbot_navigation_long_course",
            "sections 011, 012 and 013 in one frame from START (the official course); 105 points",
            "long_course",
        ),
        EnvSpec(
            "vbot_navigation_terrain",
            "training terrain: tiles of stairs, bumps, ramps and steps on 10 levels of difficulty",
            "training",
        ),
    )
}
ENV_IDS: tuple[str, ...] = tuple(ENV_SPECS)


def is_course(env_id: str) -> bool:
    """True for the env ids on a course (gates, course observation layout, course reward terms)."""
    return get_spec(env_id).terrain != "flat"


def has_competition(env_id: str) -> bool:
    """True for the env ids the competition scores (the flat ring, the sections, the long course)."""
    return env_id in ENV_SPECS and ENV_SPECS[env_id].terrain != "training"


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

    if is_course(env_id):
        from vbot_agent.sim.rewards import with_course_defaults

        reward = with_course_defaults(reward)

    return NavigationEnv(spec, num_envs=num_envs, seed=seed, config=config, reward=reward, threads=threads,
                        stagger_episodes=stagger_episodes)
