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
from typing import Any

import numpy as np

from vbot_agent.errors import UsageError
from vbot_agent.sim import course_env, rewards, robot
from vbot_agent.sim import observation as obs_layouts
from vbot_agent.sim import spawn as spawn_mod
from vbot_agent.sim.env_spec import EnvSpec
from vbot_agent.sim.episode_stats import episode_stats
from vbot_agent.sim.mathx import gravity_in_body, quat_rotate_inverse, wrap_angle, yaw_of, yaw_quat
from vbot_agent.sim.nav_config import CONTROL_DT, LevelConfig, NavConfig, NoiseConfig, SpawnConfig
from vbot_agent.sim.physics import BatchedPhysics, default_threads
from vbot_agent.sim.randomization import DomainRandomizer
from vbot_agent.sim.terrain import TERRAINS, build_model

__all__ = ["CONTROL_DT", "OBS_DIM", "OBS_SLICES", "LevelConfig", "NavConfig", "NavigationEnv", "NoiseConfig",
           "SpawnConfig", "build_model"]
# section001's observation layout (the flat one); course env ids use ``observation.COURSE``.
OBS_SLICES, OBS_DIM = obs_layouts.FLAT.slices, obs_layouts.FLAT.dim
ROBOT_NQ, ROBOT_NV = 7 + robot.NUM_JOINTS, 6 + robot.NUM_JOINTS

