"""Gymnasium interop: registration when the wrappers are imported, env_checker, vector API."""

import gymnasium
import numpy as np
from gymnasium.utils.env_checker import check_env

import vbot_agent.sim.gym_wrappers  # noqa: F401  (registers the env ids)
from vbot_agent.sim.registry import ENV_IDS


def test_every_env_id_is_registered():
    for env_id in ENV_IDS:
        assert f"vbot_agent/{env_id}" in gymnasium.registry


def test_single_env_passes_the_checker():
    env = gymnasium.make("vbot_agent/vbot_navigation_section001")
    check_env(env.unwrapped, skip_render_check=True)
    obs, _ = env.reset(seed=1)
    obs2, _ = env.reset(seed=1)
    np.testing.assert_array_equal(obs, obs2)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    assert env.observation_space.contains(obs) and isinstance(reward, float)
    env.close()


def test_vector_env_steps_and_autoresets():
    envs = gymnasium.make_vec("vbot_agent/vbot_navigation_section001", num_envs=4, vectorization_mode="vector_entry_point",
                              config={"episode_length_s": 0.03})
    obs, _ = envs.reset(seed=0)
    assert obs.shape == (4, envs.single_observation_space.shape[0])
    for _ in range(2):
        obs, reward, terminated, truncated, infos = envs.step(envs.action_space.sample())
    obs, reward, terminated, truncated, infos = envs.step(envs.action_space.sample())
    assert truncated.all() and infos["_final_obs"].all()
    envs.close()


def test_package_import_installs_no_import_hook_and_make_names_the_module():
    import subprocess
    import sys

    code = ("import sys; n = len(sys.meta_path); import vbot_agent; assert len(sys.meta_path) == n; "
            "assert 'gymnasium' not in sys.modules; import gymnasium; "
            "env = gymnasium.make('vbot_agent.sim.gym_wrappers:vbot_agent/vbot_navigation_section001'); env.close()")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
