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

from vbot_agent.sim import robot
from vbot_agent.sim.mathx import wrap_angle, yaw_quat

RIGHT = "walk_and_stop"
BEHAVIOURS = (RIGHT, "stand_still", "hover_at_edge", "reach_and_farm", "sprint_and_fall", "fall_at_once")
# The exploit each wrong behaviour stands for (docs/design.md, "Failures we design against"), used in flags and by the reward library.
EXPLOITS = {
    "stand_still": "lazy_robot",
    "hover_at_edge": "hover",
    "reach_and_farm": "reach_and_farm",
    "sprint_and_fall": "sprint_and_crash",
    "fall_at_once": "die_early",
}


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
    env = make_env(env_id, len(BEHAVIOURS), seed=seed, config=nav_dict, reward=unit_reward, threads=1)
    try:
        env.reset()
        spawn, target = _geometry(env, far)
        _place_all(env, spawn, target)
        unit, info = _play(env, spawn, target, settings, JOINTS_Q)
    finally:
        env.close()
    return {
        "unit": unit,
        "info": info,
        "geometry": {
            "distance_m": round(float(np.linalg.norm(target - spawn)), 3),
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
    for row, name in enumerate(BEHAVIOURS):
        terms = {k: round(float(scale * unit[k][row]), 4) + 0.0 for k, scale in scales.items() if scale != 0.0}
        out[name] = {
            "return": round(float(sum(scale * unit[k][row] for k, scale in scales.items() if scale != 0.0)), 4),
            "terms": terms,
            **info[name],
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


def _place_all(env, spawn: np.ndarray, target: np.ndarray) -> None:
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
    qpos[:, 0:2] = spawn
    env.set_joint_state(qpos, qvel)


def _play(env, spawn, target, s: AuditSettings, joints_q: slice) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Drive every row through its behaviour for one episode; per-term totals [N] and per-row facts."""
    n, dt = env.num_envs, env.control_dt
    steps = env.max_episode_steps
    rows = {name: i for i, name in enumerate(BEHAVIOURS)}
    delta = target - spawn
    dist = float(np.linalg.norm(delta))
    direction = delta / max(dist, 1e-9)
    approach_yaw = math.atan2(direction[1], direction[0])
    target_yaw = float(env.target_yaw[0])
    r = env.config.reach_radius
    stop_at = np.array([dist, 0.0, max(0.0, dist - r - s.hover_offset), dist, dist, 0.0])
    speed = np.array([s.walk_speed, 0.0, s.walk_speed, s.walk_speed, s.sprint_speed, 0.0])
    farm_centre = max(0.0, dist - r)

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
    farm = rows["reach_and_farm"]
    for i in range(steps):
        t = i * dt
        # Position along the path at the start of this step and the velocity that carries it on.
        pos = np.minimum(speed * t, stop_at)
        vel = np.where(speed * (t + dt) <= stop_at + 1e-12, speed, np.maximum(stop_at - pos, 0.0) / dt)
        newly_stopped = np.isnan(stopped_at) & (pos >= stop_at)
        stopped_at[newly_stopped] = t
        if pos[farm] >= stop_at[farm]:  # in and out across the radius, triangle wave at walk speed
            phase = (t - stopped_at[farm]) * s.walk_speed / (2 * s.farm_amplitude)
            tri = 2 * abs(phase % 2 - 1) - 1  # 1 -> -1 -> 1
            pos[farm] = farm_centre + s.farm_amplitude * tri
            vel[farm] = s.walk_speed * (1 if (phase % 2) < 1 else -1)
        along[:] = pos
        if arrived[sprint]:
            fall_now[sprint] = True
        xy = spawn + along[:, None] * direction
        yaw = np.full(n, approach_yaw)
        turning = ~np.isnan(stopped_at) & (speed > 0)
        turning[farm] = False
        if turning.any():
            err = wrap_angle(np.array(target_yaw - approach_yaw))
            done_frac = np.clip((t - stopped_at[turning]) * s.turn_rate / max(abs(float(err)), 1e-9), 0, 1)
            yaw[turning] = approach_yaw + err * done_frac
        qpos, qvel = env.joint_state()
        qpos[:, 0:2] = xy
        qpos[:, 2] = robot.STAND_HEIGHT + env.terrain.height(xy[:, 0], xy[:, 1])
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
        env.set_joint_state(qpos[active], qvel[active], rows=active)
        env.filtered_action[:] = 0.0
        _, _, terminated, truncated, _ = env.step(np.zeros((n, env.action_dim)))
        for name, part in env.last_reward_parts.items():
            totals.setdefault(name, np.zeros(n))
            totals[name] += np.where(active, part, 0.0)
        length += active
        arrived |= active & env.reached
        ended = active & (terminated | truncated)
        fell |= active & terminated
        active &= ~ended
        if not active.any():
            break
    info = {name: {"steps": int(length[row]), "fell": bool(fell[row]), "arrived": bool(arrived[row])}
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


def _judge(behaviours: dict[str, Any], s: AuditSettings) -> list[dict[str, Any]]:
    right = behaviours[RIGHT]
    required = max(s.margin_abs, s.margin_rel * abs(right["return"]))
    flags = []
    for name, exploit in EXPLOITS.items():
        wrong = behaviours[name]
        gap = right["return"] - wrong["return"]
        reason = None
        if gap < required:
            reason = (f"{name} earns {wrong['return']:.2f}, within {required:.2f} of walk_and_stop's "
                      f"{right['return']:.2f}" if gap > 0 else
                      f"{name} earns {wrong['return']:.2f} >= walk_and_stop's {right['return']:.2f}")
        elif name == "stand_still" and right["return"] > 0 and wrong["return"] > s.stand_share * right["return"]:
            reason = (f"stand_still earns {wrong['return']:.2f}, more than {s.stand_share:.0%} of walk_and_stop's "
                      f"{right['return']:.2f}: the return pays for surviving, not for arriving")
        if reason is None:
            continue
        terms = sorted(set(wrong["terms"]) | set(right["terms"]))
        flags.append({
            "behaviour": name,
            "exploit": exploit,
            "reason": reason,
            "return": wrong["return"],
            "right_return": right["return"],
            "gap": round(gap, 4),
            "required_gap": round(required, 4),
            # Per term: what the wrong behaviour earns and what the right one earns.
            "terms": {k: {"wrong": wrong["terms"].get(k, 0.0), "right": right["terms"].get(k, 0.0)} for k in terms},
        })
    return flags


def render_audit(result: dict[str, Any]) -> str:
    """A table of behaviours x terms, then the verdict."""
    behaviours = result["behaviours"]
    terms = sorted({k for b in behaviours.values() for k in b["terms"]})
    head = f"reward audit of {result.get('config', 'the default config')} on {result['env']}"
    geo = result["geometry"]
    lines = [head, f"  target {geo['distance_m']} m away, {geo['episode_s']} s episodes, walk "
                   f"{geo['walk_speed']} m/s, sprint {geo['sprint_speed']} m/s ({result['elapsed_s']} s)", ""]
    width = max(len(n) for n in behaviours) + 2
    lines.append(f"{'behaviour':<{width}}{'return':>9}  " + "  ".join(f"{t[:11]:>11}" for t in terms))
    for name, b in behaviours.items():
        tail = " (fell)" if b["fell"] else ""
        lines.append(f"{name:<{width}}{b['return']:>9.2f}  "
                     + "  ".join(f"{b['terms'].get(t, 0.0):>11.2f}" for t in terms) + tail)
    lines.append("")
    if result["passed"]:
        lines.append("PASSED: walk_and_stop beats every wrong behaviour by a clear margin.")
    else:
        lines.append(f"FLAGGED ({len(result['flags'])}):")
        for flag in result["flags"]:
            lines.append(f"  - {flag['exploit']}: {flag['reason']}")
    return "\n".join(lines)
