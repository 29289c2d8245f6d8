"""Domain randomisation: off by default, each perturbation reaches the physics, episodes resample
it, the same seed repeats it, and the env state still round-trips."""

from __future__ import annotations

import numpy as np
import pytest

from vbot_agent.errors import UsageError
from vbot_agent.sim.navigation import NavConfig
from vbot_agent.sim.randomization import RandomizationConfig, robot_ids
from vbot_agent.sim.registry import make_env

ENV = "vbot_navigation_section001"


def _fixed(**ranges):
    """Randomisation on, every range nominal except ``ranges`` (one variant)."""
    from vbot_agent.deploy.robustness import NOMINAL

    return {"randomization": {**NOMINAL, **ranges}}


def test_off_by_default_and_the_preset_turns_it_on():
    from vbot_agent.deploy.robustness import PRESET
    from vbot_agent.rl.config import resolve_train_config

    assert NavConfig().randomization.enabled is False
    env = make_env(ENV, 2, threads=1)
    assert env.randomizer is None
    env.close()
    cfg = resolve_train_config(config_file=PRESET)
    assert cfg.env["randomization"]["enabled"] is True and cfg.env["noise"]["enabled"] is True
    assert cfg.env["randomization"]["friction"] == [0.3, 1.2]


def test_bad_ranges_are_usage_errors():
    with pytest.raises(UsageError, match="low <= high"):
        RandomizationConfig(friction=(1.0, 0.5))
    with pytest.raises(UsageError, match="must be > 0"):
        RandomizationConfig(kp_scale=(0.0, 1.0))
    with pytest.raises(UsageError, match="unknown key 'env.randomization.frictoin'"):
        make_env(ENV, 1, config={"randomization": {"frictoin": [0.1, 0.2]}})


def test_variants_carry_their_parameters_and_leave_the_nominal_model_alone():
    env = make_env(ENV, 8, seed=1, threads=1, config={"randomization": {"enabled": True, "variants": 16}})
    try:
        nominal, rnd = env.model, env.randomizer
        ids = robot_ids(nominal)
        assert np.all(nominal.geom_friction[ids["feet"], 0] == 0.4)
        assert nominal.actuator_gainprm[0, 0] == 80.0
        frictions = np.array([m.geom_friction[ids["feet"], 0] for m in rnd.variant_models])
        assert np.all((frictions >= 0.3) & (frictions <= 1.2)) and frictions.std() > 0.1
        assert np.all(frictions == frictions[:, :1])  # the four feet share one friction
        masses = np.array([m.body_mass[ids["bodies"]].sum() for m in rnd.variant_models])
        nominal_mass = nominal.body_mass[ids["bodies"]].sum()
        assert np.all(np.abs(masses - nominal_mass) < 0.1 * nominal_mass + 1.0) and masses.std() > 0.1
        for m, kp_scale in zip(rnd.variant_models, rnd.params["kp_scale"]):
            np.testing.assert_allclose(m.actuator_gainprm[:, 0], 80.0 * kp_scale)
            np.testing.assert_allclose(m.actuator_biasprm[:, 1], -m.actuator_gainprm[:, 0])
            # derived constants were refreshed: the subtree mass is the new total
            assert m.body_subtreemass[ids["base"][0]] == pytest.approx(m.body_mass[ids["bodies"]].sum())
        # Every env steps with the model of its variant.
        env.reset(seed=0)
        assert [id(m) for m in env.physics._models] == [id(rnd.variant_models[v]) for v in rnd.variant]
    finally:
        env.close()


def test_episodes_resample_their_variant_and_latency_with_one_vectorised_draw():
    env = make_env(ENV, 64, seed=0, threads=1, config={"randomization": {"enabled": True, "variants": 8}})
    try:
        env.reset(seed=0)
        first = env.randomizer.variant.copy()
        assert len(np.unique(first)) > 4 and set(np.unique(env.randomizer.latency)) == {0, 1, 2}
        env._reset_rows(np.arange(32))  # half the envs start new episodes
        assert np.any(env.randomizer.variant[:32] != first[:32])
        assert np.array_equal(env.randomizer.variant[32:], first[32:])
    finally:
        env.close()


