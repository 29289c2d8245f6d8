"""Offscreen rendering of the scene to images (headless: EGL by default, ``MUJOCO_GL=osmesa`` works too).

The GL backend is chosen in ``vbot_agent/sim/__init__.py`` before mujoco is imported.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from vbot_agent.errors import VbotError
from vbot_agent.sim.courses.geometry import GROUP_MARKINGS

CHASE_DISTANCE = 2.4  # m behind the robot
CHASE_ELEVATIONS = (-18.0, -40.0, -65.0, -89.0)  # degrees: the usual view, then steeper ones over walls
CHASE_CLEARANCE = 0.4  # m: the ray that looks for walls starts this far out, clear of the robot
# geom groups the camera cannot see through: all but the see-through markings (zones, packets, gates)
SOLID_GROUPS = np.array([g != GROUP_MARKINGS for g in range(6)], dtype=np.uint8)


class SceneRenderer:
    """Draws the envs of a ``NavigationEnv`` from a chase camera, with the target marked.

    ``render(row) -> uint8 [H, W, 3]`` for env ``row``.
    """

    def __init__(self, env, width: int = 960, height: int = 720) -> None:
        import copy

        import mujoco

        self._mujoco = mujoco
        self.env = env
        # A copy whose offscreen buffer is the size asked for: the model's own 1280x960 (x4 samples)
        # buffer costs ~60 MB more memory than a 640x480 one. The env's model stays untouched.
        self.model = copy.copy(env.model)
        self.model.vis.global_.offwidth, self.model.vis.global_.offheight = width, height
        self.data = mujoco.MjData(self.model)
        try:
            self.renderer = mujoco.Renderer(self.model, height=height, width=width)
        except Exception as exc:  # GL context creation: report the backend and the fix
            raise VbotError(
                f"cannot open a headless {os.environ.get('MUJOCO_GL')} GL context ({exc}); install Mesa's EGL "
                "(apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri) or set MUJOCO_GL=osmesa with libosmesa6"
            ) from None
        self.camera = mujoco.MjvCamera()
        self.camera.type = mujoco.mjtCamera.mjCAMERA_FREE
        self.camera.distance = CHASE_DISTANCE
        self.camera.elevation = CHASE_ELEVATIONS[0]
        self.camera.azimuth = 135.0

    def render(self, row: int = 0, *, track: bool = True) -> np.ndarray:
        env = self.env
        return self.render_state(env.physics.state[row], env.target[row], env.target_yaw[row], track=track)

    def render_state(self, state: np.ndarray, target_xy: np.ndarray, target_yaw: float, *,
                     track: bool = True) -> np.ndarray:
        """Draw one robot from a saved physics state (``mjSTATE_FULLPHYSICS``, as in ``env.physics.state``
        rows) with its target at ``target_xy`` (m) facing ``target_yaw`` (rad) -> uint8 [H, W, 3].
        """
        mj = self._mujoco
        mj.mj_setState(self.model, self.data, state, mj.mjtState.mjSTATE_FULLPHYSICS)
        mj.mj_forward(self.model, self.data)
        if track:  # behind the robot, looking past it toward its target
            base = self.data.qpos[0:3]
            to_target = np.asarray(target_xy) - base[0:2]
            self.camera.lookat[:] = base
            self.camera.azimuth = float(np.degrees(np.arctan2(to_target[1], to_target[0])))
            self.camera.elevation, self.camera.distance = self._clear_view(base)
        self.renderer.update_scene(self.data, camera=self.camera)
        self._draw_target(np.asarray(target_xy), float(target_yaw))
        return self.renderer.render().copy()

    def _clear_view(self, lookat: np.ndarray) -> tuple[float, float]:
        """(elevation, distance) of a chase view that no wall or step blocks: the usual low view if
        it is clear, else the first steeper one that is, else the view that sees the most."""
        best = (CHASE_ELEVATIONS[0], 0.0)
        for elevation in CHASE_ELEVATIONS:
            az, el = np.radians(self.camera.azimuth), np.radians(elevation)
            back = -np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
            start = np.asarray(lookat, float) + CHASE_CLEARANCE * back
            geom = np.zeros(1, np.int32)
            hit = self._mujoco.mj_ray(self.model, self.data, start, back, SOLID_GROUPS, 1, -1, geom)
            if hit < 0 or CHASE_CLEARANCE + hit > CHASE_DISTANCE:
                return elevation, CHASE_DISTANCE
            if CHASE_CLEARANCE + hit - 0.1 > best[1]:
                best = (elevation, CHASE_CLEARANCE + hit - 0.1)
        return best[0], max(best[1], 0.5)

    def _draw_target(self, xy: np.ndarray, yaw: float) -> None:
        mj = self._mujoco
        scene = self.renderer.scene
        if scene.ngeom + 2 > scene.maxgeom:
            return
        pole = scene.geoms[scene.ngeom]
        mj.mjv_initGeom(pole, mj.mjtGeom.mjGEOM_CYLINDER, np.array([0.03, 0.25, 0]),
                        np.array([xy[0], xy[1], 0.25]), np.eye(3).ravel(), np.array([0.9, 0.2, 0.15, 1.0], np.float32))
        scene.ngeom += 1
        arrow = scene.geoms[scene.ngeom]
        start = np.array([xy[0], xy[1], 0.02])
        end = start + 0.45 * np.array([np.cos(yaw), np.sin(yaw), 0.0])
        mj.mjv_initGeom(arrow, mj.mjtGeom.mjGEOM_ARROW, np.zeros(3), np.zeros(3), np.zeros(9),
                        np.array([0.95, 0.8, 0.2, 1.0], np.float32))
        mj.mjv_connector(arrow, mj.mjtGeom.mjGEOM_ARROW, 0.025, start, end)
        scene.ngeom += 1

    def set_view(self, *, distance: float, elevation: float, azimuth: float, lookat=None) -> None:
        self.camera.distance, self.camera.elevation, self.camera.azimuth = distance, elevation, azimuth
        if lookat is not None:
            self.camera.lookat[:] = lookat

    def close(self) -> None:
        self.renderer.close()


def save_png(image: np.ndarray, path: str | Path) -> Path:
    import imageio.v3 as iio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(path, image)
    return path
