"""The batched navigation env: contract, determinism, terminations, rewards from config."""

import math
import re

import numpy as np
import pytest

from vbot_agent.errors import UsageError
from vbot_agent.sim import rewards
from vbot_agent.sim.mathx import yaw_quat
from vbot_agent.sim.navigation import OBS_DIM, OBS_SLICES
from vbot_agent.sim.registry import make_env

ENV = "vbot_navigation_section001"


def rollout(env, steps, seed):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(steps):
        obs, reward, terminated, truncated, _ = env.step(rng.uniform(-1, 1, (env.num_envs, 12)))
        out.append((obs, reward, terminated, truncated))
    return out


def test_random_actions_stay_finite_and_falls_reset():
    env = make_env(ENV, 16, seed=0)
    obs = env.reset()
    assert obs.shape == (16, OBS_DIM) and obs.dtype == np.float32
    rng = np.random.default_rng(0)
    episodes = 0
    for _ in range(10_000 // 16 * 4):  # 40k env steps in all, >= 10k per the spec, several episodes
        obs, reward, terminated, truncated, info = env.step(rng.uniform(-1, 1, (16, 12)))
        assert np.isfinite(obs).all() and np.isfinite(reward).all()
        episodes += len(info["episode"]["return"])
    assert episodes >= 16  # 20 s episodes: every env finished at least once


def test_fall_is_a_termination_and_the_env_resets():
    env = make_env(ENV, 4, seed=0)
    env.reset()
    # Turn env 2 upside down, 5 cm above the ground.
    qpos = env.physics.state[:, env._qpos].copy()
    qpos[2, 2] = 0.15
    qpos[2, 3:7] = [0.0, 1.0, 0.0, 0.0]
    env.physics.state[:, env._qpos] = qpos
    _, reward, terminated, truncated, info = env.step(np.zeros((4, 12)))
    assert terminated.tolist() == [False, False, True, False] and not truncated.any()
    assert info["episode"]["fall"].tolist() == [True]
    assert info["episode"]["success"].tolist() == [False]
    assert reward[2] <= -10.0 + 1e-6  # the termination penalty
    # Already reset: standing again at the spawn height, upright.
    assert env.physics.state[2, env._qpos][2] == pytest.approx(0.30)
    assert env.episode_step[2] == 0


def test_time_limit_truncates():
    env = make_env(ENV, 2, seed=0, config={"episode_length_s": 0.05})
    env.reset()
    for _ in range(4):
        _, _, terminated, truncated, _ = env.step(np.zeros((2, 12)))
        assert not truncated.any()
    _, _, terminated, truncated, info = env.step(np.zeros((2, 12)))
    assert truncated.all() and not terminated.any()
    assert info["episode"]["length"].tolist() == [5, 5]


def test_same_seed_same_trajectory_different_seed_different():
    a = rollout(make_env(ENV, 8, seed=3), 200, seed=1)
    b = rollout(make_env(ENV, 8, seed=3), 200, seed=1)
    c = rollout(make_env(ENV, 8, seed=4), 200, seed=1)
    for (oa, ra, *_), (ob, rb, *_) in zip(a, b):
        np.testing.assert_array_equal(oa, ob)
        np.testing.assert_array_equal(ra, rb)
    assert not np.array_equal(a[-1][0], c[-1][0])


def test_state_round_trip_continues_identically():
    env = make_env(ENV, 8, seed=5)
    env.reset()
    rollout(env, 50, seed=2)
    saved = env.get_state()
    first = rollout(env, 100, seed=9)
    other = make_env(ENV, 8, seed=123)
    other.set_state(saved)
    second = rollout(other, 100, seed=9)
    for (oa, ra, ta, _), (ob, rb, tb, _) in zip(first, second):
        np.testing.assert_array_equal(oa, ob)
        np.testing.assert_array_equal(ra, rb)
        np.testing.assert_array_equal(ta, tb)


def test_observation_is_in_the_body_frame():
    env = make_env(ENV, 1, seed=0)
    env.reset()
    # Robot at the origin facing +y, target 2 m ahead along +y: the target is straight ahead.
    state = env.physics.state
    qpos = state[:, env._qpos].copy()
    qpos[0, 0:2] = 0.0
    qpos[0, 3:7] = yaw_quat(np.array([math.pi / 2]))[0]
    state[:, env._qpos] = qpos
    env.target[0] = [0.0, 2.0]
    env.target_yaw[0] = math.pi / 2
    obs = env._observe_all()
    np.testing.assert_allclose(obs[0, OBS_SLICES["target_pos"]], [2.0, 0.0], atol=1e-5)
    np.testing.assert_allclose(obs[0, OBS_SLICES["heading_error"]], [0.0, 1.0], atol=1e-5)
    np.testing.assert_allclose(obs[0, OBS_SLICES["projected_gravity"]], [0, 0, -1], atol=1e-6)
    np.testing.assert_allclose(obs[0, OBS_SLICES["height_scan"]], 0.0)


def test_sensor_noise_is_applied_only_when_enabled():
    quiet = make_env(ENV, 4, seed=0)
    noisy = make_env(ENV, 4, seed=0, config={"noise": {"enabled": True}})
    a, b = quiet.reset(), noisy.reset()
    diff = np.abs(a - b)
    assert diff[:, OBS_SLICES["joint_vel"]].max() > 0.1
    assert diff[:, OBS_SLICES["target_pos"]].max() == 0.0  # targets are not sensed, not noised
    assert np.abs(quiet.reset() - quiet.reset()).max() > 0  # fresh spawns, but...
    q2 = make_env(ENV, 4, seed=0)
    np.testing.assert_array_equal(q2.reset(), make_env(ENV, 4, seed=0).reset())


def test_competition_layout_spawns_on_the_ring():
    env = make_env(ENV, 64, seed=0, config={"spawn": {"layout": "competition"}})
    env.reset()
    xy = env.physics.state[:, env._qpos][:, 0:2]
    radius = np.linalg.norm(xy, axis=1)
    assert np.all((radius >= 10.0) & (radius <= 12.0))
    np.testing.assert_array_equal(env.target, 0.0)


def test_random_targets_follow_the_distance_range():
    env = make_env(ENV, 256, seed=0, config={"spawn": {"target_distance": [2.0, 3.0]}})
    env.reset()
    xy = env.physics.state[:, env._qpos][:, 0:2]
    dist = np.linalg.norm(env.target - xy, axis=1)
    assert dist.min() >= 2.0 and dist.max() <= 3.0


def test_changing_one_scale_changes_that_term_only():
    base = make_env(ENV, 8, seed=0)
    changed = make_env(ENV, 8, seed=0, reward={"scales": {"orientation": -4.0}})
    base.reset(), changed.reset()
    rng = np.random.default_rng(0)
    for _ in range(30):
        act = rng.uniform(-1, 1, (8, 12))
        _, _, _, _, ia = base.step(act)
        _, _, _, _, ib = changed.step(act)
    for term, value in ia["reward_terms"].items():
        if term == "orientation":
            assert ib["reward_terms"][term] == pytest.approx(2 * value)
            assert value != 0.0
        else:
            assert ib["reward_terms"][term] == value


def test_unknown_reward_key_names_the_valid_ones():
    with pytest.raises(UsageError, match="unknown reward term 'progres'.*did you mean progress.*valid terms"):
        rewards.RewardConfig(scales={"progres": 1.0})
    with pytest.raises(UsageError, match="unknown key 'env.spwn'"):
        make_env(ENV, 1, config={"spwn": {}})


def test_wrong_action_shape_is_a_usage_error():
    env = make_env(ENV, 4, seed=0)
    env.reset()
    with pytest.raises(UsageError, match=r"actions must have shape \(4, 12\), got \(4, 11\)"):
        env.step(np.zeros((4, 11)))


def test_unknown_env_lists_the_valid_ones():
    with pytest.raises(UsageError, match="unknown env id 'vbot_navigation_section01'.*valid: vbot_navigation_section001"):
        make_env("vbot_navigation_section01")


def test_walking_straight_to_the_target_earns_progress_and_arrival():
    """Kinematically slide the robot to its target: progress ~ distance * scale, arrival once, then hold."""
    env = make_env(ENV, 1, seed=0, config={"spawn": {"target_distance": [3.0, 3.0]}})
    env.reset()
    state = env.physics.state
    start = state[0, env._qpos][0:2].copy()
    target = env.target[0].copy()
    total = {}
    for i in range(1, 401):
        frac = min(1.0, i / 300)
        qpos = state[:, env._qpos].copy()
        qpos[0, 0:2] = start + frac * (target - start)
        state[:, env._qpos] = qpos
        _, _, _, _, info = env.step(np.zeros((1, 12)))
        for k, v in info["reward_terms"].items():
            total[k] = total.get(k, 0.0) + v
    assert total["arrival"] == pytest.approx(10.0)
    assert total["progress"] == pytest.approx(2.0 * 3.0, rel=0.05)
    assert total["hold"] > 0


def test_staggered_first_episodes_end_spread_out():
    env = make_env(ENV, 64, seed=0, config={"episode_length_s": 1.0}, stagger_episodes=True)
    env.reset()
    end_steps = []
    for step in range(100):
        _, _, _, truncated, _ = env.step(np.zeros((64, 12)))
        end_steps += [step] * int(truncated.sum())
    assert len(end_steps) == 64 and len(set(end_steps)) > 20  # not all at step 99
    plain = make_env(ENV, 8, seed=0, config={"episode_length_s": 1.0})
    plain.reset()
    assert (plain.episode_step == 0).all()


@pytest.mark.parametrize("spawn, message", [
    ({"target_area_radius": -3.0}, "env.spawn.target_area_radius must be >= 0, got -3"),
    ({"target_distance": [8.0, 3.0]}, "env.spawn.target_distance must be [low, high] with low <= high"),
    ({"target_distance": [10.0, 30.0]}, "reaches 32 m from the centre, off the flat arena's 12.5 m disc"),
    ({"target_distance": [10.0, 12.0], "target_area_radius": 1.0}, "reaches 13 m from the centre"),
    ({"ring_radius": [10.0, 14.0]}, "ring_radius reaches 14 m"),
])
def test_spawn_options_that_cannot_work_are_refused(spawn, message):
    """A robot spawned off the disc ends its episode at once as a fall: such options are refused."""
    from vbot_agent.config import from_mapping
    from vbot_agent.sim.nav_config import SpawnConfig

    with pytest.raises(UsageError, match=re.escape(message)):
        from_mapping(SpawnConfig, spawn, where="env.spawn")
    from_mapping(SpawnConfig, {"target_distance": [10.0, 12.0], "target_area_radius": 0.5}, where="env.spawn")
