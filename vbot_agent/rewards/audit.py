"""Reward budget audit: the episode return of reference behaviours under a reward config (docs/design.md, "Campaigns").

PPO maximises the episode return, so a reward is exploitable when some wrong behaviour earns at
least as much per episode as the right one. The audit plays each reference behaviour in the
simulator, kinematically: every control step it sets the scripted base pose and velocity with
``NavigationEnv.set_joint_state`` (legs in the default pose), steps the env, and lets the env's own reward code
compute every term. The behaviours run as the rows of one ``NavigationEnv``, all with the same spawn
and target, so one episode of stepping audits them all (~1-2 s).

Behaviours (the right one first):

- ``walk_and_stop``: walk straight to the target at ``walk_speed``, stop on it, turn to the target yaw;
- ``stand_still``: stand at the spawn the whole episode (the lazy robot);
- ``hover_at_edge``: walk up to ``hover_offset`` m outside the target radius and stop there;
- ``reach_and_farm``: walk in, then keep stepping out of and back into the target radius;
- ``sprint_and_fall``: run at ``sprint_speed`` and fall right after reaching the target (touch-and-die);
- ``fall_at_once``: fall on the first step (die-early).

Each wrong behaviour is given the benefit of the doubt (it faces the target yaw where that pays).
What the kinematic replay cannot show: gait-dependent terms (``feet_air_time``, ``torques``,
``action_rate``) are those of a robot gliding in its standing pose, ~0; a learned gait pays some
of them, which only widens the gap between standing and walking.

Verdict: a wrong behaviour is flagged when its return is within ``max(margin_abs, margin_rel *
|right|)`` of the right one (or above it): PPO will not reliably prefer a behaviour that wins by a
hair. ``stand_still`` is also flagged when it earns more than ``stand_share`` of what walking earns:
most of the return is then paid for surviving, and a learner that falls while trying to walk is
pushed to stand (the lazy robot of docs/design.md, "Failures we design against").
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from vbot_agent.rewards.audit_behaviours import BEHAVIOURS, COURSE_BEHAVIOURS, EXPLOITS, RIGHT, course_path
from vbot_agent.rewards.audit_report import _judge, render_audit
from vbot_agent.sim import robot
from vbot_agent.sim.course_env import spawn_ground
from vbot_agent.sim.mathx import wrap_angle, yaw_quat

AFTER_STOP = "after_stop/"  # prefix of the per-term totals earned after a behaviour stopped
DT = 0.01  # s per control step (the env's)

__all__ = ["BEHAVIOURS", "COURSE_BEHAVIOURS", "EXPLOITS", "RIGHT", "audit_many", "audit_reward", "render_audit"]


@dataclass(frozen=True)
class AuditSettings:
    """How the reference behaviours move and how wide a margin the right one needs (m, m/s, s)."""

    walk_speed: float = 0.8
    sprint_speed: float = 3.0
    hover_offset: float = 0.05  # m outside the target radius
    farm_amplitude: float = 0.15  # m in and out across the target radius
    turn_rate: float = 1.5  # rad/s, turning to the target yaw once stopped
    margin_abs: float = 1.0
    margin_rel: float = 0.1
    stand_share: float = 0.5


def audit_reward(env_id: str = "vbot_navigation_section001", *, reward: Any = None, env_config: Any = None,
                 distance: float | None = None, settings: AuditSettings | None = None,
                 seed: int = 0) -> dict[str, Any]:
    """Play the reference behaviours of this module under ``reward`` and judge the config.

    ``reward`` / ``env_config``: a ``RewardConfig`` / ``NavConfig`` or YAML-style mappings (None: defaults).
    ``distance``: spawn-to-target distance (m) on the flat arena; default the far end of the config's
    spawn range. On a course, the spawn is the first checkpoint and the target the checkpoint
    nearest that distance ahead.

    Returns a JSON-serialisable dict: ``behaviours`` {name: {return, terms {term: sum}, steps, fell,
    arrived}}, ``flags`` (list of {behaviour, exploit, reason, return, right_return, gap, required_gap,
    terms}), ``passed``, ``geometry``, ``scales``, ``elapsed_s``.
    """
    return audit_many(env_id, [reward], env_config=env_config, distance=distance, settings=settings,
                      seed=seed)[0]


def audit_many(env_id: str, rewards_list: list[Any], *, env_config: Any = None, distance: float | None = None,
               settings: AuditSettings | None = None, seed: int = 0) -> list[dict[str, Any]]:
    """``audit_reward`` for several reward configs on one env, sharing the simulation.

    The behaviours are scripted, so their states do not depend on the reward: the episode is played
    once per distinct set of shaping constants (``progress_speed_cap`` ...) with every term at scale 1,
    and each config's return is the scale-weighted sum of those per-term totals (``rewards.compute``
    is linear in the scales).
    """
    from vbot_agent.config import from_mapping, to_dict
    from vbot_agent.sim import rewards
    from vbot_agent.sim.navigation import NavConfig

    settings = settings or AuditSettings()
    nav = from_mapping(NavConfig, env_config, where="env")
    from vbot_agent.sim.registry import is_course

    if is_course(env_id):  # the course terms' default scales, as the trainer resolves them
        rewards_list = [rewards.with_course_defaults(r) for r in rewards_list]
    configs = [from_mapping(rewards.RewardConfig, r, where="reward") for r in rewards_list]
    plays: dict[str, dict[str, Any]] = {}
    out = []
    for config in configs:
        started = time.perf_counter()
        shaping = {k: v for k, v in to_dict(config).items() if k != "scales"}
        key = repr(sorted(shaping.items()))
        if key not in plays:
            plays[key] = _play_episode(env_id, nav, shaping, distance, settings, seed)
        play = plays[key]
        behaviours = _weigh(play["unit"], play["info"], config.scales)
        flags = _judge(behaviours, settings)
        elapsed = time.perf_counter() - started  # ~0 when the play was shared with an earlier config
        out.append({
            "env": env_id,
            "passed": not flags,
            "flags": flags,
            "behaviours": behaviours,
            "geometry": play["geometry"],
            "scales": {k: v for k, v in config.scales.items() if v != 0.0},
            "elapsed_s": round(elapsed, 3),
        })
    return out


def _play_episode(env_id: str, nav, shaping: dict[str, Any], distance: float | None, settings: AuditSettings,
                  seed: int) -> dict[str, Any]:
    """One scripted episode of every behaviour with every term at scale 1: per-term totals per row."""
    from vbot_agent.config import to_dict
    from vbot_agent.sim import rewards
    from vbot_agent.sim.navigation import JOINTS_Q
    from vbot_agent.sim.registry import make_env

    started = time.perf_counter()
    spawn_cfg = to_dict(nav.spawn)
    spawn_cfg.update(joint_noise=0.0, target_bearing=[0.0, 0.0])
    far = distance if distance is not None else (
        nav.spawn.ring_radius[1] if nav.spawn.layout == "competition" else nav.spawn.target_distance[1])
    if nav.spawn.layout in ("random", "auto"):
        spawn_cfg["target_distance"] = [far, far]
    nav_dict = {**to_dict(nav), "spawn": spawn_cfg}
    unit_reward = {**shaping, "scales": {name: 1.0 for name in rewards.TERMS}}
    from vbot_agent.sim.registry import get_spec
    from vbot_agent.sim.terrain import TERRAINS

    on_course = getattr(TERRAINS[get_spec(env_id).terrain](), "course", None) is not None
    names = COURSE_BEHAVIOURS if on_course else BEHAVIOURS
    env = make_env(env_id, len(names), seed=seed, config=nav_dict, reward=unit_reward, threads=1)
    try:
        env.reset()
        path = course_path(env, distance, settings.walk_speed) if on_course else None
        spawn, target = (path[0], path[-1]) if path is not None else _geometry(env, far)
        _place_all(env, spawn, target, path)
        unit, info = _play(env, spawn, target, settings, JOINTS_Q, path)
    finally:
        env.close()
    return {
        "unit": unit,
        "info": info,
        "geometry": {
            "distance_m": round(float(np.linalg.norm(target - spawn) if path is None else
                                      np.linalg.norm(np.diff(path, axis=0), axis=1).sum()), 3),
            "episode_s": nav.episode_length_s,
            "walk_speed": settings.walk_speed,
            "sprint_speed": settings.sprint_speed,
            "reach_radius": nav.reach_radius,
        },
        "elapsed_s": time.perf_counter() - started,
    }


def _weigh(unit: dict[str, np.ndarray], info: dict[str, Any], scales: dict[str, float]) -> dict[str, Any]:
    """Per-behaviour returns and per-term sums under ``scales`` from the unit-scale totals."""
    out: dict[str, Any] = {}
    # Terms the env never computed here (course terms on the flat arena) are absent: they add 0.
    scales = {k: v for k, v in scales.items() if v != 0.0 and k in unit}
    seconds = {name: facts["steps"] * DT - (facts["stopped_s"] if facts["stopped_s"] is not None else facts["steps"] * DT)
               for name, facts in info.items()}
    for name, facts in info.items():
        row = facts["row"]
        terms = {k: round(float(scale * unit[k][row]), 4) + 0.0 for k, scale in scales.items()}
        out[name] = {
            "return": round(float(sum(scale * unit[k][row] for k, scale in scales.items())), 4),
            # per second once stopped (0 for a behaviour that never stops)
            "after_stop_rate": round(float(sum(scale * unit[AFTER_STOP + k][row] for k, scale in scales.items()))
                                     / max(seconds[name], DT), 4) + 0.0,
            "terms": terms,
            **{k: v for k, v in facts.items() if k != "row"},
        }
    return out


def _geometry(env, far: float) -> tuple[np.ndarray, np.ndarray]:
    """Spawn and target (m, [2] each) shared by every behaviour."""
    if env.layout == "course":
        course = env.terrain.course
        ahead = np.linalg.norm(course[1:] - course[0], axis=1)
        return course[0].copy(), course[1 + int(np.argmin(np.abs(ahead - far)))].copy()
    spawn = env.joint_state()[0][0, 0:2].copy()
    return spawn, env.target[0].copy()


def _place_all(env, spawn: np.ndarray, target: np.ndarray, path: np.ndarray | None = None) -> None:
    """Every row: the same spawn and target; terrain bodies (rolling balls) parked far away.

    The audit compares reward budgets; a ball that happens to hit one behaviour's robot would make
    the comparison a matter of luck.
    """
    import mujoco

    model = env.model
    qpos, qvel = env.joint_state()
    for j in range(model.njnt):
        adr = int(model.jnt_qposadr[j])
        if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE and adr > 0:  # adr 0 is the robot's base
            vadr = int(model.jnt_dofadr[j])
            qpos[:, adr:adr + 3] = [1000.0 + 5.0 * j, 0.0, 1.0]
            qvel[:, vadr:vadr + 6] = 0.0
    env.target[:] = target
    env.target_yaw[:] = env.target_yaw[0]
    env.prev_distance[:] = float(np.linalg.norm(target - spawn))
    if path is not None:  # a course: the path's gates, in order, for every row; no ball launches
        tr = env.tracker
        gates = path[1:]
        tr.gates[:, :len(gates)] = gates
        tr.num_gates = len(gates)
        tr.mirror_x = False  # a row that starts again keeps the path's gates
        tr.gate_index[:] = 0
        tr.ball_phase[:] = 1e9  # s: never launched within an episode
        env.target[:] = gates[0]
        env.prev_distance[:] = float(np.linalg.norm(gates[0] - spawn))
        tr.window_left[:] = tr.path_left(np.arange(env.num_envs), np.tile(spawn, (env.num_envs, 1)))
    qpos[:, 0:2] = spawn
    env.set_joint_state(qpos, qvel)


def _play(env, spawn, target, s: AuditSettings, joints_q: slice,
          path: np.ndarray | None = None) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Drive every row through its behaviour for one episode; per-term totals [N] and per-row facts.

    ``path`` [P, 2]: the polyline the behaviours follow (a course's gates); None: straight from
    ``spawn`` to ``target``.
    """
    n, dt = env.num_envs, env.control_dt
    steps = env.max_episode_steps
    names = COURSE_BEHAVIOURS if n == len(COURSE_BEHAVIOURS) else BEHAVIOURS
    rows = {name: i for i, name in enumerate(names)}
    path = np.stack([spawn, target]) if path is None else path
    seg_vec = np.diff(path, axis=0)
    seg_len = np.linalg.norm(seg_vec, axis=1)
    seg_dir = seg_vec / np.maximum(seg_len, 1e-9)[:, None]
    cum = np.concatenate([[0.0], np.cumsum(seg_len)])
    dist = float(cum[-1])
    approach_yaw = math.atan2(seg_dir[-1, 1], seg_dir[-1, 0])
    target_yaw = float(env.target_yaw[0])
    r = env.config.reach_radius
    stop_at = [dist, 0.0, max(0.0, dist - r - s.hover_offset), dist, dist, 0.0]
    speed = [s.walk_speed, 0.0, s.walk_speed, s.walk_speed, s.sprint_speed, 0.0]
    farm_radius = r
    if len(names) > len(BEHAVIOURS):  # courses: farm the first gate's edge; stop halfway (on a stair)
        farm_radius = env.terrain.gate_radius
        stop_at += [max(0.0, cum[1] - farm_radius), dist / 2]
        speed += [s.walk_speed, s.walk_speed]
    stop_at, speed = np.array(stop_at), np.array(speed)
    farm_row = rows.get("farm_waypoint", rows["reach_and_farm"])
    farm_centre = max(0.0, (cum[1] if farm_row != rows["reach_and_farm"] else dist) - farm_radius)

    active = np.ones(n, dtype=bool)
    fell = np.zeros(n, dtype=bool)
    arrived = np.zeros(n, dtype=bool)
    length = np.zeros(n, dtype=np.int64)
    totals: dict[str, np.ndarray] = {}
    along = np.zeros(n)  # m travelled along the path
    stopped_at = np.full(n, np.nan)  # s, when each behaviour stopped moving
    fall_now = np.zeros(n, dtype=bool)
    fall_now[rows["fall_at_once"]] = True
    sprint = rows["sprint_and_fall"]
    farms = [rows["reach_and_farm"]] + ([rows["farm_waypoint"]] if "farm_waypoint" in rows else [])
    farm_centres = {rows["reach_and_farm"]: max(0.0, dist - r), farm_row: farm_centre}
    for i in range(steps):
        t = i * dt
        # Position along the path at the start of this step and the velocity that carries it on.
        pos = np.minimum(speed * t, stop_at)
        vel = np.where(speed * (t + dt) <= stop_at + 1e-12, speed, np.maximum(stop_at - pos, 0.0) / dt)
        newly_stopped = np.isnan(stopped_at) & (pos >= stop_at)
        stopped_at[newly_stopped] = t
        for farm in farms:
            if pos[farm] >= stop_at[farm]:  # in and out across the radius, triangle wave at walk speed
                phase = (t - stopped_at[farm]) * s.walk_speed / (2 * s.farm_amplitude)
                tri = 2 * abs(phase % 2 - 1) - 1  # 1 -> -1 -> 1
                pos[farm] = farm_centres[farm] + s.farm_amplitude * tri
                vel[farm] = s.walk_speed * (1 if (phase % 2) < 1 else -1)
        along[:] = pos
        if arrived[sprint]:
            fall_now[sprint] = True
        seg = np.clip(np.searchsorted(cum, along, side="right") - 1, 0, len(seg_len) - 1)
        direction = seg_dir[seg]
        xy = path[seg] + (along - cum[seg])[:, None] * direction
        yaw = np.arctan2(direction[:, 1], direction[:, 0])
        turning = ~np.isnan(stopped_at) & (speed > 0)
        turning[farms] = False
        if turning.any():
            err = wrap_angle(np.array(target_yaw - approach_yaw))
            done_frac = np.clip((t - stopped_at[turning]) * s.turn_rate / max(abs(float(err)), 1e-9), 0, 1)
            yaw[turning] = approach_yaw + err * done_frac
        qpos, qvel = env.joint_state()
        qpos[:, 0:2] = xy
        # On a course, above the highest ground under the footprint: a level trunk clears the next stair.
        qpos[:, 2] = robot.STAND_HEIGHT + (spawn_ground(env.terrain, xy) if env.tracker is not None
                                           else env.terrain.height(xy[:, 0], xy[:, 1]))
        qpos[:, 3:7] = yaw_quat(yaw)
        qpos[:, joints_q] = robot.DEFAULT_POSE
        qvel[:] = 0.0
        qvel[:, 0:2] = vel[:, None] * direction
        if fall_now.any():  # on its side, 90 degrees of roll: past the tilt limit
            half = math.pi / 4
            roll = np.array([math.cos(half), math.sin(half), 0.0, 0.0])
            qpos[fall_now, 3:7] = _quat_mul(yaw_quat(yaw[fall_now]), roll)
            qpos[fall_now, 2] = 0.15 + env.terrain.height(xy[fall_now, 0], xy[fall_now, 1])
        # Rows that already ended keep their (auto-reset) state; only active rows are driven.
        env.set_joint_state(qpos[active], qvel[active], rows=np.flatnonzero(active))
        env.filtered_action[:] = 0.0
        _, _, terminated, truncated, _ = env.step(np.zeros((n, env.action_dim)))
        for name, part in env.last_reward_parts.items():
            totals.setdefault(name, np.zeros(n))
            totals[name] += np.where(active, part, 0.0)
            # What each row earns once it has stopped moving (standing on a stair must not pay).
            totals.setdefault(AFTER_STOP + name, np.zeros(n))
            totals[AFTER_STOP + name] += np.where(active & (t > stopped_at), part, 0.0)
        length += active
        arrived |= active & env.reached
        ended = active & (terminated | truncated)
        fell |= active & terminated
        active &= ~ended
        if not active.any():
            break
    info = {name: {"row": row, "steps": int(length[row]), "fell": bool(fell[row]), "arrived": bool(arrived[row]),
                   "stopped_s": round(float(stopped_at[row]), 3) if np.isfinite(stopped_at[row]) else None}
            for name, row in rows.items()}
    return totals, info


def _quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton products a * b of [N, 4] and [4] quaternions (w, x, y, z)."""
    w1, x1, y1, z1 = a[:, 0], a[:, 1], a[:, 2], a[:, 3]
    w2, x2, y2, z2 = b
    return np.stack([
        w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
        w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
        w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
        w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
    ], axis=1)
