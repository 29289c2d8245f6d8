"""What an env id stands for: the record the registry lists and the task is built from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EnvSpec:
    env_id: str
    summary: str
    terrain: str  # name in vbot_agent.sim.terrain
