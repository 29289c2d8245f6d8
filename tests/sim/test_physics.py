"""The VBot model matches its published numbers and stands still under the PD controller."""

import mujoco
import numpy as np
import pytest

from vbot_agent.sim import robot
from vbot_agent.sim.navigation import build_model
from vbot_agent.sim.registry import make_env


@pytest.fixture(scope="module")
def model():
    return build_model("flat")


def test_masses_and_joints(model):
    base = model.body("base")
    assert model.body_subtreemass[base.id] == pytest.approx(16.272, abs=0.01)
    assert model.body_mass[base.id] == pytest.approx(9.016)
    for leg in robot.LEGS:
        assert model.body(f"{leg}_hip").mass[0] == pytest.approx(0.080)
        assert model.body(f"{leg}_thigh").mass[0] == pytest.approx(1.550)
        assert model.body(f"{leg}_calf").mass[0] == pytest.approx(0.184)
    names = [model.joint(i).name for i in range(1, model.njnt)]
    assert tuple(names) == robot.JOINT_NAMES
    np.testing.assert_allclose(model.jnt_range[1:, 0], robot.JOINT_LOWER)
    np.testing.assert_allclose(model.jnt_range[1:, 1], robot.JOINT_UPPER)


def test_actuators_are_pd_with_torque_limits(model):
    assert model.nu == 12
    np.testing.assert_allclose(model.actuator_gainprm[:, 0], 80.0)  # kp
    np.testing.assert_allclose(model.actuator_biasprm[:, 1], -80.0)
    np.testing.assert_allclose(model.actuator_biasprm[:, 2], -6.0)  # kv
    np.testing.assert_allclose(model.actuator_forcerange[:, 1], robot.TORQUE_LIMITS)
    np.testing.assert_allclose(model.actuator_forcerange[:, 0], -robot.TORQUE_LIMITS)


def test_only_primitive_collision_geoms(model):
    primitive = {int(t) for t in (mujoco.mjtGeom.mjGEOM_PLANE, mujoco.mjtGeom.mjGEOM_SPHERE, mujoco.mjtGeom.mjGEOM_CAPSULE,
                 mujoco.mjtGeom.mjGEOM_BOX, mujoco.mjtGeom.mjGEOM_CYLINDER)}
    for i in range(model.ngeom):
        if model.geom_contype[i] or model.geom_conaffinity[i]:
            assert int(model.geom_type[i]) in primitive


def test_zero_action_stands_for_10_seconds():
    env = make_env("vbot_navigation_section001", 8, seed=1)
    env.reset()
    heights = []
    for _ in range(1000):  # 10 s at 100 Hz
        _, _, terminated, truncated, _ = env.step(np.zeros((8, 12)))
        assert not terminated.any() and not truncated.any()
        heights.append(env.physics.state[:, env._qpos][:, 2].copy())
    heights = np.array(heights)
    # Settled in the default pose: about 0.257 m, the same at 5 s and 10 s.
    assert np.all((heights[100:] > 0.22) & (heights[100:] < 0.30))
    np.testing.assert_allclose(heights[-1], heights[500], atol=2e-3)
    torques = env.physics.step(np.tile(robot.DEFAULT_POSE, (8, 1)))[:, robot.SENSOR_JOINT_TORQUE]
    assert np.all(np.abs(torques) <= robot.TORQUE_LIMITS + 1e-9)
    env.close()


def _trot_targets(t: float, n: int) -> np.ndarray:
    """Open-loop diagonal trot at 2 Hz (FR+RL against FL+RR): joint targets [n, 12] in rad."""
    targets = np.tile(robot.DEFAULT_POSE, (n, 1)).reshape(n, 4, 3)
    for leg, offset in enumerate((0.0, np.pi, np.pi, 0.0)):  # FR, FL, RR, RL
        s = np.sin(2 * np.pi * 2.0 * t + offset)
        targets[:, leg, 1] += 0.25 * s  # thigh swings
        targets[:, leg, 2] -= 0.35 * max(s, 0.0)  # calf folds: the foot lifts in swing
    return targets.reshape(n, 12)


def test_an_open_loop_trot_walks_without_falling(model):
    """A walking contact pattern (two feet down, two swinging) stays upright and makes headway with
    the shipped solver options (benchmarks/physics_options.py compares the options it rejected)."""
    from vbot_agent.sim.physics import BatchedPhysics

    n = 8
    physics = BatchedPhysics(model, n, threads=1)
    q = physics.layout.qpos
    physics.state[:, q.start + 2] = robot.SPAWN_HEIGHT
    start_xy = physics.state[:, q][:, 0:2].copy()
    lowest = np.inf
    for k in range(500):  # 5 s
        sensors = physics.step(_trot_targets(k * 0.01, n))
        assert not (sensors[:, robot.SENSOR_TRUNK_CONTACT] > 0).any(), f"trunk touched the ground at {k * 0.01:.2f} s"
        if k >= 50:
            lowest = min(lowest, physics.state[:, q][:, 2].min())
    physics.close()
    assert np.isfinite(physics.state).all()
    assert lowest > 0.15  # the base never sagged towards the ground (0.17 m at the deepest stride)
    travel = np.linalg.norm(physics.state[:, q][:, 0:2] - start_xy, axis=1)
    assert np.all(travel > 0.5)  # feet grip: it moved, ~1.4 m in 5 s with the shipped options
