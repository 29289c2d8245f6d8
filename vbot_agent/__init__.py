"""vbot-agent: train the VBot quadruped to navigate in MuJoCo and run campaigns around it.

Importing the package registers every VBot env id with Gymnasium as ``vbot_agent/<env_id>``
(entry points are strings, so nothing heavy is imported here).
"""

__version__ = "0.1.0"


def _register_gymnasium_envs() -> None:
    import gymnasium

    from vbot_agent.sim.registry import ENV_IDS

    for env_id in ENV_IDS:
        gym_id = f"vbot_agent/{env_id}"
        if gym_id not in gymnasium.registry:
            gymnasium.register(
                id=gym_id,
                entry_point="vbot_agent.sim.gym_wrappers:VBotGymEnv",
                vector_entry_point="vbot_agent.sim.gym_wrappers:VBotGymVectorEnv",
                kwargs={"env_id": env_id},
                max_episode_steps=None,
            )


_register_gymnasium_envs()
