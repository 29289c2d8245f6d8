"""The navigation env's course steps: gates, balls, points and the course-only observation fields.

Kept apart from ``navigation.py`` so the flat arena's code path reads as it always did; every
function here takes the env and runs only when ``env.tracker`` is set (a course terrain).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vbot_agent.sim import robot
from vbot_agent.sim.courses.progress import STAGNATION_STEPS
from vbot_agent.sim.courses.scoring import CELEBRATION_S
from vbot_agent.sim.observation import height_scan, to_heading_frame

STAGNATION_S_PER_WINDOW = STAGNATION_STEPS * 0.01  # s per stagnation window (100 Hz control)
ROBOT_NQ = 7 + robot.NUM_JOINTS  # the robot's qpos come first; the balls' follow
# Extra sensors of course models, after the asset's own 17: per-foot net contact force (world frame)
# and position, for the stumble and clearance terms.
SENSOR_FOOT_FORCE = slice(17, 29)
SENSOR_FOOT_POS = slice(29, 41)
# Spawn on the highest ground under the robot's footprint (m, half length and width): a spawn on
# a stair edge must not put a foot inside the next step.
FOOTPRINT = np.array([[0.25, 0.15], [0.25, -0.15], [-0.25, 0.15], [-0.25, -0.15], [0.0, 0.0]])


def add_foot_sensors(spec) -> None:
    """Append the course models' foot sensors (``SENSOR_FOOT_FORCE``, ``SENSOR_FOOT_POS``) to ``spec``."""
    import mujoco

    for kind, suffix in ((mujoco.mjtSensor.mjSENS_CONTACT, "force"), (mujoco.mjtSensor.mjSENS_FRAMEPOS, "pos")):
        for leg in robot.LEGS:
            sensor = spec.add_sensor()
            sensor.name = f"{leg}_foot_{suffix}"
            sensor.type = kind
            sensor.objtype = mujoco.mjtObj.mjOBJ_GEOM
            sensor.objname = f"{leg}_foot"
            if suffix == "force":
                sensor.intprm = [2, 3, 1]  # data="force", reduce="netforce", num=1


def spawn_ground(terrain, xy: np.ndarray) -> np.ndarray:
    """Highest ground (m) [k] under the footprint around each spawn point [k, 2] (any yaw)."""
    pts = xy[:, None, :] + FOOTPRINT[None, :, :]
    return terrain.height(pts[..., 0], pts[..., 1]).max(axis=1)


def before_reward(env, sensors: np.ndarray, qpos: np.ndarray, qvel: np.ndarray, distance: np.ndarray,
                  planar_speed: np.ndarray, projected_gravity: np.ndarray, contact: np.ndarray,
                  fell: np.ndarray) -> dict[str, Any]:
    """Gates, points and stagnation of this step; returns the course fields of ``RewardInputs``
    plus ``passed`` [N] (gates passed, applied by ``after_reward``)."""
    tr = env.tracker
    xy = qpos[:, 0:2]
    ground = env.terrain.height(qpos[:, 0], qpos[:, 1])
    passed = tr.passed_gates(distance, fell)
    gained = np.zeros(env.num_envs)
    if tr.scorer is not None:
        touching = (tr.balls.touching(qpos[:, 0:3], tr.ball_centres(qpos, ROBOT_NQ)) if tr.balls is not None
                    else np.zeros(env.num_envs, dtype=bool))
        time_s = (env.episode_step + 1) * env.control_dt
        gained = tr.scorer.update(qpos[:, 0:3], -projected_gravity[:, 2], planar_speed, ground, fell, touching,
                                  time_s, env.control_dt)
    finished = env.reached | (distance < env.config.reach_radius) & (tr.gate_index == tr.num_gates - 1)
    stalled = tr.stagnation(env.episode_step, xy, finished).astype(np.float64)
    # A fall is charged the stagnation of the rest of the episode, as if the robot stood still until
    # the end: otherwise falling at once would cost less than standing (die early).
    left_s = (env.max_episode_steps - env.episode_step - 1) * env.control_dt
    stalled += np.where(fell & ~finished, np.maximum(left_s, 0.0) / STAGNATION_S_PER_WINDOW, 0.0)
    feet = sensors[:, SENSOR_FOOT_POS].reshape(-1, 4, 3)
    foot_ground = env.terrain.height(feet[:, :, 0], feet[:, :, 1])
    return {
        "waypoint_passed": passed,
        "points_gained": gained,
        "foot_height": feet[:, :, 2] - foot_ground - 0.021,  # minus the foot sphere's radius (m)
        "foot_force": sensors[:, SENSOR_FOOT_FORCE].reshape(-1, 4, 3),
        "stalled": stalled,
        "_ground": ground,
    }


def after_reward(env, passed: np.ndarray, qpos: np.ndarray, distance: np.ndarray) -> np.ndarray:
    """Move passed envs to their next gate; returns the distance [N] to the (new) targets."""
    if not passed.any():
        return distance
    tr = env.tracker
    tr.advance(passed)
    env.target[:] = tr.current_target()
    return np.where(passed, np.linalg.norm(env.target - qpos[:, 0:2], axis=1), distance)


def fill_course_obs(env, out: np.ndarray, rows: np.ndarray | None, qpos: np.ndarray, cos_yaw: np.ndarray,
                    sin_yaw: np.ndarray, contact: np.ndarray) -> None:
    """The COURSE layout's extra fields of ``rows`` (all envs when None)."""
    o = env.obs_layout.slices
    tr = env.tracker
    sel = slice(None) if rows is None else rows
    xy = qpos[:, 0:2]
    nxt = tr.next_gates()[sel] - xy[:, None, :]
    out[:, o["next_gates"]] = to_heading_frame(nxt, cos_yaw, sin_yaw).reshape(len(xy), 4)
    out[:, o["foot_contact"]] = contact
    out[:, o["base_height"]] = (qpos[:, 2] - env.terrain.height(qpos[:, 0], qpos[:, 1]))[:, None]
    sit = tr.scorer.sit_time[sel] if tr.scorer is not None else np.zeros(len(xy))
    out[:, o["celebration"]] = np.minimum(sit / CELEBRATION_S, 1.0)[:, None]
    out[:, o["height_scan"]] = height_scan(env.terrain, env.obs_layout.scan, xy, cos_yaw, sin_yaw)


def episode_points(env, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Points of the episodes ending in ``rows``: total, per item and section, and the course time."""
    tr = env.tracker
    if tr.scorer is None:  # the training terrain: no competition items
        return {"points": np.zeros(len(rows))}
    pts = tr.scorer.points(rows)
    out = {"points": pts.pop("total"), "course_time_s": tr.scorer.finish_time[rows].copy(),
           "points_max": np.full(len(rows), float(sum(rule.max_points for rule in tr.scorer.sections)))}
    out.update({f"points/{k}": v for k, v in pts.items()})
    return out


def level_stats(env) -> dict[str, float]:
    """Training-terrain metrics: mean level and the share of robots at the top level."""
    tr = env.tracker
    if tr is None or not tr.training:
        return {}
    from vbot_agent.sim.courses.training import NUM_LEVELS

    return {"terrain_level": float(tr.level.mean()), "terrain_top_share": float((tr.level == NUM_LEVELS - 1).mean())}


__all__ = ["add_foot_sensors", "after_reward", "before_reward", "episode_points", "fill_course_obs", "level_stats", "spawn_ground"]
