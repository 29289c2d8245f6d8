"""The training terrain: tiles of rising difficulty and legged_gym's level rule, per robot."""

import numpy as np
import pytest

from vbot_agent.sim.courses.training import (
    BASE_Z,
    GATES_Y,
    NUM_LEVELS,
    TILE_X,
    TILE_Y,
    TYPES,
    next_levels,
    training_terrain,
)
from vbot_agent.sim.registry import make_env


def tile_profile(level: int, kind: str) -> np.ndarray:
    t = training_terrain()
    x = TYPES.index(kind) * TILE_X + TILE_X / 2
    ys = level * TILE_Y + np.arange(0.0, TILE_Y, 0.01)
    return t.exact_height(np.full(len(ys), x), ys) - BASE_Z


def tile_top(level: int, kind: str) -> float:
    t = training_terrain()
    x0, y0 = TYPES.index(kind) * TILE_X, level * TILE_Y
    gx, gy = np.meshgrid(x0 + np.arange(0.0, TILE_X, 0.05), y0 + np.arange(0.0, TILE_Y, 0.05))
    return float(t.exact_height(gx, gy).max()) - BASE_Z


def test_difficulty_rises_with_the_level_up_to_the_competition_obstacles():
    stairs = [tile_profile(level, "stairs") for level in (0, NUM_LEVELS - 1)]
    # Treads are the heights the profile keeps for 10 cm or more; risers are the steps between them
    # (MuJoCo's field spreads each riser over one 5 cm cell).
    values, counts = np.unique(np.round(stairs[1], 3), return_counts=True)
    treads = values[counts >= 10]
    assert len(treads) == 6 and np.allclose(np.diff(treads), 0.15, atol=1e-3)  # 5 risers of 0.15 m at the top
    assert stairs[0].max() == pytest.approx(5 * 0.02)
    bumps = [tile_top(level, "bumps") for level in range(NUM_LEVELS)]
    assert bumps[0] == pytest.approx(0.02, abs=2e-3) and bumps[-1] == pytest.approx(0.28, abs=0.01)
    assert np.all(np.diff(bumps) > 0)
    ramp = tile_profile(NUM_LEVELS - 1, "ramp")
    slope = np.degrees(np.arctan(np.max(np.diff(ramp)) / 0.01))
    assert slope == pytest.approx(22.0, abs=1.0)
    for kind in TYPES:  # every tile starts and ends flat at 0 (spawn and last gate)
        p = tile_profile(5, kind)
        assert np.abs(p[:100]).max() < 1e-6 and np.abs(p[-50:]).max() < 1e-6


def test_level_rule_moves_robots_by_what_they_achieved():
    rng = np.random.default_rng(0)
    level = np.array([3, 3, 3, 3, NUM_LEVELS - 1])
    reached = np.array([True, False, False, True, True])
    fell = np.array([False, False, True, True, False])
    covered = np.array([1.0, 0.7, 0.9, 1.0, 1.0])
    new = next_levels(level, reached, fell, covered, rng)
    assert new[:4].tolist() == [4, 3, 2, 2]  # up; stays (over half the way); fell: down; fell at the end: down
    assert 0 <= new[4] < NUM_LEVELS  # past the top level: a random level
    assert next_levels(np.array([0]), np.array([False]), np.array([True]), np.array([0.0]), rng).tolist() == [0]


def test_robots_spawn_on_their_tiles_and_move_between_levels_in_the_env():
    env = make_env("vbot_navigation_terrain", 16, seed=0, config={"levels": {"start_max": 4}, "episode_length_s": 0.05})
    env.reset()
    tr = env.tracker
    assert tr.level.min() >= 0 and tr.level.max() <= 4 and tr.level.max() > 0
    xy = env.physics.state[:, env._qpos][:, 0:2]
    origin = np.stack([tr.kind * TILE_X, tr.level * TILE_Y], axis=1)
    assert np.all((xy - origin)[:, 1] == pytest.approx(0.75))
    np.testing.assert_allclose(tr.gates[:, -1, 1] - origin[:, 1], GATES_Y[-1])
    before = tr.level.copy()
    for _ in range(5):  # the 0.05 s episodes end, nobody got anywhere: every robot moves down
        env.step(np.zeros((16, 12)))
    assert np.all(tr.level == np.maximum(before - 1, 0))
    fixed = make_env("vbot_navigation_terrain", 4, seed=0, config={"levels": {"fixed": True}, "episode_length_s": 0.05})
    fixed.reset()
    for _ in range(5):
        fixed.step(np.zeros((4, 12)))
    assert np.all(fixed.tracker.level == 0)
