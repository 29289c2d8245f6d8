#!/usr/bin/env python
"""Play an exported VBot policy in plain MuJoCo: mujoco + numpy + onnxruntime, no torch, no vbot_agent.

    vbot export --policy best --onnx out/policy.onnx   # writes policy.json, .scene.xml, .episodes.json
    python out/onnx_player.py out/policy.json [--episodes N] [--json]

``vbot export`` copies this file beside the policy; it imports nothing of vbot_agent, so the folder
can travel on its own.

Everything comes from the files ``vbot export`` wrote: the sidecar (``policy.json``) says how to
build the observation and what to do with the action; the scene XML is the nominal MuJoCo world;
the episodes file holds the start states and targets of ``vbot play --seed S --episodes N``, taken
from the trainer's own reset. So this is a sim-to-sim check: a second, independent implementation
of the observation, the action filter and the episode rules, on the same physics. Its success rate
should match ``vbot play``'s on the same seed within noise.

The height scan is measured by casting rays down onto the scene's static, colliding geoms
(``mj_ray``), as a robot's sensor would, rather than from the trainer's terrain formulas.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import mujoco
import numpy as np
import onnxruntime as ort

RAY_GROUP = 5  # the geom group the ground geoms are moved into, so rays see only them
RAY_START_HEIGHT_M = 20.0
# The observation blocks this player computes (the flat arena's layout, vbot_navigation_section001).
FLAT_BLOCKS = {"lin_vel", "ang_vel", "projected_gravity", "joint_pos", "joint_vel", "last_action", "target_pos",
               "heading_error", "distance", "reached", "height_scan"}


class Player:
    """One robot in one MjData, driven by the ONNX policy, following the sidecar."""

    def __init__(self, sidecar_path: Path) -> None:
        self.sidecar = json.loads(sidecar_path.read_text())
        folder = sidecar_path.parent
        files = self.sidecar["files"]
        self.model = mujoco.MjModel.from_xml_path(str(folder / files["scene"]))
        self.data = mujoco.MjData(self.model)
        mujoco.mj_forward(self.model, self.data)  # world geom poses, which the height-scan rays hit
        self.session = ort.InferenceSession(str(folder / files["onnx"]), providers=["CPUExecutionProvider"])
        self.episodes = json.loads((folder / files["episodes"]).read_text())["episodes"]

        sc = self.sidecar
        self.input_name, self.output_name = sc["onnx"]["input"], sc["onnx"]["output"]
        self.layout = {block["name"]: slice(block["offset"], block["offset"] + block["size"])
                       for block in sc["observation"]["layout"]}
        unknown = sorted(set(self.layout) - FLAT_BLOCKS)
        if unknown:  # the obstacle courses' layout (gates, foot contacts, ...): not computed here
            raise SystemExit(f"{sidecar_path}: this player computes the flat arena's observation only; the "
                             f"blocks {', '.join(unknown)} of {sc['env_id']} are not implemented")
        self.obs_dim = sc["observation"]["dim"]
        self.scan_points = np.asarray(sc["observation"]["scan_points_m"])
        action = sc["action"]
        self.alpha, self.action_scale = action["filter"]["alpha"], action["scale_rad"]
        self.clip_low, self.clip_high = action["clip"]
        robot = sc["robot"]
        self.default_pose = np.asarray(robot["default_joint_pos_rad"])
        self.joint_q = np.array([self.model.jnt_qposadr[self.model.joint(n).id] for n in action["order"]])
        self.joint_v = np.array([self.model.jnt_dofadr[self.model.joint(n).id] for n in action["order"]])
        self.actuators = np.array([self.model.actuator(n).id for n in robot["actuator_names"]])
        self.substeps = sc["control"]["physics_steps_per_control"]
        self.dt = sc["control"]["dt_s"]
        task = sc["task"]
        self.reach_radius, self.inner_fence = task["reach_radius_m"], task["inner_fence_m"]
        self.max_steps = task["max_episode_steps"]
        fall = task["fall"]
        self.cos_max_tilt = math.cos(math.radians(fall["max_tilt_deg"]))
        self.max_joint_speed = fall["max_joint_speed_rad_s"]
        self.arena = fall["arena"]
        sensor = self.model.sensor(fall["trunk_contact_sensor"])
        self.trunk_contact = self.model.sensor_adr[sensor.id]
        # Ground for the height scan: world-body geoms that collide (not the visual markings).
        ground = (self.model.geom_bodyid == 0) & ((self.model.geom_contype | self.model.geom_conaffinity) != 0)
        self.model.geom_group[ground] = RAY_GROUP
        self.ray_groups = np.zeros(6, dtype=np.uint8)
        self.ray_groups[RAY_GROUP] = 1
        self._geom_id = np.zeros(1, dtype=np.int32)

    # ------------------------------------------------------------------ episode
    def run_episode(self, start: dict, record: bool = False) -> dict:
        """Run one episode from ``start`` (qpos, qvel, target_xy, target_yaw). Returns its outcome
        (success, fall, length, time_to_target_s, final_distance_m, points) and, with ``record``,
        the observations it fed the policy [steps, obs_dim]."""
        m, d = self.model, self.data
        mujoco.mj_resetData(m, d)
        d.qpos[:] = start["qpos"]
        d.qvel[:] = start["qvel"]
        mujoco.mj_forward(m, d)
        target, target_yaw = np.asarray(start["target_xy"]), float(start["target_yaw"])
        filtered = np.zeros(len(self.actuators))
        last_action = np.zeros(len(self.actuators))
        reached = fence = fell = False
        time_to_target = math.nan
        observations = []
        obs = self.observe(target, target_yaw, last_action, reached)
        step = 0
        while step < self.max_steps and not fell:
            if record:
                observations.append(obs)
            raw = self.session.run([self.output_name], {self.input_name: obs[None]})[0][0].astype(np.float64)
            action = np.clip(np.nan_to_num(raw, nan=0.0), self.clip_low, self.clip_high)
            filtered = self.alpha * action + (1.0 - self.alpha) * filtered
            d.ctrl[self.actuators] = self.default_pose + self.action_scale * filtered
            d.qacc_warmstart[:] = 0.0  # as the trainer's stepping does at every control step
            for _ in range(self.substeps):
                mujoco.mj_step(m, d)
            distance = float(np.hypot(*(target - d.qpos[0:2])))
            fell = self.fell()
            if distance < self.reach_radius and not reached and not fell:
                reached, time_to_target = True, (step + 1) * self.dt
            fence |= distance < self.inner_fence and not fell
            last_action = action
            step += 1
            obs = self.observe(target, target_yaw, last_action, reached)
        outcome = {"success": reached and not fell, "fall": fell, "length": step, "time_to_target_s": time_to_target,
                   "final_distance_m": distance, "points": 0 if fell else int(fence) + int(reached)}
        if record:
            outcome["observations"] = np.asarray(observations, dtype=np.float32)
        return outcome

    def fell(self) -> bool:
        """Trunk on the ground, tilted past the limit, blown up, or off the arena (the sidecar's rules)."""
        d = self.data
        if not (np.isfinite(d.qpos).all() and np.isfinite(d.qvel).all()):
            return True
        up_z = -self.projected_gravity()[2]
        x, y = d.qpos[0], d.qpos[1]
        if self.arena["shape"] == "disc":
            inside = x * x + y * y <= self.arena["radius_m"] ** 2
        else:
            x0, x1 = self.arena["x_range_m"]
            inside = x0 <= x <= x1 and abs(y) <= self.arena["y_half_width_m"]
        return bool(d.sensordata[self.trunk_contact] > 0 or up_z < self.cos_max_tilt or not inside
                    or np.abs(d.qvel[self.joint_v]).max() > self.max_joint_speed)

    # ------------------------------------------------------------------ observation
    def projected_gravity(self) -> np.ndarray:
        return self.to_body(np.array([0.0, 0.0, -1.0]))

    def to_body(self, world_vec: np.ndarray) -> np.ndarray:
        """World vector -> base frame (rotate by the inverse of the base quaternion)."""
        inverse = np.empty(4)
        mujoco.mju_negQuat(inverse, self.data.qpos[3:7])
        out = np.empty(3)
        mujoco.mju_rotVecQuat(out, world_vec, inverse)
        return out

    def observe(self, target: np.ndarray, target_yaw: float, last_action: np.ndarray, reached: bool) -> np.ndarray:
        """The observation vector, block by block as the sidecar's layout says [obs_dim] float32."""
        d, o = self.data, self.layout
        w, x, y, z = d.qpos[3:7]
        yaw = math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))
        cos_yaw, sin_yaw = math.cos(yaw), math.sin(yaw)
        rel = target - d.qpos[0:2]
        heading_error = math.atan2(math.sin(target_yaw - yaw), math.cos(target_yaw - yaw))
        obs = np.zeros(self.obs_dim)
        obs[o["lin_vel"]] = self.to_body(d.qvel[0:3])
        obs[o["ang_vel"]] = d.qvel[3:6]
        obs[o["projected_gravity"]] = self.projected_gravity()
        obs[o["joint_pos"]] = d.qpos[self.joint_q] - self.default_pose
        obs[o["joint_vel"]] = d.qvel[self.joint_v]
        obs[o["last_action"]] = last_action
        obs[o["target_pos"]] = [cos_yaw * rel[0] + sin_yaw * rel[1], -sin_yaw * rel[0] + cos_yaw * rel[1]]
        obs[o["heading_error"]] = [math.sin(heading_error), math.cos(heading_error)]
        obs[o["distance"]] = math.hypot(rel[0], rel[1])
        obs[o["reached"]] = float(reached)
        px = d.qpos[0] + cos_yaw * self.scan_points[:, 0] - sin_yaw * self.scan_points[:, 1]
        py = d.qpos[1] + sin_yaw * self.scan_points[:, 0] + cos_yaw * self.scan_points[:, 1]
        under_base = self.ground_height(d.qpos[0], d.qpos[1])
        obs[o["height_scan"]] = [self.ground_height(a, b) - under_base for a, b in zip(px, py)]
        return obs.astype(np.float32)

    def ground_height(self, x: float, y: float) -> float:
        """Height (m) of the topmost ground surface at (x, y), by a ray cast straight down."""
        start = np.array([x, y, RAY_START_HEIGHT_M])
        distance = mujoco.mj_ray(self.model, self.data, start, np.array([0.0, 0.0, -1.0]), self.ray_groups, 1, -1,
                                 self._geom_id)
        return 0.0 if distance < 0 else RAY_START_HEIGHT_M - distance