def _settled_height(config, steps=100):
    env = make_env(ENV, 4, seed=0, threads=1, config={**config, "spawn": {"joint_noise": 0.0}})
    try:
        env.reset(seed=0)
        for _ in range(steps):
            env.step(np.zeros((4, 12)))
        return env.physics.state[:, env.physics.layout.qpos][:, 2].mean()
    finally:
        env.close()


def test_weaker_motors_and_a_payload_let_the_robot_sag():
    nominal = _settled_height(_fixed())
    weak = _settled_height(_fixed(kp_scale=[0.5, 0.5]))
    loaded = _settled_height(_fixed(base_added_mass_kg=[4.0, 4.0]))
    # measured: 0.257 m nominal, 0.227 m at half kp, 0.251 m with 4 kg on the trunk
    assert weak < nominal - 0.02 and loaded < nominal - 0.004, (nominal, weak, loaded)
    assert _settled_height({}) == pytest.approx(nominal, abs=1e-9)  # nominal values = randomisation off


def test_latency_delays_the_action_by_whole_control_steps():
    env = make_env(ENV, 3, seed=0, threads=1, config=_fixed(latency_steps=[2, 2]))
    try:
        env.reset(seed=0)
        actions = np.random.default_rng(0).uniform(-1, 1, (6, 3, 12))
        applied = [env.randomizer.before_physics(a).copy() for a in actions]
        np.testing.assert_array_equal(applied[0], 0.0)
        np.testing.assert_array_equal(applied[1], 0.0)
        for t in range(2, 6):
            np.testing.assert_array_equal(applied[t], actions[t - 2])
    finally:
        env.close()


def test_pushes_kick_the_base_velocity_at_the_configured_interval():
    env = make_env(ENV, 4, seed=0, threads=1, config=_fixed(push_velocity_mps=[1.0, 1.0], push_interval_s=[0.05, 0.05]))
    try:
        env.reset(seed=0)
        vxy = slice(env.physics.layout.qvel.start, env.physics.layout.qvel.start + 2)
        zeros = np.zeros((4, 12))
        for _ in range(4):
            env.randomizer.before_physics(zeros)
            assert np.all(env.physics.state[:, vxy] == 0.0)  # the robots were spawned at rest
        env.randomizer.before_physics(zeros)  # 5th control step = 0.05 s: the kick
        np.testing.assert_allclose(np.linalg.norm(env.physics.state[:, vxy], axis=1), 1.0)
    finally:
        env.close()


def test_same_seed_same_episodes_and_spawns_do_not_depend_on_randomisation():
    def rollout(config):
        env = make_env(ENV, 6, seed=3, threads=1, config=config)
        try:
            obs = [env.reset(seed=3)]
            start = env.physics.state.copy()
            actions = np.random.default_rng(1).uniform(-1, 1, (40, 6, 12))
            for a in actions:
                obs.append(env.step(a)[0])
            return start, np.asarray(obs)
        finally:
            env.close()

    on = {"randomization": {"enabled": True, "variants": 4}}
    start_on, obs_on = rollout(on)
    start_on2, obs_on2 = rollout(on)
    start_off, obs_off = rollout({})
    np.testing.assert_array_equal(obs_on, obs_on2)
    np.testing.assert_array_equal(start_on, start_off)
    assert np.abs(obs_on[-1] - obs_off[-1]).max() > 1e-3  # and the physics does differ


def test_state_round_trips_with_randomisation_on():
    config = {"randomization": {"enabled": True, "variants": 4, "push_interval_s": [0.1, 0.3]}}
    actions = np.random.default_rng(2).uniform(-1, 1, (60, 5, 12))
    env = make_env(ENV, 5, seed=4, threads=1, config=config)
    env.reset()
    for a in actions[:30]:
        env.step(a)
    state = env.get_state()
    expected = [env.step(a)[0] for a in actions[30:]]
    env.close()
    resumed = make_env(ENV, 5, seed=4, threads=1, config=config)
    resumed.set_state(state)
    got = [resumed.step(a)[0] for a in actions[30:]]
    resumed.close()
    np.testing.assert_array_equal(np.asarray(got), np.asarray(expected))
