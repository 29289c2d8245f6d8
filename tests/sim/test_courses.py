"""Competition courses: heights match MuJoCo's geometry, the documented dimensions hold, spawns, balls."""

import math

import mujoco
import numpy as np
import pytest

from vbot_agent.errors import UsageError
from vbot_agent.sim import robot
from vbot_agent.sim.courses import section011, section012, section013
from vbot_agent.sim.courses.geometry import GROUP_BODIES, GROUP_MARKINGS, Field, Slope
from vbot_agent.sim.navigation import build_model
from vbot_agent.sim.registry import ENV_SPECS, make_env
from vbot_agent.sim.terrain import TERRAINS

COURSE_TERRAINS = ["section011", "section012", "section013", "long_course", "training"]


def ray_heights(terrain_name: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Ground height by casting rays down onto the compiled scene (robot and balls moved away)."""
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
        dist = mujoco.mj_ray(model, data, np.array([px, py, 8.0]), np.array([0.0, 0.0, -1.0]), groups, 1, -1, geomid)
        out[i] = 8.0 - dist
    return out


def _points_on(terrain, count: int, rng) -> tuple[np.ndarray, np.ndarray]:
    rects = terrain.bounds
    idx = rng.integers(0, len(rects), count)
    r = np.asarray(rects)[idx]
    return rng.uniform(r[:, 0], r[:, 1]), rng.uniform(r[:, 2], r[:, 3])


@pytest.mark.parametrize("name", ["flat", *COURSE_TERRAINS])
def test_numpy_height_matches_the_mujoco_geometry(name):
    terrain = TERRAINS[name]()
    rng = np.random.default_rng(0)
    if getattr(terrain, "course", None) is None:
        x, y = rng.uniform(-12, 12, 200), rng.uniform(-12, 12, 200)
        exact = terrain.height
    else:
        x, y = _points_on(terrain, 800, rng)
        exact = terrain.exact_height
    ray = ray_heights(name, x, y)
    err = np.abs(ray - exact(x, y))
    # At a vertical edge a point 1 cm away may fall either side; height fields differ by a few mm
    # (MuJoCo's triangles against bilinear interpolation).
    near = np.min([np.abs(ray - exact(x + dx, y + dy))
                   for dx, dy in ((0, 0), (0.01, 0), (-0.01, 0), (0, 0.01), (0, -0.01))], axis=0)
    worst = int(err.argmax())
    assert np.all(near < 0.01), f"{name}: worst mismatch {err.max():.4f} m at {x[worst]:.3f}, {y[worst]:.3f}"
    assert np.mean(err < 3e-3) > 0.95
    # The env's raster lookup (nearest 2 cm cell) agrees with the exact height to the slope times
    # 1.4 cm (< 1 cm on these slopes) away from vertical edges.
    if exact is not terrain.height:
        assert np.mean(np.abs(terrain.height(x, y) - exact(x, y)) < 0.01) > 0.97


def profile(course, x: float, y0: float, y1: float, step: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    ys = np.arange(y0, y1, step)
    return ys, course.exact_height(np.full(len(ys), x), ys)


def test_section011_has_the_published_dimensions():
    c = section011()
    ramp = dict(c.pieces)["s011_ramp"]
    assert isinstance(ramp, Slope) and ramp.angle_deg == pytest.approx(15.0, abs=0.05)
    assert c.exact_height(np.array(0.0), np.array(6.83 - 1e-6)) == pytest.approx(1.294, abs=1e-3)
    assert c.exact_height(np.array(0.0), np.array(7.8)) == pytest.approx(1.294)
    field = dict(c.pieces)["s011_potholes"]
    assert isinstance(field, Field)
    assert field.grid().min() == 0.0 and field.grid().max() == pytest.approx(0.277)
    assert c.exact_height(np.array(0.0), np.array(1.75)) == 0.0  # the strip
    assert c.exact_height(np.array(5.2), np.array(0.0)) == pytest.approx(2.45)  # a wall


def test_section011_pothole_field_is_a_plateau_at_half_its_envelope():
    # Potholes down to 0 and bumps up to 0.277 in a plateau at ~0.14 m, met from the floors by 0.3 m
    # ramps (rescaling by the extremes once lifted the plateau to 0.22 m: a wall at the START floor).
    z = dict(section011().pieces)["s011_potholes"].grid()
    interior = z[6:-6]
    assert np.median(interior) == pytest.approx(0.14, abs=0.015)
    assert 0.03 < np.mean(interior < 0.05) < 0.2 and 0.005 < np.mean(interior > 0.2) < 0.05
    assert z[0].max() == 0.0 and z[-1].max() == 0.0


def test_section012_has_the_published_dimensions():
    c = section012()
    ys, left = profile(c, -3.0, 12.0, 14.5)
    risers = np.round(np.diff(left)[np.diff(left) > 1e-6], 3)
    assert list(risers) == [0.15] * 10 and left.max() == pytest.approx(2.794)
    ys, right = profile(c, 3.0, 12.0, 14.5)
    assert list(np.round(np.diff(right)[np.diff(right) > 1e-6], 3)) == [0.10] * 10
    ys, down = profile(c, 3.0, 21.2, 23.5)
    assert list(np.round(np.diff(down)[np.diff(down) < -1e-6], 3)) == [-0.10] * 10
    # The riverbed: 2.294 at its lips, 1.294 on its floor, no step in between (x 4.5: off the stones).
    ys, valley = profile(c, 4.6, 14.6, 21.0)
    assert valley.max() == pytest.approx(2.294, abs=0.02) and valley.min() == pytest.approx(1.294, abs=1e-3)
    assert np.abs(np.diff(valley)).max() < 0.01
    # The bridge deck sags from 2.804 to 2.595.
    ys, deck = profile(c, -3.0, 15.25, 20.4)
    assert deck.max() == pytest.approx(2.804, abs=0.01) and deck.min() == pytest.approx(2.595, abs=0.01)
    stones = [p for n, p in c.pieces if n.startswith("s012_stone")]
    assert len(stones) == 5 and all(s.radius == 0.75 for s in stones)


def test_section013_has_the_published_dimensions():
    c = section013()
    ramp = dict(c.pieces)["s013_ramp"]
    assert ramp.angle_deg == pytest.approx(21.8, abs=0.05) and ramp.z1 - ramp.z0 == pytest.approx(0.2)
    field = dict(c.pieces)["s013_random_terrain"]
    assert field.base + field.grid().min() == pytest.approx(1.343)
    assert field.base + field.grid().max() == pytest.approx(1.492)
    # Gold balls stick 0.10 m out of the final platform.
    assert c.exact_height(np.array(0.0), np.array(31.23)) == pytest.approx(1.594)
    assert c.balls is not None and c.balls.radius == 0.375


@pytest.mark.parametrize("env_id", ["vbot_navigation_section011", "vbot_navigation_section012",
                                    "vbot_navigation_section013", "vbot_navigation_long_course"])
def test_competition_spawns_lie_in_the_start_area_and_target_the_first_gate(env_id):
    env = make_env(env_id, 32, seed=0)
    env.reset()
    x0, x1, y0, y1 = env.terrain.spawn
    xy = env.physics.state[:, env._qpos][:, 0:2]
    assert np.all((xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1))
    first = np.tile(env.terrain.course[0], (32, 1))
    if env.terrain.mirror_x:  # section011: from the right half, the right zone first
        assert env_id == "vbot_navigation_section011" and 0 < (xy[:, 0] > 0).sum() < 32
        first[xy[:, 0] > 0, 0] *= -1
        right = env.tracker.gates[xy[:, 0] > 0, :, 0]
        np.testing.assert_array_equal(right, np.tile(-env.terrain.course[:, 0], (len(right), 1)))
    np.testing.assert_array_equal(env.target, first)
    z = env.physics.state[:, env._qpos][:, 2]
    assert np.all(z >= robot.SPAWN_HEIGHT + env.terrain.height(xy[:, 0], xy[:, 1]) - 1e-9)
    for _ in range(30):
        obs, reward, *_ = env.step(np.zeros((32, 12)))
        assert np.isfinite(obs).all() and np.isfinite(reward).all()


def test_anywhere_spawns_start_at_a_gate_heading_for_the_next():
    env = make_env("vbot_navigation_section012", 64, seed=0,
                   config={"spawn": {"course_start": "anywhere", "course_jitter": 0.0}})
    env.reset()
    gates = env.terrain.course
    xy = env.physics.state[:, env._qpos][:, 0:2]
    idx = env.tracker.gate_index
    assert idx.min() >= 1
    np.testing.assert_allclose(xy, gates[idx - 1])
    np.testing.assert_allclose(env.target, gates[idx])


def test_mixed_spawns_start_half_in_the_start_area_half_at_gates():
    env = make_env("vbot_navigation_section011", 256, seed=0,
                   config={"spawn": {"course_start": "mixed", "course_jitter": 0.0}})
    env.reset()
    xy = env.physics.state[:, env._qpos][:, 0:2]
    idx = env.tracker.gate_index
    x0, x1, y0, y1 = env.terrain.spawn
    at_start = idx == 0
    assert 0.35 < at_start.mean() < 0.65
    assert np.all((xy[at_start, 1] >= y0) & (xy[at_start, 1] <= y1))
    # the rest stand on a gate of the course as written (not mirrored), heading for the next one
    np.testing.assert_allclose(xy[~at_start], env.terrain.course[idx[~at_start] - 1])
    np.testing.assert_allclose(env.target[~at_start], env.terrain.course[idx[~at_start]])


def test_anywhere_with_one_gate_left_spawns_at_the_start():
    """The reward audit replaces a course's gates with its own path (it may be one gate long); a row
    that ends and resets must spawn where a course starts, not fail to draw a gate to start from."""
    env = make_env("vbot_navigation_section013", 4, seed=0, config={"spawn": {"course_start": "anywhere"}})
    env.reset()
    env.tracker.num_gates = 1
    spawn, target = env.tracker.spawn(np.arange(4), np.random.default_rng(0))
    x0, x1, y0, y1 = env.terrain.spawn
    assert np.all((spawn[:, 0] >= x0) & (spawn[:, 0] <= x1) & (spawn[:, 1] >= y0) & (spawn[:, 1] <= y1))
    np.testing.assert_allclose(target, env.tracker.gates[:4, 0])


def test_rolling_balls_launch_on_their_schedule_and_reset():
    env = make_env("vbot_navigation_section013", 4, seed=1)
    env.reset()
    balls = env.terrain.balls
    q = slice(env._qpos.start + 19, env._qpos.start + 19 + 7 * balls.count)
    first = env.tracker.ball_phase.min()
    for _ in range(math.ceil((first + 1.0) / env.control_dt)):
        env.step(np.zeros((4, 12)))
    centres = env.physics.state[:, q].reshape(4, balls.count, 7)[:, :, 0:3]
    on_course = np.abs(centres[:, :, 0]) < 5.0
    assert on_course.any()  # launched onto the ball area...
    assert np.allclose(centres[on_course][:, 2], 1.294 + 0.375, atol=0.02)  # ...rolling on it
    np.testing.assert_allclose(np.sort(centres[on_course][:, 1]), np.sort(centres[on_course][:, 1]))
    env.reset(seed=1)
    assert np.all(env.physics.state[:, q].reshape(4, balls.count, 7)[:, :, 0] >= 100.0)  # parked again


def test_course_options_out_of_range_are_usage_errors():
    with pytest.raises(UsageError, match="course_jitter"):
        make_env("vbot_navigation_section011", 1, config={"spawn": {"course_jitter": 5.0}})
    with pytest.raises(UsageError, match="levels.start_max"):
        make_env("vbot_navigation_terrain", 1, config={"levels": {"start_max": 10}})
    with pytest.raises(UsageError, match="is for the flat arena"):
        make_env("vbot_navigation_section012", 2, config={"spawn": {"layout": "competition"}})


def test_every_env_id_is_registered_with_its_terrain():
    assert {s.terrain for s in ENV_SPECS.values()} == set(TERRAINS)


@pytest.mark.parametrize("env_id", ["vbot_navigation_section013", "vbot_navigation_terrain"])
def test_course_state_round_trip_continues_identically(env_id):
    """Gates, points, ball launches and levels are part of the checkpointed state."""
    config = {"episode_length_s": 1.0, "levels": {"start_max": 3}} if env_id.endswith("terrain") else {
        "episode_length_s": 3.0}
    env = make_env(env_id, 6, seed=3, config=config)
    env.reset()
    rng = np.random.default_rng(0)
    actions = rng.uniform(-1, 1, (260, 6, 12))
    for a in actions[:130]:
        env.step(a)
    snapshot = env.get_state()
    first = [env.step(a) for a in actions[130:]]
    again = make_env(env_id, 6, seed=99, config=config)
    again.set_state(snapshot)
    second = [again.step(a) for a in actions[130:]]
    for (oa, ra, *_), (ob, rb, *_) in zip(first, second):
        np.testing.assert_array_equal(oa, ob)
        np.testing.assert_array_equal(ra, rb)
    np.testing.assert_array_equal(env.tracker.gate_index, again.tracker.gate_index)
    np.testing.assert_array_equal(env.tracker.level, again.tracker.level)
