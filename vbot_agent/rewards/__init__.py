"""Reward design tools over the reward terms of ``vbot_agent.sim.rewards``: the budget audit of
reference behaviours, the preset library of the workspace, and the diagnosis of a finished run."""