# The robot's coordinates come first in qpos/qvel (its body is the first in the MJCF); terrain
# bodies a section adds (rolling balls) follow them.
JOINTS_Q = slice(7, 7 + robot.NUM_JOINTS)
JOINTS_V = slice(6, 6 + robot.NUM_JOINTS)


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
        self.terrain = TERRAINS[spec.terrain]()
        self.on_course = getattr(self.terrain, "course", None) is not None
        self.obs_layout = obs_layouts.COURSE if self.on_course else obs_layouts.FLAT
        self.obs_dim = self.obs_layout.dim
        self.action_dim = robot.NUM_JOINTS
        self.control_dt = CONTROL_DT
        self.max_episode_steps = round(self.config.episode_length_s / CONTROL_DT)

        self.model = build_model(spec.terrain)
        self.layout = spawn_mod.resolve_layout(self.config.spawn.layout, self.on_course, self.env_id)
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
        self._obs = np.zeros((n, self.obs_dim), dtype=np.float32)
        self.tracker = None
        if self.on_course:
            from vbot_agent.sim.courses.progress import CourseTracker

            self.tracker = CourseTracker(self.terrain, n, self.config)
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
        if self.tracker is not None and self.tracker.balls is not None:
            self.tracker.relaunch_balls(st, self._qpos.start, self._qvel.start, ROBOT_NQ, ROBOT_NV,
                                        (self.episode_step + 1) * self.control_dt, self.control_dt)

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
        course: dict[str, Any] = {}
        if self.tracker is not None:
            course = course_env.before_reward(self, sensors, qpos, qvel, distance, planar_speed, projected_gravity,
                                              contact, fell)
        just_arrived = (distance < c.reach_radius) & ~self.reached & ~fell
        if self.tracker is not None:  # only the last gate is the target proper
            just_arrived &= self.tracker.gate_index == self.tracker.num_gates - 1
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
            **{k: v for k, v in course.items() if not k.startswith("_")},
        )
        reward, parts = rewards.compute(inputs, self.reward_config)
        self.last_reward_parts = parts  # per-env scaled terms of this step, {name: [N]} (the reward audit reads it)
        reward = np.nan_to_num(reward, nan=0.0, posinf=0.0, neginf=0.0)
        self.last_action = action
        if self.tracker is not None:
            distance = course_env.after_reward(self, course["waypoint_passed"], qpos, distance)
        self.prev_distance = distance
        self.episode_step += 1
        self.episode_return += reward

        truncated = (self.episode_step >= self.max_episode_steps) & ~fell
        terminated = fell
        done = terminated | truncated

        obs = self._obs  # filled from what this step already computed
        self._fill_obs(None, obs, qpos, qvel, quat, projected_gravity, lin_vel_body, ang_vel_body, distance,
                       heading_error, self.target, self.last_action, self.reached)
        final_obs = obs.copy()
        info: dict[str, Any] = {
            "final_obs": final_obs,
            "reward_terms": {k: float(v.mean()) for k, v in parts.items()},
            "metrics": {"distance_to_target": float(distance.mean()), **course_env.level_stats(self)},
            "episode": episode_stats(self, done, fell, truncated, distance),
        }
        if done.any():
            rows = np.flatnonzero(done)
            if self.tracker is not None:
                self.tracker.end_episodes(rows, fell[rows], self.reached[rows], qpos[rows, 0:2], self.rng)
            self._reset_rows(rows)
            obs = self._observe_rows(rows, obs)
        return obs.copy(), reward.astype(np.float32), terminated, truncated, info

    # Per-env arrays a checkpoint carries (with the physics state, the RNG and the course's own).
    STATE_ARRAYS = ("target", "target_yaw", "filtered_action", "last_action", "prev_distance", "episode_step",
                    "episode_return", "reached", "fence_reached", "time_to_target", "air_time", "last_contact")

    def get_state(self) -> dict[str, Any]:
        """Everything that shapes future steps, as numpy arrays and plain types (see the contract)."""
        return {
            "physics": self.physics.state.copy(),
            **{name: getattr(self, name).copy() for name in self.STATE_ARRAYS},
            "needs_reset": self._needs_reset,
            "rng": self.rng.bit_generator.state,
            **(self.tracker.get_state() if self.tracker is not None else {}),
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
        for name in self.STATE_ARRAYS:
            getattr(self, name)[:] = state[name]
        self._needs_reset = bool(state["needs_reset"])
        if self.tracker is not None:
            self.tracker.set_state(state)
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
    def _reset_rows(self, rows: np.ndarray) -> None:
        """Start new episodes in ``rows``: spawn pose, target, filters, counters."""
        k = len(rows)
        if k == 0:
            return
        s, rng = self.config.spawn, self.rng
        if self.layout == "course":  # the course's start (or a gate) and its gates
            spawn, target = self.tracker.spawn(rows, rng)
        else:
            spawn, target = spawn_mod.arena_spawns(self.layout, s, rng, k)
        # Face the target, then turn away by the sampled bearing.
        to_target = target - spawn
        yaw = np.arctan2(to_target[:, 1], to_target[:, 0]) - rng.uniform(*s.target_bearing, k)

        qpos = self.physics.state[rows][:, self._qpos]
        qpos[:, 0:2] = spawn
        ground = (course_env.spawn_ground(self.terrain, spawn) if self.tracker is not None
                  else self.terrain.height(spawn[:, 0], spawn[:, 1]))
        qpos[:, 2] = robot.SPAWN_HEIGHT + ground
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
        self.target_yaw[rows] = rng.uniform(*s.target_yaw, k) if self.tracker is None else math.pi / 2  # courses: +y
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
        out = np.empty((len(rows), self.obs_dim), dtype=np.float32)
        self._fill_obs(rows,
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

    def _fill_obs(self, rows, out, qpos, qvel, quat, projected_gravity, lin_vel_body, ang_vel_body, distance,
                  heading_error, target, last_action, reached) -> None:
        """Observation of ``rows`` (None: every env) into ``out`` in this env's layout."""
        o = self.obs_layout.slices
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
        if self.tracker is None:
            out[:, o["height_scan"]] = obs_layouts.height_scan(self.terrain, obs_layouts.FLAT_SCAN, qpos[:, 0:2],
                                                               cos_yaw, sin_yaw)
        else:
            contact = self.last_contact if rows is None else self.last_contact[rows]
            course_env.fill_course_obs(self, out, rows, qpos, cos_yaw, sin_yaw, contact)
        noise = self.config.noise
        if noise.enabled:
            obs_layouts.add_noise(out, self.obs_layout, noise, self.rng)