def summarize(outcomes: list[dict]) -> dict:
    """Rates and means over episodes, with the same names as ``vbot play --json``."""
    n = len(outcomes)
    times = [o["time_to_target_s"] for o in outcomes if o["success"]]
    return {
        "episodes": n,
        "success_rate": sum(o["success"] for o in outcomes) / n,
        "fall_rate": sum(o["fall"] for o in outcomes) / n,
        "mean_time_to_target_s": sum(times) / len(times) if times else None,
        "mean_final_distance_m": sum(o["final_distance_m"] for o in outcomes) / n,
        "points": sum(o["points"] for o in outcomes),
        "max_points": 2 * n,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sidecar", type=Path, help="the .json file vbot export wrote beside the .onnx")
    parser.add_argument("--episodes", type=int, default=None, help="play only the first N episode starts")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if not args.sidecar.is_file():
        print(f"onnx_player: {args.sidecar} not found", file=sys.stderr)
        return 2
    player = Player(args.sidecar)
    starts = player.episodes[: args.episodes] if args.episodes else player.episodes
    outcomes = []
    for i, start in enumerate(starts):
        outcomes.append(player.run_episode(start))
        if not args.json:
            o = outcomes[-1]
            print(f"episode {i:3d}: {'success' if o['success'] else 'fall' if o['fall'] else 'timeout'}"
                  f"  steps {o['length']}  final distance {o['final_distance_m']:.2f} m")
    summary = {"env_id": player.sidecar["env_id"], **summarize(outcomes),
               "per_episode": [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in o.items()}
                               for o in outcomes]}
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"success {summary['success_rate']:.2f}  falls {summary['fall_rate']:.2f}  "
              f"points {summary['points']}/{summary['max_points']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
