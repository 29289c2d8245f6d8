"""The navigation task: walk to a target (x, y, yaw) and stop (docs/design.md, "Simulation").

``NavigationEnv`` implements the batched contract of ``contract.py`` over ``BatchedPhysics``.
Everything after the physics call (observation, reward, termination, resets) is vectorised numpy
over the N envs; there is no Python loop over envs.

Control (100 Hz): actions a in [-1, 1]^12 are smoothed ``f = 0.3 a + 0.7 f_prev`` and become joint
targets ``default + 0.25 f``; the PD law (kp 80, kv 6, torque limits) runs inside MuJoCo at physics
rate as position actuators.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import mujoco
import numpy as np

from vbot_agent.errors import UsageError
from vbot_agent.sim import rewards, robot
from vbot_agent.sim.env_spec import EnvSpec
from vbot_agent.sim.mathx import gravity_in_body, quat_rotate_inverse, wrap_angle, yaw_of, yaw_quat
from vbot_agent.sim.physics import BatchedPhysics, default_threads
from vbot_agent.sim.randomization import DomainRandomizer, RandomizationConfig
from vbot_agent.sim.terrain import TERRAINS

CONTROL_DT = 0.01  # s; the competition's 100 Hz
# The robot's coordinates come first in qpos/qvel (its body is the first in the MJCF); terrain
# bodies a section adds (rolling balls) follow them.
JOINTS_Q = slice(7, 7 + robot.NUM_JOINTS)
JOINTS_V = slice(6, 6 + robot.NUM_JOINTS)


@dataclass(frozen=True)
class SpawnConfig:
    """Where robots start and where their targets are.

    ``random``: the target lies within ``target_area_radius`` of the centre; the robot starts
    ``target_distance`` m away from it, turned so that the target is at a bearing in
    ``target_bearing`` (rad, 0 = straight ahead). ``competition``: robots start on a ring of radius
    ``ring_radius`` around the centre, which is the target. ``course`` (terrain sections): the robot
    starts at a checkpoint of the section's course and its target is a later checkpoint, each
    moved up to ``course_jitter`` m sideways; ``target_bearing`` turns it as for ``random``.
    ``auto``: ``course`` on a terrain with a course, ``random`` otherwise.
    """

    layout: Literal["auto", "random", "competition", "course"] = "auto"
    target_distance: tuple[float, float] = (3.0, 8.0)
    target_bearing: tuple[float, float] = (-math.pi, math.pi)
    target_area_radius: float = 2.0
    target_yaw: tuple[float, float] = (-math.pi, math.pi)
    ring_radius: tuple[float, float] = (10.0, 12.0)
    joint_noise: float = 0.1  # rad, uniform around the default pose at reset
    course_jitter: float = 0.3  # m, sideways spread of course spawns and targets


@dataclass(frozen=True)
class NoiseConfig:
    """Uniform observation noise, +-level * scale per component, applied only when ``enabled``."""

    enabled: bool = False
    scale: float = 1.0
    lin_vel: float = 0.1
    ang_vel: float = 0.2
    gravity: float = 0.05
    joint_pos: float = 0.01
    joint_vel: float = 1.5
    height_scan: float = 0.02


@dataclass(frozen=True)
class NavConfig:
    """Env options (YAML ``env:``). Reward settings live beside it in ``RewardConfig``."""

    episode_length_s: float = 20.0
    action_scale: float = 0.25  # rad per unit of smoothed action
    action_smoothing: float = 0.3  # weight of the new action in the low-pass filter
    reach_radius: float = 0.3  # m, "at the target" (the competition's centre)
    inner_fence: float = 0.75  # m, the competition's inner fence
    max_tilt_deg: float = 75.0
    max_joint_speed: float = 100.0  # rad/s; beyond it the state has blown up
    spawn: SpawnConfig = field(default_factory=SpawnConfig)
    noise: NoiseConfig = field(default_factory=NoiseConfig)
    randomization: RandomizationConfig = field(default_factory=RandomizationConfig)

    def __post_init__(self) -> None:
        lo, hi = self.spawn.target_distance
        if not 0 < lo <= hi:
            raise UsageError(f"env.spawn.target_distance must be 0 < min <= max, got {self.spawn.target_distance}")
        r_lo, r_hi = self.spawn.ring_radius
        if not 0 < r_lo <= r_hi:
            raise UsageError(f"env.spawn.ring_radius must be 0 < min <= max, got {self.spawn.ring_radius}")
        if not 0 < self.action_smoothing <= 1:
            raise UsageError(f"env.action_smoothing must be in (0, 1], got {self.action_smoothing}")
        if self.episode_length_s < CONTROL_DT:
            raise UsageError(f"env.episode_length_s must be at least {CONTROL_DT}")


# Height scan: a 4 x 3 grid in the robot's heading frame, x forward, y left (m).
SCAN_X = np.array([-0.2, 0.1, 0.4, 0.7])
SCAN_Y = np.array([-0.2, 0.0, 0.2])
SCAN_POINTS = np.stack(np.meshgrid(SCAN_X, SCAN_Y, indexing="ij"), axis=-1).reshape(-1, 2)

# Observation layout (body frame). One layout for every env id.
OBS_LAYOUT: tuple[tuple[str, int], ...] = (
    ("lin_vel", 3),  # m/s
    ("ang_vel", 3),  # rad/s
    ("projected_gravity", 3),  # unit vector
    ("joint_pos", 12),  # rad, minus the default pose
    ("joint_vel", 12),  # rad/s
    ("last_action", 12),
    ("target_pos", 2),  # m, target in the heading frame
    ("heading_error", 2),  # sin, cos of (target yaw - yaw)
    ("distance", 1),  # m
    ("reached", 1),  # 1 once the target radius was entered this episode
    ("height_scan", len(SCAN_POINTS)),  # m, ground height at the scan points minus under the base
)
OBS_SLICES: dict[str, slice] = {}
_start = 0
for _name, _size in OBS_LAYOUT:
    OBS_SLICES[_name] = slice(_start, _start + _size)
    _start += _size
OBS_DIM = _start


def build_model(terrain_name: str) -> mujoco.MjModel:
    """Compile VBot with the terrain of ``terrain_name`` added to its scene."""
    spec = mujoco.MjSpec.from_file(str(robot.ASSET))
    TERRAINS[terrain_name]().build(spec)
    return spec.compile()


class NavigationEnv:
    """N VBots, each walking to its own target. See ``vbot_agent.sim.contract`` for the API."""

    def __init__(
        self,
        spec: EnvSpec,
        num_envs: int = 1,
        *,
        seed: int = 0,
        config: NavConfig | dict | None = None,
        reward: rewards.RewardConfig | dict | None = None,
        threads: int | None = None,
        stagger_episodes: bool = False,
    ) -> None:
        from vbot_agent.config import from_mapping

        if num_envs < 1:
            raise UsageError(f"num_envs must be at least 1, got {num_envs}")
        self.env_id = spec.env_id
        self.spec = spec
        self.config: NavConfig = from_mapping(NavConfig, config, where="env")
        self.reward_config: rewards.RewardConfig = from_mapping(rewards.RewardConfig, reward, where="reward")
        self.num_envs = num_envs
        self.obs_dim = OBS_DIM
        self.action_dim = robot.NUM_JOINTS
        self.control_dt = CONTROL_DT
        self.max_episode_steps = round(self.config.episode_length_s / CONTROL_DT)

        self.model = build_model(spec.terrain)
        self.terrain = TERRAINS[spec.terrain]()
        self.layout = self._resolve_layout(self.config.spawn.layout)
        self.substeps = max(1, round(CONTROL_DT / self.model.opt.timestep))
        # Small batches are faster on the calling thread than handed to a pool.
        threads = threads or min(default_threads(), max(1, num_envs // 64))
        self.physics = BatchedPhysics(self.model, num_envs, threads=threads)
        self.threads = self.physics.threads
        layout = self.physics.layout
        self._qpos, self._qvel = layout.qpos, layout.qvel
        self._cos_max_tilt = math.cos(math.radians(self.config.max_tilt_deg))
        randomization = self.config.randomization
        self.randomizer = (DomainRandomizer(self.physics, randomization, seed=seed, control_dt=CONTROL_DT)
                           if randomization.enabled else None)

        n = num_envs
        self.rng = np.random.default_rng(seed)
        self.target = np.zeros((n, 2))
        self.target_yaw = np.zeros(n)
        self.filtered_action = np.zeros((n, 12))
        self.last_action = np.zeros((n, 12))
        self.prev_distance = np.zeros(n)
        self.episode_step = np.zeros(n, dtype=np.int64)
        self.episode_return = np.zeros(n)
        self.reached = np.zeros(n, dtype=bool)
        self.fence_reached = np.zeros(n, dtype=bool)
        self.time_to_target = np.full(n, np.nan)
        self.air_time = np.zeros((n, 4))
        self.last_contact = np.zeros((n, 4), dtype=bool)
        self._obs = np.zeros((n, OBS_DIM), dtype=np.float32)
        self.last_reward_parts: dict[str, np.ndarray] = {}
        self._needs_reset = True
        # Training: start each env's first episode at a random point of the time limit, so episodes
        # end spread out instead of all together every episode length (legged_gym's
        # init_at_random_ep_len). Evaluation leaves it off: every episode runs its full time.
        self.stagger_episodes = stagger_episodes

    # ----------------------------------------------------------------- contract
    def reset(self, seed: int | None = None) -> np.ndarray:
        """Fresh episodes in every env; returns obs [N, obs_dim]."""
        if seed is not None:
            self.rng = np.random.default_rng(seed)
            if self.randomizer is not None:
                self.randomizer.reseed(seed)
        self._reset_rows(np.arange(self.num_envs))
        if self.stagger_episodes:
            self.episode_step[:] = self.rng.integers(0, self.max_episode_steps, self.num_envs)
        self._needs_reset = False
        return self._observe_all().copy()

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Advance every env one control step; see the module contract for the outputs."""
        actions = np.asarray(actions)
        if actions.shape != (self.num_envs, self.action_dim):
            raise UsageError(
                f"actions must have shape ({self.num_envs}, {self.action_dim}), got {tuple(actions.shape)}"
            )
        if self._needs_reset:
            self.reset()
        c = self.config
        action = np.clip(np.nan_to_num(actions.astype(np.float64), nan=0.0), -1.0, 1.0)
        # Pushes and latency act on what reaches the motors; observations and rewards keep `action`.
        applied = action if self.randomizer is None else self.randomizer.before_physics(action)
        alpha = c.action_smoothing
        self.filtered_action = alpha * applied + (1.0 - alpha) * self.filtered_action
        ctrl = robot.DEFAULT_POSE + c.action_scale * self.filtered_action
        sensors = self.physics.step(ctrl, self.substeps)

        st = self.physics.state
        qpos, qvel = st[:, self._qpos], st[:, self._qvel]
        quat = qpos[:, 3:7]
        projected_gravity = gravity_in_body(quat)
        lin_vel_body = quat_rotate_inverse(quat, qvel[:, 0:3])
        ang_vel_body = qvel[:, 3:6]
        joint_pos = qpos[:, JOINTS_Q]
        to_target = self.target - qpos[:, 0:2]
        distance = np.sqrt(np.sum(np.square(to_target), axis=1))
        planar_speed = np.sqrt(np.sum(np.square(qvel[:, 0:2]), axis=1))
        heading_error = wrap_angle(self.target_yaw - yaw_of(quat))

        # Feet: touchdowns and swing times (legged_gym's filtered contact).
        contact = sensors[:, robot.SENSOR_FOOT_CONTACT] > 0
        contact_filt = contact | self.last_contact
        first_contact = (self.air_time > 0) & contact_filt
        self.air_time += self.control_dt
        air_time_at_touchdown = self.air_time * first_contact
        self.air_time *= ~contact_filt
        self.last_contact = contact

        # Termination: trunk on the ground, tilt, blow-up, off the arena.
        finite = np.isfinite(st).all(axis=1)
        fell = (
            (sensors[:, robot.SENSOR_TRUNK_CONTACT][:, 0] > 0)
            | (-projected_gravity[:, 2] < self._cos_max_tilt)
            | ~finite
            | (np.abs(qvel[:, JOINTS_V]).max(axis=1) > c.max_joint_speed)
            | ~self.terrain.inside(qpos[:, 0], qpos[:, 1])
        )
        just_arrived = (distance < c.reach_radius) & ~self.reached & ~fell
        self.time_to_target[just_arrived] = (self.episode_step[just_arrived] + 1) * self.control_dt
        self.reached |= just_arrived
        self.fence_reached |= (distance < c.inner_fence) & ~fell

        inputs = rewards.RewardInputs(
            dt=self.control_dt,
            distance=distance,
            prev_distance=self.prev_distance,
            planar_speed=planar_speed,
            heading_error=heading_error,
            lin_vel_body=lin_vel_body,
            ang_vel_body=ang_vel_body,
            projected_gravity=projected_gravity,
            joint_pos=joint_pos,
            joint_torque=sensors[:, robot.SENSOR_JOINT_TORQUE],
            action=action,
            prev_action=self.last_action,
            joint_lower=robot.JOINT_LOWER,
            joint_upper=robot.JOINT_UPPER,
            foot_contact=contact,
            first_contact=first_contact,
            air_time=air_time_at_touchdown,
            just_arrived=just_arrived,
            fell=fell,
            reach_radius=c.reach_radius,
        )
        reward, parts = rewards.compute(inputs, self.reward_config)
        self.last_reward_parts = parts  # per-env scaled terms of this step, {name: [N]} (the reward audit reads it)
        reward = np.nan_to_num(reward, nan=0.0, posinf=0.0, neginf=0.0)
        self.last_action = action
        self.prev_distance = distance
        self.episode_step += 1
        self.episode_return += reward

        truncated = (self.episode_step >= self.max_episode_steps) & ~fell
        terminated = fell
        done = terminated | truncated

        obs = self._obs  # filled from what this step already computed
        self._fill_obs(obs, qpos, qvel, quat, projected_gravity, lin_vel_body, ang_vel_body, distance,
                       heading_error, self.target, self.last_action, self.reached)
        final_obs = obs.copy()
        info: dict[str, Any] = {
            "final_obs": final_obs,
            "reward_terms": {k: float(v.mean()) for k, v in parts.items()},
            "metrics": {"distance_to_target": float(distance.mean())},
            "episode": self._episode_stats(done, fell, truncated, distance),
        }
        if done.any():
            rows = np.flatnonzero(done)
            self._reset_rows(rows)
            obs = self._observe_rows(rows, obs)
        return obs.copy(), reward.astype(np.float32), terminated, truncated, info

    def get_state(self) -> dict[str, Any]:
        """Everything that shapes future steps, as numpy arrays and plain types (see the contract)."""
        return {
            "physics": self.physics.state.copy(),
            "target": self.target.copy(),
            "target_yaw": self.target_yaw.copy(),
            "filtered_action": self.filtered_action.copy(),
            "last_action": self.last_action.copy(),
            "prev_distance": self.prev_distance.copy(),
            "episode_step": self.episode_step.copy(),
            "episode_return": self.episode_return.copy(),
            "reached": self.reached.copy(),
            "fence_reached": self.fence_reached.copy(),
            "time_to_target": self.time_to_target.copy(),
            "air_time": self.air_time.copy(),
            "last_contact": self.last_contact.copy(),
            "needs_reset": self._needs_reset,
            "rng": self.rng.bit_generator.state,
            **({"randomizer": self.randomizer.get_state()} if self.randomizer is not None else {}),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore a ``get_state`` snapshot taken from an env of the same id and size."""
        physics = np.asarray(state["physics"])
        if physics.shape != self.physics.state.shape:
            raise UsageError(
                f"saved env state is for {physics.shape[0]} envs of state size {physics.shape[1]}; "
                f"this env has {self.num_envs} of size {self.physics.state.shape[1]}"
            )
        self.physics.state[:] = physics
        for name in ("target", "target_yaw", "filtered_action", "last_action", "prev_distance", "episode_step",
                     "episode_return", "reached", "fence_reached", "time_to_target", "air_time", "last_contact"):
            getattr(self, name)[:] = state[name]
        self._needs_reset = bool(state["needs_reset"])
        self.rng = np.random.default_rng()
        self.rng.bit_generator.state = state["rng"]
        if self.randomizer is not None:
            self.randomizer.set_state(state["randomizer"])
        if not self._needs_reset:
            self._observe_all()

    def joint_state(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies of every env's ``(qpos [num_envs, nq], qvel [num_envs, nv])``, MuJoCo's order."""
        st = self.physics.state
        return st[:, self._qpos].copy(), st[:, self._qvel].copy()

    def set_joint_state(self, qpos: np.ndarray, qvel: np.ndarray, rows: np.ndarray | None = None) -> None:
        """Pose envs by hand (tools such as the reward audit): ``qpos [k, nq]``, ``qvel [k, nv]`` for
        ``rows`` (a bool mask or indices; every env when None). The next ``step`` continues from there."""
        rows = slice(None) if rows is None else rows
        state_rows = self.physics.state[rows]
        state_rows[:, self._qpos] = qpos
        state_rows[:, self._qvel] = qvel
        self.physics.state[rows] = state_rows

    def close(self) -> None:
        self.physics.close()

    # ----------------------------------------------------------------- internals
    def _resolve_layout(self, layout: str) -> str:
        has_course = getattr(self.terrain, "course", None) is not None
        if layout == "auto":
            return "course" if has_course else "random"
        if layout == "course" and not has_course:
            raise UsageError(f"env.spawn.layout 'course' needs a terrain section; {self.env_id} has no course")
        if layout in ("competition", "random") and has_course:
            raise UsageError(f"env.spawn.layout {layout!r} is for the flat arena; {self.env_id} spawns along "
                             "its course (layout 'course' or 'auto')")
        return layout

    def _reset_rows(self, rows: np.ndarray) -> None:
        """Start new episodes in ``rows``: spawn pose, target, filters, counters."""
        k = len(rows)
        if k == 0:
            return
        s, rng = self.config.spawn, self.rng
        if self.layout == "course":
            checkpoints = self.terrain.course
            last = len(checkpoints) - 1
            first = rng.integers(0, last, k)
            goal = first + 1 + rng.integers(0, last - first)  # a later checkpoint, uniformly
            spawn = checkpoints[first].copy()
            target = checkpoints[goal].copy()
            spawn[:, 1] += rng.uniform(-s.course_jitter, s.course_jitter, k)
            target[:, 1] += rng.uniform(-s.course_jitter, s.course_jitter, k)
        elif self.layout == "competition":
            angle = rng.uniform(-math.pi, math.pi, k)
            radius = rng.uniform(*s.ring_radius, k)
            target = np.zeros((k, 2))
            spawn = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
        else:
            area = s.target_area_radius * np.sqrt(rng.uniform(0, 1, k))
            area_angle = rng.uniform(-math.pi, math.pi, k)
            target = np.stack([area * np.cos(area_angle), area * np.sin(area_angle)], axis=1)
            dist = rng.uniform(*s.target_distance, k)
            angle = rng.uniform(-math.pi, math.pi, k)
            spawn = target + np.stack([dist * np.cos(angle), dist * np.sin(angle)], axis=1)
        # Face the target, then turn away by the sampled bearing.
        to_target = target - spawn
        yaw = np.arctan2(to_target[:, 1], to_target[:, 0]) - rng.uniform(*s.target_bearing, k)

        qpos = self.physics.state[rows][:, self._qpos]
        qpos[:, 0:2] = spawn
        qpos[:, 2] = robot.SPAWN_HEIGHT + self.terrain.height(spawn[:, 0], spawn[:, 1])
        qpos[:, 3:7] = yaw_quat(yaw)
        qpos[:, JOINTS_Q] = robot.DEFAULT_POSE + rng.uniform(-s.joint_noise, s.joint_noise, (k, 12))
        qpos[:, JOINTS_Q] = np.clip(qpos[:, JOINTS_Q], robot.JOINT_LOWER, robot.JOINT_UPPER)
        state_rows = self.physics.state[rows]
        state_rows[:, self._qpos] = qpos
        state_rows[:, self._qvel] = 0.0
        # Bodies the terrain adds (rolling balls) follow the robot's coordinates.
        body_qpos, body_qvel = self.terrain.reset_bodies(k, rng)
        if body_qpos.shape[1]:
            q0, v0 = self._qpos.start + JOINTS_Q.stop, self._qvel.start + JOINTS_V.stop
            state_rows[:, q0:q0 + body_qpos.shape[1]] = body_qpos
            state_rows[:, v0:v0 + body_qvel.shape[1]] = body_qvel
        state_rows[:, 0] = 0.0  # time
        self.physics.state[rows] = state_rows

        self.target[rows] = target
        self.target_yaw[rows] = rng.uniform(*s.target_yaw, k)
        self.filtered_action[rows] = 0.0
        self.last_action[rows] = 0.0
        self.prev_distance[rows] = np.sqrt(np.sum(np.square(target - spawn), axis=1))
        self.episode_step[rows] = 0
        self.episode_return[rows] = 0.0
        self.reached[rows] = False
        self.fence_reached[rows] = False
        self.time_to_target[rows] = np.nan
        self.air_time[rows] = 0.0
        self.last_contact[rows] = False
        if self.randomizer is not None:
            self.randomizer.reset_rows(rows)

    def _observe_all(self) -> np.ndarray:
        """Observation of every env from the current state (after reset or set_state)."""
        return self._observe_rows(np.arange(self.num_envs), self._obs)

    def _observe_rows(self, rows: np.ndarray, obs: np.ndarray) -> np.ndarray:
        """Compute the observation rows ``rows`` from the current state into ``obs``."""
        st = self.physics.state[rows]
        qpos, qvel = st[:, self._qpos], st[:, self._qvel]
        quat = qpos[:, 3:7]
        out = np.empty((len(rows), OBS_DIM), dtype=np.float32)
        self._fill_obs(
            out, qpos, qvel, quat,
            gravity_in_body(quat),
            quat_rotate_inverse(quat, qvel[:, 0:3]),
            qvel[:, 3:6],
            np.sqrt(np.sum(np.square(self.target[rows] - qpos[:, 0:2]), axis=1)),
            wrap_angle(self.target_yaw[rows] - yaw_of(quat)),
            self.target[rows], self.last_action[rows], self.reached[rows],
        )
        obs[rows] = out
        return obs

    def _fill_obs(self, out, qpos, qvel, quat, projected_gravity, lin_vel_body, ang_vel_body, distance,
                  heading_error, target, last_action, reached) -> None:
        o = OBS_SLICES
        yaw = yaw_of(quat)
        cos_yaw, sin_yaw = np.cos(yaw), np.sin(yaw)
        rel = target - qpos[:, 0:2]
        out[:, o["lin_vel"]] = lin_vel_body
        out[:, o["ang_vel"]] = ang_vel_body
        out[:, o["projected_gravity"]] = projected_gravity
        out[:, o["joint_pos"]] = qpos[:, JOINTS_Q] - robot.DEFAULT_POSE
        out[:, o["joint_vel"]] = qvel[:, JOINTS_V]
        out[:, o["last_action"]] = last_action
        # Target in the heading frame (yaw only: a tilted body must not swing the target around).
        out[:, o["target_pos"]] = np.stack(
            [cos_yaw * rel[:, 0] + sin_yaw * rel[:, 1], -sin_yaw * rel[:, 0] + cos_yaw * rel[:, 1]], axis=1
        )
        out[:, o["heading_error"]] = np.stack([np.sin(heading_error), np.cos(heading_error)], axis=1)
        out[:, o["distance"]] = distance[:, None]
        out[:, o["reached"]] = reached[:, None]
        out[:, o["height_scan"]] = self._height_scan(qpos[:, 0:2], cos_yaw, sin_yaw)
        noise = self.config.noise
        if noise.enabled:
            self._add_noise(out, noise)

    def _height_scan(self, xy, cos_yaw, sin_yaw) -> np.ndarray:
        px = xy[:, 0:1] + cos_yaw[:, None] * SCAN_POINTS[:, 0] - sin_yaw[:, None] * SCAN_POINTS[:, 1]
        py = xy[:, 1:2] + sin_yaw[:, None] * SCAN_POINTS[:, 0] + cos_yaw[:, None] * SCAN_POINTS[:, 1]
        return self.terrain.height(px, py) - self.terrain.height(xy[:, 0:1], xy[:, 1:2])

    def _add_noise(self, out: np.ndarray, noise: NoiseConfig) -> None:
        o = OBS_SLICES
        for name, level in (("lin_vel", noise.lin_vel), ("ang_vel", noise.ang_vel),
                            ("projected_gravity", noise.gravity), ("joint_pos", noise.joint_pos),
                            ("joint_vel", noise.joint_vel), ("height_scan", noise.height_scan)):
            width = o[name].stop - o[name].start
            out[:, o[name]] += self.rng.uniform(-1, 1, (out.shape[0], width)) * (level * noise.scale)

    def _episode_stats(self, done, fell, truncated, distance) -> dict[str, np.ndarray]:
        rows = np.flatnonzero(done)
        success = self.reached[rows] & ~fell[rows]
        points = (self.fence_reached[rows].astype(np.int64) + self.reached[rows]) * ~fell[rows]
        return {
            "return": self.episode_return[rows].copy(),
            "length": self.episode_step[rows].copy(),
            "success": success,
            "fall": fell[rows].copy(),
            "time_to_target_s": self.time_to_target[rows].copy(),
            "final_distance": distance[rows].copy(),
            "truncated": truncated[rows].copy(),
            "points": points,
        }
