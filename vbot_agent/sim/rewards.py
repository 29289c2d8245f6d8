"""Reward terms of the navigation task: small pure functions over batched arrays.

Each term returns an array [N] in natural units and is declared ``rate`` (per second: the env adds
``scale * value * dt`` each step, so its episode sum is a time integral) or ``event`` (a one-off: the
env adds ``scale * value`` on the step it happens). Scales live in ``RewardConfig.scales``; a term
with scale 0 is skipped. Every term is logged separately (docs/design.md, "Simulation").

Why these terms, against the exploits of docs/design.md, "Failures we design against":
- no alive bonus: standing still earns ~0, never more than walking to the target (lazy robot);
- ``progress`` is capped at ``progress_speed_cap`` m/s, so sprinting is not worth more than walking,
  and the fall penalty plus the lost ``hold`` make sprint-and-crash and touch-and-die lose;
- ``arrival`` pays once per episode (no reach-and-farm by leaving and re-entering);
- ``hold`` pays per second only inside the 0.3 m target radius *and* nearly stopped, so hovering at
  the edge earns nothing and arriving early earns more (no die-early time decay);
- every penalty is small next to walking's ``progress``, so the per-step reward of a walking robot is
  positive and dying early never pays;
- ``alive``, ``entry`` and ``near_target`` default to 0: they exist only so the reward library can
  write down the prior art's exploitable rewards and ``vbot reward audit`` can show why they fail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from vbot_agent.errors import UsageError, suggest


@dataclass(frozen=True)
class RewardInputs:
    """What the terms may read, all batched over N envs (world frame unless noted)."""

    dt: float
    distance: np.ndarray  # [N] m, base to target in the ground plane
    prev_distance: np.ndarray  # [N] m, at the previous step
    planar_speed: np.ndarray  # [N] m/s
    heading_error: np.ndarray  # [N] rad, target yaw - base yaw, wrapped
    lin_vel_body: np.ndarray  # [N, 3] m/s
    ang_vel_body: np.ndarray  # [N, 3] rad/s
    projected_gravity: np.ndarray  # [N, 3] unit vector in the body frame
    joint_pos: np.ndarray  # [N, 12] rad
    joint_torque: np.ndarray  # [N, 12] N m
    action: np.ndarray  # [N, 12]
    prev_action: np.ndarray  # [N, 12]
    joint_lower: np.ndarray  # [12]
    joint_upper: np.ndarray  # [12]
    foot_contact: np.ndarray  # [N, 4] bool
    first_contact: np.ndarray  # [N, 4] bool, touched down this step
    air_time: np.ndarray  # [N, 4] s, time in the air before this touchdown
    just_arrived: np.ndarray  # [N] bool, first entry into the target radius this episode
    fell: np.ndarray  # [N] bool, terminated by a fall this step
    reach_radius: float


@dataclass(frozen=True)
class RewardConfig:
    """Reward scales and the few shaping constants the terms use. Loaded from YAML (``reward:``)."""

    scales: dict[str, float] = field(default_factory=dict)
    progress_speed_cap: float = 1.0  # m/s; faster approach earns no more
    hold_speed: float = 0.2  # m/s; below this inside the target radius counts as stopped
    heading_sigma: float = 0.75  # m; the heading term fades with distance to the target
    air_time_target: float = 0.3  # s; swing time that feet_air_time rewards
    near_radius: float = 0.75  # m; the zone near_target pays in (the competition's inner fence)

    def __post_init__(self) -> None:
        # Scales given in YAML override the defaults one by one; set a scale to 0 to drop a term.
        object.__setattr__(self, "scales", {**DEFAULT_SCALES, **self.scales})
        unknown = [k for k in self.scales if k not in TERMS]
        if unknown:
            bad = unknown[0]
            raise UsageError(
                f"unknown reward term {bad!r}{suggest(bad, list(TERMS))}; valid terms: {', '.join(TERMS)}"
            )
        for key, value in self.scales.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
                raise UsageError(f"reward scale {key!r} must be a finite number, got {value!r}")


Kind = Literal["rate", "event"]


@dataclass(frozen=True)
class Term:
    name: str
    kind: Kind
    fn: Callable[[RewardInputs, RewardConfig], np.ndarray]
    doc: str


def _progress(x: RewardInputs, c: RewardConfig) -> np.ndarray:
    approach_speed = (x.prev_distance - x.distance) / x.dt
    return np.clip(approach_speed, -c.progress_speed_cap, c.progress_speed_cap)


def _arrival(x: RewardInputs, c: RewardConfig) -> np.ndarray:
    return x.just_arrived.astype(np.float64)


def _hold(x: RewardInputs, c: RewardConfig) -> np.ndarray:
    return ((x.distance < x.reach_radius) & (x.planar_speed < c.hold_speed)).astype(np.float64)


def _heading(x: RewardInputs, c: RewardConfig) -> np.ndarray:
    return np.cos(x.heading_error) * np.exp(-np.square(x.distance / c.heading_sigma))


def _lin_vel_z(x: RewardInputs, c: RewardConfig) -> np.ndarray:
    return np.square(x.lin_vel_body[:, 2])


def _ang_vel_xy(x: RewardInputs, c: RewardConfig) -> np.ndarray:
    return np.sum(np.square(x.ang_vel_body[:, :2]), axis=1)


def _orientation(x: RewardInputs, c: RewardConfig) -> np.ndarray:
    return np.sum(np.square(x.projected_gravity[:, :2]), axis=1)


def _torques(x: RewardInputs, c: RewardConfig) -> np.ndarray:
    return np.sum(np.square(x.joint_torque), axis=1)


def _action_rate(x: RewardInputs, c: RewardConfig) -> np.ndarray:
    return np.sum(np.square(x.action - x.prev_action), axis=1)


def _joint_limits(x: RewardInputs, c: RewardConfig) -> np.ndarray:
    # rad beyond the inner 95% of each joint's range
    margin = 0.025 * (x.joint_upper - x.joint_lower)
    below = np.clip((x.joint_lower + margin) - x.joint_pos, 0.0, None)
    above = np.clip(x.joint_pos - (x.joint_upper - margin), 0.0, None)
    return np.sum(below + above, axis=1)


def _feet_air_time(x: RewardInputs, c: RewardConfig) -> np.ndarray:
    # Paid at touchdown for swings longer than the target (legged_gym's feet_air_time), and only
    # while there is somewhere to go: standing at the target must not be pushed into stepping.
    swings = np.sum((x.air_time - c.air_time_target) * x.first_contact, axis=1)
    return swings * (x.distance > x.reach_radius)


def _termination(x: RewardInputs, c: RewardConfig) -> np.ndarray:
    return x.fell.astype(np.float64)


# The three terms below exist so that the reward library can express the prior art's exploitable
# rewards and the audit can catch them (docs/design.md, "Failures we design against"). Their default scale is 0: do not turn them on
# without running `vbot reward audit`.


def _alive(x: RewardInputs, c: RewardConfig) -> np.ndarray:
    # A survival bonus: with a positive scale it pays standing still (lazy robot); with a negative
    # scale it is a time penalty that pays dying early.
    return (~x.fell).astype(np.float64)


def _entry(x: RewardInputs, c: RewardConfig) -> np.ndarray:
    # Every entry into the target radius, not only the first: leaving and re-entering farms it.
    return ((x.distance < x.reach_radius) & (x.prev_distance >= x.reach_radius)).astype(np.float64)


def _near_target(x: RewardInputs, c: RewardConfig) -> np.ndarray:
    # Pays anywhere inside near_radius, with no extra pull to the centre: the robot parks at the edge.
    return (x.distance < c.near_radius).astype(np.float64)


TERMS: dict[str, Term] = {
    t.name: t
    for t in (
        Term("progress", "rate", _progress, "approach speed toward the target, m/s, capped"),
        Term("arrival", "event", _arrival, "1 on the first entry into the target radius"),
        Term("hold", "rate", _hold, "1 while inside the target radius and stopped"),
        Term("heading", "rate", _heading, "cos(yaw error), fading with distance to the target"),
        Term("lin_vel_z", "rate", _lin_vel_z, "vertical base speed squared"),
        Term("ang_vel_xy", "rate", _ang_vel_xy, "roll and pitch rate squared"),
        Term("orientation", "rate", _orientation, "tilt: horizontal part of gravity in the body frame, squared"),
        Term("torques", "rate", _torques, "sum of squared joint torques"),
        Term("action_rate", "rate", _action_rate, "sum of squared action changes"),
        Term("joint_limits", "rate", _joint_limits, "rad beyond 95% of the joint ranges"),
        Term("feet_air_time", "event", _feet_air_time, "swing time beyond the target, paid at touchdown"),
        Term("termination", "event", _termination, "1 when the episode ends in a fall"),
        Term("alive", "rate", _alive, "1 while not fallen (a survival bonus; default 0, exploitable)"),
        Term("entry", "event", _entry, "1 on every entry into the target radius (default 0, farmable)"),
        Term("near_target", "rate", _near_target, "1 while within near_radius (default 0, rewards hovering)"),
    )
}

DEFAULT_SCALES: dict[str, float] = {
    "progress": 2.0,
    "arrival": 10.0,
    "hold": 2.0,
    "heading": 0.5,
    "lin_vel_z": -1.0,
    "ang_vel_xy": -0.05,
    "orientation": -2.0,
    "torques": -2e-5,
    "action_rate": -0.01,
    "joint_limits": -5.0,
    "feet_air_time": 0.0,
    "termination": -10.0,
    "alive": 0.0,
    "entry": 0.0,
    "near_target": 0.0,
}


def compute(inputs: RewardInputs, config: RewardConfig) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Total reward [N] for one step and each term's scaled contribution {name: [N]}."""
    total = np.zeros_like(inputs.distance)
    parts: dict[str, np.ndarray] = {}
    for name, scale in config.scales.items():
        if scale == 0.0:
            continue
        term = TERMS[name]
        value = scale * term.fn(inputs, config)
        if term.kind == "rate":
            value = value * inputs.dt
        parts[name] = value
        total += value
    return total, parts
