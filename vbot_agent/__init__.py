"""vbot-agent: train the VBot quadruped to navigate in MuJoCo and run campaigns around it.

Importing the package registers every VBot env id with Gymnasium as ``vbot_agent/<env_id>``.
Gymnasium itself costs ~0.2 s to import, which every ``vbot`` command would pay, so when it is not
loaded yet the registration waits for its import (a one-shot import hook) instead of forcing it.
"""

import importlib.abc
import importlib.util
import sys

__version__ = "0.1.0"


def register_gymnasium_envs() -> None:
    """Register every env id with Gymnasium (idempotent)."""
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
            )


class _RegisterAfterGymnasiumImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself; when ``gymnasium`` is imported, runs the registration right after."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "gymnasium":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_then_register(module):
            exec_module(module)
            register_gymnasium_envs()

        spec.loader.exec_module = exec_then_register
        return spec


if "gymnasium" in sys.modules:
    register_gymnasium_envs()
elif not any(isinstance(f, _RegisterAfterGymnasiumImport) for f in sys.meta_path):
    sys.meta_path.insert(0, _RegisterAfterGymnasiumImport())
