"""The chase camera keeps the robot in sight when a wall stands behind it."""

from __future__ import annotations

import mujoco
import numpy as np

from vbot_agent.sim.registry import make_env
from vbot_agent.sim.render import SceneRenderer


def first_hit_from_camera(renderer: SceneRenderer) -> int:
    """Body of the first geom on the line from the camera to the point it looks at."""
    cam = renderer.camera
    az, el = np.radians(cam.azimuth), np.radians(cam.elevation)
    forward = np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
    eye = np.array(cam.lookat) - cam.distance * forward
    geom = np.zeros(1, np.int32)
    mujoco.mj_ray(renderer.model, renderer.data, eye, forward, None, 1, -1, geom)
    return int(renderer.model.geom_bodyid[geom[0]])


def test_chase_camera_sees_the_robot_in_front_of_the_back_wall():
    env = make_env("vbot_navigation_section011", 1, seed=0)
    env.reset()
    state = env.physics.state[0].copy()
    qpos = env._qpos.start
    state[qpos:qpos + 2] = (0.0, -3.3)  # 0.2 m from the back wall, facing the course
    renderer = SceneRenderer(env, width=160, height=120)
    try:
        renderer.render_state(state, np.array([0.0, 0.0]), 0.0)
        robot_root = mujoco.mj_name2id(renderer.model, mujoco.mjtObj.mjOBJ_BODY, "base")
        assert renderer.model.body_rootid[first_hit_from_camera(renderer)] == robot_root
        assert renderer.camera.elevation < -18.0  # looked over the wall, not through it
    finally:
        renderer.close()


def test_chase_camera_keeps_its_usual_view_in_the_open():
    env = make_env("vbot_navigation_section001", 1, seed=0)
    env.reset()
    renderer = SceneRenderer(env, width=160, height=120)
    try:
        renderer.render(0)
        assert (renderer.camera.elevation, renderer.camera.distance) == (-18.0, 2.4)
    finally:
        renderer.close()
