"""Section 013's rolling balls: free-joint spheres launched across the ball area on a schedule.

The competition publishes the ball (sphere r 0.375 m, about 221 kg, free joint) but no launch point,
speed or path. Our choice, fixed and seeded per episode:

- ``lanes`` balls, one per lane across the ball area (y 25.83 and 26.83 by default);
- ball i is launched every ``period_s`` s, first at a random phase in [0, period) drawn at reset;
- a launch puts the ball at x = -``launch_x`` or +``launch_x`` (alternating sides, lane i starting
  on the left when i is even) on the platform, rolling toward the other side at ``speed`` m/s
  (rolling without slipping); the side walls (x +-4.5) stop it;
- before its first launch a ball waits parked far off the course (no contact with anything).

The env relaunches due balls after each control step with a row write into the physics state (no
Python loop over envs). Touching a ball is measured as the base within ``radius + touch_margin`` m
of a ball's centre.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from vbot_agent.sim.courses.geometry import GROUP_BODIES

PARK_X = 200.0  # m: parked balls rest on the plane far from everything


@dataclass(frozen=True)
class RollingBalls:
    lanes: tuple[float, ...] = (25.83, 26.83)  # y of each ball's lane (m)
    floor_z: float = 1.294  # top of the ball area (m)
    radius: float = 0.375
    mass: float = 221.0
    speed: float = 1.5  # m/s across
    period_s: float = 6.0
    launch_x: float = 4.0
    touch_margin: float = 0.3  # m, about half the robot's length

    @property
    def count(self) -> int:
        return len(self.lanes)

    def build(self, spec: mujoco.MjSpec) -> None:
        for i in range(self.count):
            body = spec.worldbody.add_body()
            body.name = f"ball{i}"
            body.pos = [PARK_X + 3.0 * i, 0.0, self.radius]
            body.add_freejoint()
            geom = body.add_geom()
            geom.name = f"ball{i}"
            geom.type = mujoco.mjtGeom.mjGEOM_SPHERE
            geom.size = [self.radius, 0, 0]
            geom.mass = self.mass
            geom.rgba = [0.9, 0.45, 0.1, 1]
            geom.group = GROUP_BODIES
            geom.condim = 6  # rolling friction: balls roll rather than slide
            geom.friction = [0.8, 0.005, 0.0002]

    def parked(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """qpos [k, 7 * count], qvel [k, 6 * count] of balls waiting off the course."""
        qpos = np.zeros((k, self.count, 7))
        qpos[:, :, 0] = PARK_X + 3.0 * np.arange(self.count)
        qpos[:, :, 2] = self.radius
        qpos[:, :, 3] = 1.0
        return qpos.reshape(k, -1), np.zeros((k, 6 * self.count))

    def draw_phases(self, k: int, rng: np.random.Generator) -> np.ndarray:
        """First launch time of each ball [k, count] (s)."""
        return rng.uniform(0.0, self.period_s, (k, self.count))

    def launches(self, time_s: np.ndarray, phases: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
        """Which balls launch during the step ending at ``time_s`` [N]: due [N, count] bool, side [N, count] (+-1)."""
        since = time_s[:, None] - phases
        launch_index = np.floor(since / self.period_s)
        due = (since >= 0) & (since - launch_index * self.period_s < dt - 1e-9)
        side = np.where((launch_index.astype(np.int64) + np.arange(self.count)) % 2 == 0, -1.0, 1.0)
        return due, side

    def launch_state(self, lane: int, side: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """qpos [k, 7], qvel [k, 6] of ball ``lane`` launched from ``side`` (-1 left, +1 right)."""
        k = len(side)
        qpos = np.zeros((k, 7))
        qpos[:, 0] = side * self.launch_x
        qpos[:, 1] = self.lanes[lane]
        qpos[:, 2] = self.floor_z + self.radius
        qpos[:, 3] = 1.0
        qvel = np.zeros((k, 6))
        qvel[:, 0] = -side * self.speed
        qvel[:, 4] = qvel[:, 0] / self.radius  # rolling without slipping along x: v_x = omega_y r
        return qpos, qvel

    def touching(self, base: np.ndarray, centres: np.ndarray) -> np.ndarray:
        """base [N, 3], ball centres [N, count, 3] -> [N] bool: within reach of any ball."""
        d2 = np.sum(np.square(centres - base[:, None, :]), axis=2)
        return (d2 < (self.radius + self.touch_margin) ** 2).any(axis=1)
