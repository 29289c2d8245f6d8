"""What a deployer needs beside the ONNX graph: the sidecar JSON, the scene and the start states.

Written by ``vbot export`` next to ``policy.onnx``:

- ``policy.json`` (the sidecar, also embedded in the ONNX metadata under ``vbot_sidecar``):
  observation layout (name, offset, size, units, scale), action order, clip, filter and scale,
  default joint pose, kp/kd and torque limits, control rate, physics step, joint names, the env
  id, the checkpoint and the sha256 of its training config, the task's success rules.
- ``policy.scene.xml``: the nominal MuJoCo scene (robot + terrain) the policy was trained in.
- ``policy.episodes.json``: the start states and targets of ``vbot play --seed S --episodes N``,
  taken from the env's own reset, so a player elsewhere runs exactly the same episodes.

No torch here; mujoco and numpy only.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

SIDECAR_FORMAT = "vbot-policy/1"
EPISODES_FORMAT = "vbot-episodes/1"

# Units and meaning of each observation block (names as in sim.observation's FLAT and COURSE layouts).
OBS_UNITS: dict[str, tuple[str, str]] = {
    "lin_vel": ("m/s", "base linear velocity in the body frame"),
    "ang_vel": ("rad/s", "base angular velocity in the body frame (free joint qvel[3:6])"),
    "projected_gravity": ("1", "unit gravity vector (0, 0, -1) in the body frame"),
    "joint_pos": ("rad", "joint positions minus default_joint_pos, in joint_names order"),
    "joint_vel": ("rad/s", "joint velocities, in joint_names order"),
    "last_action": ("1", "the previous action after the clip to [-1, 1] (before latency or filter)"),
    "target_pos": ("m", "target minus base position, rotated into the heading (yaw-only) frame"),
    "heading_error": ("1", "sin, cos of wrap(target_yaw - base yaw)"),
    "distance": ("m", "planar distance from base to target"),
    "reached": ("1", "1 once the base came within reach_radius of the target this episode, else 0"),
    "height_scan": ("m", "ground height at scan_points (heading frame, x forward) minus ground height under the base"),
    "next_gates": ("m", "the two gates after the current one minus base position, heading frame"),
    "foot_contact": ("1", "1 where a foot touches the ground, FR FL RR RL"),
    "base_height": ("m", "base height above the ground under it"),
    "celebration": ("1", "seconds sat on a platform so far over the seconds the celebration needs"),
}


def config_sha256(config: dict[str, Any]) -> str:
    """sha256 of a training config as canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def build_scene_spec(terrain_name: str):
    """The MjSpec of VBot plus a terrain: the scene ``NavigationEnv`` compiles (tests compare them)."""
    import mujoco

    from vbot_agent.sim import robot
    from vbot_agent.sim.terrain import TERRAINS

    spec = mujoco.MjSpec.from_file(str(robot.ASSET))
    TERRAINS[terrain_name]().build(spec)
    return spec


def arena_of(terrain) -> dict[str, Any]:
    """Where the robot must stay (leaving it ends the episode as a fall)."""
    if hasattr(terrain, "radius"):
        return {"shape": "disc", "radius_m": float(terrain.radius)}
    if hasattr(terrain, "x_range"):
        from vbot_agent.sim.terrain import LANE_HALF_WIDTH

        return {"shape": "lane", "x_range_m": list(map(float, terrain.x_range)),
                "y_half_width_m": float(LANE_HALF_WIDTH)}
    raise ValueError(f"terrain {type(terrain).__name__} has no arena description")


