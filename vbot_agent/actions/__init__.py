"""The action registry (docs/design.md, "Actions"). ``REGISTRY.get(name)`` is the one lookup.

Each domain module lists its actions in ``ACTIONS``; importing them is cheap because every
action function imports its heavy dependencies when it runs.
"""

from vbot_agent.actions import (
    agent_actions,
    campaign_actions,
    curriculum_actions,
    deploy_actions,
    reward_actions,
    sim_actions,
    train_actions,
    tui_actions,
)
from vbot_agent.actions.registry import Action, Param, Registry

REGISTRY = Registry()
for _module in (sim_actions, train_actions, deploy_actions, campaign_actions, curriculum_actions, reward_actions, agent_actions,
                tui_actions):
    for _action in _module.ACTIONS:
        REGISTRY.add(_action)

__all__ = ["REGISTRY", "Action", "Param", "Registry"]
