"""vbot-agent: train the VBot quadruped to navigate in MuJoCo and run campaigns around it.

The Gymnasium view of the envs registers itself when ``vbot_agent.sim.gym_wrappers`` is imported
(as ``vbot_agent/<env_id>``); importing this package does not import Gymnasium (~0.2 s that every
``vbot`` command would pay). ``gymnasium.make("vbot_agent.sim.gym_wrappers:vbot_agent/<env_id>")``
imports it on the way.
"""

__version__ = "0.1.0"
