"""Env adapters and config resolution: Gymnasium vector envs, the dummy env, the real VBot env."""

from __future__ import annotations

import numpy as np
import pytest

from tests.rl.conftest import tiny_config
from vbot_agent.errors import UsageError
from vbot_agent.rl.config import resolve_train_config
from vbot_agent.rl.envs import GymVectorEnv, make_env
from vbot_agent.rl.loop import train
from vbot_agent.rl.run_dir import create_run_dir
from vbot_agent.rl.runner import OnPolicyRunner


def test_gym_adapter_follows_the_contract():
    env = GymVectorEnv("Pendulum-v1", 3, seed=0, options={})
    assert (env.obs_dim, env.action_dim, env.max_episode_steps) == (3, 1, 200)
    obs = env.reset()
    assert obs.shape == (3, 3) and obs.dtype == np.float32
    finished = 0
    for _ in range(200):
        obs, reward, terminated, truncated, info = env.step(np.ones((3, 1)))
        finished += len(info["episode"]["return"])
    assert truncated.all() and not terminated.any() and finished == 3  # time limit at step 200
    assert not np.array_equal(info["final_obs"], obs)  # the last obs of the episode, not the reset one
    assert info["episode"]["length"].tolist() == [200, 200, 200]
    env.close()


def test_gym_actions_are_mapped_to_the_box():
    env = GymVectorEnv("Pendulum-v1", 1, seed=0, options={})
    assert env._low.tolist() == [-2.0] and env._high.tolist() == [2.0]  # a = +1 -> torque +2
    env.close()


def test_gym_run_trains(run_root):
    cfg = tiny_config(env_id="gym:Pendulum-v1", max_env_steps=8 * 8 * 2)
    result = train(OnPolicyRunner(cfg, create_run_dir(run_root, cfg.env_id)))
    assert result.iterations == 2 and result.status == "finished"


def test_config_rejects_unknown_keys_with_suggestions():
    with pytest.raises(UsageError, match="did you mean num_envs"):
        resolve_train_config(overrides=["num_env=3"])
    with pytest.raises(UsageError, match="valid keys under ppo"):
        resolve_train_config(overrides=["ppo.nope=3"])
    with pytest.raises(UsageError, match="did you mean progress"):
        resolve_train_config(overrides=["reward.scales.progres=3"])
    with pytest.raises(UsageError, match="reward settings apply to VBot envs only"):
        resolve_train_config(flags={"env_id": "gym:Pendulum-v1"}, overrides=["reward.scales.x=1"])
    with pytest.raises(UsageError, match="num_envs must be > 0"):
        resolve_train_config(flags={"num_envs": 0})


def test_config_layers_and_types(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("num_envs: 16\nppo:\n  gamma: 0.98\nreward:\n  scales:\n    arrival: 20\n")
    cfg = resolve_train_config(config_file=path, overrides=["ppo.gamma=0.97", "policy.actor_hidden_dims=[32, 32]"],
                               flags={"seed": 7})
    assert (cfg.num_envs, cfg.ppo.gamma, cfg.seed, cfg.policy.actor_hidden_dims) == (16, 0.97, 7, (32, 32))
    assert cfg.reward["scales"]["arrival"] == 20 and "progress" in cfg.reward["scales"]  # defaults filled in
    assert "spawn" in cfg.env


def test_vbot_env_trains_one_iteration_with_every_reward_term(run_root):
    """Integration with the real sim: tiny batch, one iteration, one short evaluation."""
    cfg = tiny_config(env_id="vbot_navigation_section001", num_envs=4, max_env_steps=4 * 8, check_point_interval=1)
    cfg = resolve_train_config(base=cfg, overrides=["env.episode_length_s=0.05", "eval.episodes=2"])
    runner = OnPolicyRunner(cfg, create_run_dir(run_root, cfg.env_id))
    seen = {}
    result = train(runner, lambda stats: seen.update(stats.scalars))
    assert result.iterations == 1
    for term in (t for t, scale in cfg.reward["scales"].items() if scale != 0):  # the env skips 0-scale terms
        assert f"Reward Instant / {term} (mean)" in seen
    assert "metrics / success_rate" in seen and "metrics / distance_to_target" in seen


def test_dummy_env_state_round_trip():
    env = make_env("dummy:point_nav", 4, seed=1)
    env.reset(seed=1)
    rng = np.random.default_rng(0)
    for _ in range(30):
        env.step(rng.uniform(-1, 1, (4, 2)))
    state = env.get_state()
    actions = rng.uniform(-1, 1, (50, 4, 2))
    first = [env.step(a)[0] for a in actions]
    env.set_state(state)
    second = [env.step(a)[0] for a in actions]
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
