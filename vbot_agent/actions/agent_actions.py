"""Actions of this domain (filled in as the features land)."""

from vbot_agent.actions.registry import Action

ACTIONS: list[Action] = []