def build_sidecar(data: dict[str, Any], *, checkpoint_path: Path, onnx_name: str, scene_name: str,
                  episodes_name: str) -> dict[str, Any]:
    """The sidecar dict of a loaded checkpoint (``data`` as from ``load_checkpoint``)."""
    import mujoco

    from vbot_agent.config import from_mapping
    from vbot_agent.sim import navigation as nav
    from vbot_agent.sim import observation as obs_layouts
    from vbot_agent.sim import robot
    from vbot_agent.sim.registry import get_spec, is_course
    from vbot_agent.sim.terrain import TERRAINS

    env_id = data["env_id"]
    spec = get_spec(env_id)
    cfg = from_mapping(nav.NavConfig, data["config"]["env"], where="env")
    model = build_scene_spec(spec.terrain).compile()
    joints = list(robot.JOINT_NAMES)
    actuators = [mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_ACTUATOR, i) for i in range(model.nu)]
    joint_of_actuator = [mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_JOINT, model.actuator_trnid[i, 0])
                         for i in range(model.nu)]
    if joint_of_actuator != joints:
        raise ValueError(f"actuator order {joint_of_actuator} differs from the joint order {joints}")
    layout, offset = [], 0
    obs_layout = obs_layouts.COURSE if is_course(env_id) else obs_layouts.FLAT
    for name, size in obs_layout.fields:
        units, meaning = OBS_UNITS[name]
        layout.append({"name": name, "offset": offset, "size": size, "units": units, "scale": 1.0,
                       "description": meaning})
        offset += size
    substeps = max(1, round(nav.CONTROL_DT / model.opt.timestep))
    return {
        "format": SIDECAR_FORMAT,
        "env_id": env_id,
        "config_sha256": config_sha256(data["config"]),
        "checkpoint": {"path": str(checkpoint_path), "iteration": int(data["iteration"]),
                       "env_steps": int(data["env_steps"])},
        "files": {"onnx": onnx_name, "scene": scene_name, "episodes": episodes_name},
        "onnx": {"input": "obs", "output": "actions", "dtype": "float32",
                 "normalizer": "folded into the graph: feed raw observations in the units below",
                 "output_meaning": "mean action (deterministic); clip to [-1, 1] before use"},
        "control": {"rate_hz": round(1.0 / nav.CONTROL_DT), "dt_s": nav.CONTROL_DT,
                    "physics_timestep_s": float(model.opt.timestep), "physics_steps_per_control": substeps,
                    "solver_warmstart": "zeroed before every control step (mujoco.rollout without initial_warmstart)"},
        "observation": {"dim": offset, "layout": layout, "scan_points_m": obs_layout.scan.tolist(),
                        "training_noise": _plain(cfg.noise)},
        "action": {
            "dim": len(joints), "order": joints, "clip": [-1.0, 1.0],
            "filter": {"type": "exponential", "alpha": cfg.action_smoothing,
                       "formula": "f = alpha * a + (1 - alpha) * f_prev; f = 0 at episode start"},
            "scale_rad": cfg.action_scale,
            "target": "q_target = default_joint_pos + scale_rad * f (the position actuators' ctrl)",
        },
        "robot": {
            "joint_names": joints, "actuator_names": actuators,
            "default_joint_pos_rad": robot.DEFAULT_POSE.tolist(),
            "kp_nm_per_rad": model.actuator_gainprm[:, 0].tolist(),
            "kd_nm_s_per_rad": (-model.actuator_biasprm[:, 2]).tolist(),
            "torque_limits_nm": model.actuator_forcerange[:, 1].tolist(),
            "joint_lower_rad": robot.JOINT_LOWER.tolist(), "joint_upper_rad": robot.JOINT_UPPER.tolist(),
            "pd_law": "tau = clip(kp (q_target - q) - kd qdot, -limit, limit), at physics rate",
            "mass_kg": float(model.body_mass[model.body_rootid == model.body("base").id].sum()),
            "spawn_height_m": robot.SPAWN_HEIGHT,
        },
        "task": {
            "reach_radius_m": cfg.reach_radius, "inner_fence_m": cfg.inner_fence,
            "episode_length_s": cfg.episode_length_s, "max_episode_steps": round(cfg.episode_length_s / nav.CONTROL_DT),
            "fall": {"trunk_contact_sensor": "trunk_contact", "max_tilt_deg": cfg.max_tilt_deg,
                     "max_joint_speed_rad_s": cfg.max_joint_speed, "arena": arena_of(TERRAINS[spec.terrain]())},
            "success": "the base came within reach_radius of the target and the robot did not fall",
            "points": "per robot: +1 within inner_fence, +1 within reach_radius (ever, this episode); 0 after a fall",
        },
        "training_randomization": _plain(cfg.randomization),
    }


def episode_starts(data: dict[str, Any], episodes: int, seed: int) -> dict[str, Any]:
    """Start states and targets of ``vbot play --seed seed --episodes episodes`` (one env each).

    The env is built from the checkpoint's env options with randomisation and noise off (the
    nominal scene the exported XML describes); spawns do not depend on either.
    """
    from vbot_agent.sim.registry import make_env

    env_options = dict(data["config"]["env"])
    env_options["randomization"] = {**env_options.get("randomization", {}), "enabled": False}
    env_options["noise"] = {**env_options.get("noise", {}), "enabled": False}
    env = make_env(data["env_id"], episodes, seed=seed, config=env_options, reward=data["config"]["reward"],
                   threads=1)
    try:
        env.reset(seed=seed)
        state = env.physics.state
        qpos, qvel = state[:, env.physics.layout.qpos], state[:, env.physics.layout.qvel]
        rows = [{"qpos": qpos[i].tolist(), "qvel": qvel[i].tolist(), "target_xy": env.target[i].tolist(),
                 "target_yaw": float(env.target_yaw[i])} for i in range(episodes)]
    finally:
        env.close()
    return {"format": EPISODES_FORMAT, "env_id": data["env_id"], "seed": seed, "episodes": rows}


def _plain(obj: Any) -> Any:
    from vbot_agent.config import to_dict

    value = to_dict(obj)
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in value.items()}


def onnx_metadata(sidecar: dict[str, Any]) -> dict[str, str]:
    """The ONNX metadata_props: the whole sidecar, and a few keys readable at a glance."""
    return {"vbot_sidecar": json.dumps(sidecar), "env_id": sidecar["env_id"],
            "config_sha256": sidecar["config_sha256"], "joint_names": ",".join(sidecar["robot"]["joint_names"]),
            "control_rate_hz": str(sidecar["control"]["rate_hz"])}


def observation_sample(env, policy_fn, steps: int) -> np.ndarray:
    """Observations [steps * N, O] recorded while ``policy_fn`` drives ``env`` (for export checks)."""
    obs = env.reset()
    recorded = []
    for _ in range(steps):
        recorded.append(obs.copy())
        obs, *_ = env.step(policy_fn(obs))
    return np.concatenate(recorded).astype(np.float32)
