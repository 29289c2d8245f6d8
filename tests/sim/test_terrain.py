"""Terrain sections: numpy heights match MuJoCo's geometry, courses spawn on them, balls reset."""

import math

import mujoco
import numpy as np
import pytest

from vbot_agent.errors import UsageError
from vbot_agent.sim import robot
from vbot_agent.sim.navigation import OBS_DIM, OBS_SLICES, build_model
from vbot_agent.sim.registry import ENV_SPECS, make_env
from vbot_agent.sim.terrain import GROUP_BODIES, GROUP_MARKINGS, LANE_HALF_WIDTH, TERRAINS, Ramp

SECTIONS = ["vbot_navigation_section011", "vbot_navigation_section012", "vbot_navigation_section013"]


def ray_heights(terrain_name: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Ground height by casting rays down onto the compiled scene (robot moved far away)."""
    model = build_model(terrain_name)
    data = mujoco.MjData(model)
    data.qpos[0:3] = [1000.0, 1000.0, 5.0]  # the robot's base; it is the first body
    mujoco.mj_forward(model, data)
    groups = np.ones(6, dtype=np.uint8)
    groups[GROUP_MARKINGS] = 0
    groups[GROUP_BODIES] = 0
    geomid = np.zeros(1, dtype=np.int32)
    out = np.empty(len(x))
    for i, (px, py) in enumerate(zip(x, y)):
        dist = mujoco.mj_ray(model, data, np.array([px, py, 3.0]), np.array([0.0, 0.0, -1.0]), groups, 1, -1, geomid)
        out[i] = 3.0 - dist
    return out


@pytest.mark.parametrize("name", list(TERRAINS))
def test_numpy_height_matches_the_mujoco_geometry(name):
    terrain = TERRAINS[name]()
    rng = np.random.default_rng(0)
    if terrain.course is None:
        x, y = rng.uniform(-12, 12, 200), rng.uniform(-12, 12, 200)
    else:
        x = rng.uniform(-9.0, 9.0, 600)
        y = rng.uniform(-LANE_HALF_WIDTH - 0.2, LANE_HALF_WIDTH + 0.2, 600)
    ray = ray_heights(name, x, y)
    mine = terrain.height(x, y)
    err = np.abs(ray - mine)
    # At a vertical edge, a point 1 cm away may fall either side; accept the nearby heights there.
    near = np.min([np.abs(ray - terrain.height(x + dx, y + dy))
                   for dx, dy in ((0, 0), (0.01, 0), (-0.01, 0), (0, 0.01), (0, -0.01))], axis=0)
    assert np.all(near < 3e-3), f"{name}: worst mismatch {err.max():.4f} m at {x[err.argmax()]:.3f}, {y[err.argmax()]:.3f}"
    assert np.mean(err < 3e-3) > 0.97


def test_sections_have_their_features():
    s011, s012, s013 = TERRAINS["section011"](), TERRAINS["section012"](), TERRAINS["section013"]()
    ramps = [p for p in s011.pieces if isinstance(p, Ramp)]
    assert ramps and ramps[0].angle_deg == pytest.approx(15.0)
    assert 0.0 < s011.height(np.linspace(-6, -1, 200), np.zeros(200)).max() <= 0.06 + 1e-9  # bumps
    assert s011.height(np.array(5.0), np.array(0.0)) == pytest.approx(0.4)  # the platform
    # Section 012: risers of 0.10 and 0.15 m up to a platform and back down.
    profile = s012.height(np.linspace(-9, 9, 3601), np.zeros(3601))
    risers = np.round(np.diff(profile)[np.abs(np.diff(profile)) > 1e-6], 3)
    assert sorted(set(np.abs(risers).tolist())) == [0.10, 0.15]
    assert profile.max() == pytest.approx(0.6) and profile[0] == 0 and profile[-1] == 0
    assert (risers > 0).sum() == 5 and (risers < 0).sum() == 5
    # Section 013: a 0.2 m step, balls, a steep ramp to a platform at the end.
    assert s013.height(np.array(-4.5), np.array(0.0)) == pytest.approx(0.2)
    assert s013.balls is not None and len(s013.balls.xs) == 3
    assert next(p for p in s013.pieces if isinstance(p, Ramp)).angle_deg == pytest.approx(25.0)
    assert s013.height(np.array(8.0), np.array(0.0)) == pytest.approx(0.4)


@pytest.mark.parametrize("env_id", SECTIONS)
def test_course_spawns_and_targets_lie_on_checkpoints(env_id):
    env = make_env(env_id, 64, seed=0)
    obs = env.reset()
    assert obs.shape == (64, OBS_DIM) and env.layout == "course"
    course = env.terrain.course
    xy = env.physics.state[:, env._qpos][:, 0:2]
    jitter = env.config.spawn.course_jitter
    for points in (xy, env.target):
        assert np.all(np.isin(points[:, 0], course[:, 0]))
        assert np.all(np.abs(points[:, 1]) <= jitter)
    assert np.all(env.target[:, 0] > xy[:, 0])  # targets lie ahead along the course
    # Spawned standing on the local ground, whatever its height.
    z = env.physics.state[:, env._qpos][:, 2]
    np.testing.assert_allclose(z, robot.SPAWN_HEIGHT + env.terrain.height(xy[:, 0], xy[:, 1]))
    for _ in range(30):
        obs, reward, *_ = env.step(np.zeros((64, 12)))
        assert np.isfinite(obs).all() and np.isfinite(reward).all()


def test_height_scan_sees_the_platform_ahead():
    env = make_env("vbot_navigation_section011", 1, seed=0)
    env.reset()
    qpos = env.physics.state[:, env._qpos].copy()
    ramp_end = next(p for p in env.terrain.pieces if isinstance(p, Ramp)).x1
    qpos[0, 0:3] = [ramp_end - 0.45, 0.0, 0.7]  # on the ramp's top, facing +x
    qpos[0, 3:7] = [1, 0, 0, 0]
    env.physics.state[:, env._qpos] = qpos
    scan = env._observe_all()[0, OBS_SLICES["height_scan"]].reshape(4, 3)
    assert np.all(np.diff(scan[:, 1]) > 0)  # ground rises ahead
    assert scan[-1, 1] == pytest.approx(0.4 - env.terrain.height(np.array(ramp_end - 0.45), np.array(0.0)))


def test_rolling_balls_reset_with_each_episode():
    env = make_env("vbot_navigation_section013", 4, seed=1)
    env.reset()
    ball_q = slice(1 + 19, 1 + env.model.nq)
    start = env.physics.state[:, ball_q].copy()
    for _ in range(50):
        env.step(np.zeros((4, 12)))
    moved = np.abs(env.physics.state[:, ball_q] - start)[:, 1::7]  # y of each ball
    assert moved.max() > 0.2  # they roll
    env.reset(seed=1)
    np.testing.assert_array_equal(env.physics.state[:, ball_q], start)  # and are put back


def test_flat_section_ignores_the_course_layout_and_section_refuses_the_ring():
    assert make_env("vbot_navigation_section001", 2).layout == "random"
    with pytest.raises(UsageError, match="needs a terrain section"):
        make_env("vbot_navigation_section001", 2, config={"spawn": {"layout": "course"}})
    with pytest.raises(UsageError, match="is for the flat arena"):
        make_env("vbot_navigation_section012", 2, config={"spawn": {"layout": "competition"}})


def test_every_env_id_is_registered_with_its_terrain():
    assert {s.terrain for s in ENV_SPECS.values()} == set(TERRAINS)
    assert math.isclose(TERRAINS["flat"]().radius, 12.5)
