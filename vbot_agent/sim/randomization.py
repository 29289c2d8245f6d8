"""Domain randomisation: physics variants, pushes and action latency, resampled per episode.

Off by default (``env.randomization.enabled``); ``configs/domain_randomization.yaml`` turns it on
together with the observation noise (``env.noise``). Everything here is vectorised over the N envs.

How each perturbation reaches the physics:

- **Model parameters** (friction, masses, centre of mass, PD gains). ``mujoco.rollout`` accepts one
  ``MjModel`` per env, all of the same size signature. A pool of ``variants`` model copies is built
  once, each drawn independently from the ranges below; at every episode start an env draws one
  variant (``BatchedPhysics.assign_models``). A pool rather than a model per env: each copy of this
  model costs ~1 MB and ~15 ms to make, too much for 1024 envs resampled every episode, and 64
  variants is the bucket count legged_gym and Isaac Lab use for friction (``num_buckets=64``).
- **Pushes**: a velocity kick added to the base's world-frame xy velocity in the state array, at
  random intervals (legged_gym ``push_robots``, mjlab ``push_by_setting_velocity``).
- **Latency**: the action applied is the one the policy sent ``latency`` control steps ago
  (a ring of the last ``max + 1`` actions per env; mjlab's actuator ``delay_min_lag/max_lag``).
  Before an episode has that many actions the default pose (action 0) is held.

Ranges (the defaults below; the preset spells them out) and their sources:

=====================  ====================  ===============================================
friction               U(0.3, 1.2)           mjlab velocity task ``foot_friction`` (abs);
                                             legged_gym 0.5-1.25, Playground Go1 0.4-1.0
link_mass_scale        x U(0.9, 1.1)         MuJoCo Playground Go1 ``randomize.py``
base_added_mass_kg     + U(-1, 1)            legged_gym ``added_mass_range``, Playground Go1
base_com_offset_m      +-(0.025, 0.025, 0.03)  mjlab velocity task ``base_com``
kp_scale, kd_scale     x U(0.9, 1.1)         MuJoCo Playground T1 (stiffness, damping)
push_velocity_mps      |v| U(0, 0.5)         mjlab ``push_robot`` (+-0.5 m/s in x, y)
push_interval_s        U(5, 10)              between legged_gym's 15 s and mjlab's 1-3 s:
                                             2-4 pushes in a 20 s episode
latency_steps          0-2 (x 10 ms)         mjlab actuator delay, e.g. 0-4 x 5 ms on G1
=====================  ====================  ===============================================

Friction: VBot's feet have contact priority 1, so a foot contact takes the foot's friction
whatever the ground's; randomising the four feet together (mjlab's ``shared_random``) is what
changes foot-ground friction. Masses scale the body inertias by the same factor (same shape,
different density); ``mj_setConst`` then refreshes the derived constants (subtree masses, the
inverse weights the solver's regularisation uses).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import mujoco
import numpy as np

from vbot_agent.errors import UsageError


@dataclass(frozen=True)
class RandomizationConfig:
    """Ranges are (low, high), sampled uniformly; low == high fixes a value (robustness grids)."""

    enabled: bool = False
    variants: int = 64  # distinct physics models in the pool
    friction: tuple[float, float] = (0.3, 1.2)  # foot-ground sliding friction coefficient
    link_mass_scale: tuple[float, float] = (0.9, 1.1)  # every robot body's mass (and inertia)
    base_added_mass_kg: tuple[float, float] = (-1.0, 1.0)  # on the trunk, after the scale
    base_com_offset_m: tuple[float, float, float] = (0.025, 0.025, 0.03)  # +- per axis, trunk
    kp_scale: tuple[float, float] = (0.9, 1.1)  # per joint, position gain
    kd_scale: tuple[float, float] = (0.9, 1.1)  # per joint, actuator damping
    push_velocity_mps: tuple[float, float] = (0.0, 0.5)  # kick speed, random direction in xy
    push_interval_s: tuple[float, float] = (5.0, 10.0)  # time between kicks
    latency_steps: tuple[int, int] = (0, 2)  # control steps between the policy and the motors

    def __post_init__(self) -> None:
        if self.variants < 1:
            raise UsageError(f"env.randomization.variants must be >= 1, got {self.variants}")
        for name in ("friction", "link_mass_scale", "kp_scale", "kd_scale", "push_velocity_mps",
                     "push_interval_s", "latency_steps", "base_added_mass_kg"):
            lo, hi = getattr(self, name)
            if lo > hi:
                raise UsageError(f"env.randomization.{name} must be (low, high) with low <= high, got {(lo, hi)}")
        for name in ("friction", "link_mass_scale", "kp_scale", "kd_scale", "push_interval_s"):
            if getattr(self, name)[0] <= 0:
                raise UsageError(f"env.randomization.{name} must be > 0, got {getattr(self, name)}")
        if self.push_velocity_mps[0] < 0 or self.latency_steps[0] < 0:
            raise UsageError("env.randomization.push_velocity_mps and latency_steps must be >= 0")
        if any(c < 0 for c in self.base_com_offset_m):
            raise UsageError(f"env.randomization.base_com_offset_m are half-widths >= 0, got {self.base_com_offset_m}")

    @property
    def pushes(self) -> bool:
        return self.push_velocity_mps[1] > 0


def robot_ids(model: mujoco.MjModel) -> dict[str, np.ndarray]:
    """Body, foot-geom and actuator ids of VBot in ``model`` (the robot's root body is ``base``)."""
    base = model.body("base").id
    bodies = np.flatnonzero(model.body_rootid == base)
    feet = np.array([model.geom(f"{leg}_foot").id for leg in ("FR", "FL", "RR", "RL")])
    return {"base": np.array([base]), "bodies": bodies, "feet": feet, "actuators": np.arange(model.nu)}


def sample_variants(model: mujoco.MjModel, config: RandomizationConfig, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Draw ``config.variants`` parameter sets. Returns arrays with a leading [M] axis:
    friction [M], mass_scale [M, B], added_mass [M], com_offset [M, 3], kp_scale [M, U], kd_scale [M, U]."""
    m, ids = config.variants, robot_ids(model)
    half = np.asarray(config.base_com_offset_m)
    return {
        "friction": rng.uniform(*config.friction, m),
        "mass_scale": rng.uniform(*config.link_mass_scale, (m, len(ids["bodies"]))),
        "added_mass": rng.uniform(*config.base_added_mass_kg, m),
        "com_offset": rng.uniform(-half, half, (m, 3)),
        "kp_scale": rng.uniform(*config.kp_scale, (m, model.nu)),
        "kd_scale": rng.uniform(*config.kd_scale, (m, model.nu)),
    }


def build_variant(nominal: mujoco.MjModel, params: dict[str, np.ndarray], i: int) -> mujoco.MjModel:
    """A copy of ``nominal`` with variant ``i`` of ``params`` (see :func:`sample_variants`) applied."""
    import copy

    model = copy.copy(nominal)
    ids = robot_ids(model)
    model.geom_friction[ids["feet"], 0] = params["friction"][i]
    bodies, base = ids["bodies"], ids["base"][0]
    scale = params["mass_scale"][i]
    model.body_mass[bodies] = nominal.body_mass[bodies] * scale
    model.body_inertia[bodies] = nominal.body_inertia[bodies] * scale[:, None]
    base_mass = model.body_mass[base]
    new_base_mass = base_mass + params["added_mass"][i]
    if new_base_mass <= 0:
        raise UsageError(f"env.randomization.base_added_mass_kg leaves the trunk with {new_base_mass:.2f} kg")
    model.body_mass[base] = new_base_mass
    model.body_inertia[base] *= new_base_mass / base_mass
    model.body_ipos[base] = nominal.body_ipos[base] + params["com_offset"][i]
    # Position actuator: force = kp (ctrl - q) - kd qdot, stored as gain kp, bias (0, -kp, -kd).
    kp = nominal.actuator_gainprm[:, 0] * params["kp_scale"][i]
    model.actuator_gainprm[:, 0] = kp
    model.actuator_biasprm[:, 1] = -kp
    model.actuator_biasprm[:, 2] = nominal.actuator_biasprm[:, 2] * params["kd_scale"][i]
    mujoco.mj_setConst(model, mujoco.MjData(model))
    return model


class DomainRandomizer:
    """Per-env perturbations for a ``BatchedPhysics`` of N envs (see the module docstring).

    ``seed`` draws the variant pool (fixed for the env's life) and the per-episode draws;
    ``reseed`` restarts the per-episode draws, so ``env.reset(seed)`` repeats its episodes.
    It has its own generator: spawns and targets do not depend on whether randomisation is on.
    """

    def __init__(self, physics, config: RandomizationConfig, *, seed: int, control_dt: float) -> None:
        self.physics, self.config, self.control_dt = physics, config, control_dt
        n, nu = physics.num_envs, physics.model.nu
        pool_rng = np.random.default_rng([seed, 0x5EED])
        self.params = sample_variants(physics.model, config, pool_rng)
        self.variant_models = [build_variant(physics.model, self.params, i) for i in range(config.variants)]
        self.rng = np.random.default_rng([seed, 1])
        self.variant = np.zeros(n, dtype=np.int64)
        self.latency = np.zeros(n, dtype=np.int64)
        self.history = np.zeros((n, config.latency_steps[1] + 1, nu))  # [N, max latency + 1, A], newest first
        self.steps_to_push = np.full(n, np.iinfo(np.int64).max)
        # The robot's base linear velocity (world frame, free joint) in the state array.
        start = physics.layout.qvel.start
        self._base_vel_xy = slice(start, start + 2)
        physics.assign_models(self.variant_models, self.variant)

    def reseed(self, seed: int) -> None:
        self.rng = np.random.default_rng([seed, 1])

    def reset_rows(self, rows: np.ndarray) -> None:
        """New episodes in ``rows``: a fresh variant, latency and push timer; empty action history."""
        k, c, rng = len(rows), self.config, self.rng
        self.variant[rows] = rng.integers(0, c.variants, k)
        self.latency[rows] = rng.integers(c.latency_steps[0], c.latency_steps[1] + 1, k)
        self.history[rows] = 0.0
        if c.pushes:
            self.steps_to_push[rows] = self._draw_push_steps(k)
        self.physics.assign_models(self.variant_models, self.variant)

    def before_physics(self, action: np.ndarray) -> np.ndarray:
        """Kick the envs whose push is due (in the physics state) and return the delayed actions [N, A]."""
        if self.config.pushes:
            self.steps_to_push -= 1
            due = np.flatnonzero(self.steps_to_push <= 0)
            if len(due):
                speed = self.rng.uniform(*self.config.push_velocity_mps, len(due))
                angle = self.rng.uniform(-math.pi, math.pi, len(due))
                kick = np.stack([speed * np.cos(angle), speed * np.sin(angle)], axis=1)
                self.physics.state[due, self._base_vel_xy] += kick
                self.steps_to_push[due] = self._draw_push_steps(len(due))
        if self.history.shape[1] == 1:
            return action
        self.history[:, 1:] = self.history[:, :-1]
        self.history[:, 0] = action
        return self.history[np.arange(len(action)), self.latency]

    def get_state(self) -> dict[str, Any]:
        return {"variant": self.variant.copy(), "latency": self.latency.copy(), "history": self.history.copy(),
                "steps_to_push": self.steps_to_push.copy(), "rng": self.rng.bit_generator.state}

    def set_state(self, state: dict[str, Any]) -> None:
        for name in ("variant", "latency", "history", "steps_to_push"):
            getattr(self, name)[:] = state[name]
        self.rng = np.random.default_rng()
        self.rng.bit_generator.state = state["rng"]
        self.physics.assign_models(self.variant_models, self.variant)

    def _draw_push_steps(self, k: int) -> np.ndarray:
        seconds = self.rng.uniform(*self.config.push_interval_s, k)
        return np.maximum(1, np.round(seconds / self.control_dt)).astype(np.int64)
