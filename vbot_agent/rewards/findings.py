"""What a diagnosis rule returns, and the ``vbot`` commands that test a fix.

A :class:`Finding` says where its evidence came from (``source``): ``config`` (the run's resolved
config, or the reward audit of it: true at any age), ``logs`` (the logged series) or ``rollout``
(episodes of the checkpoint). Every evidence value is a number, a name or a list of them, never
None: a rule that lacks a number stays quiet instead of printing ``None``.

A suggested test must change something: :func:`changed` drops every ``key=value`` that the run
already has, so a rule never proposes setting a scale to the value it already has.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from vbot_agent.rewards.run_data import RunData

SOURCES = ("config", "logs", "rollout")


@dataclass(frozen=True)
class Finding:
    id: str
    severity: str  # high | medium | low
    title: str
    evidence: dict[str, Any]
    cause: str
    fix: str
    command: str
    source: str = "logs"  # one of SOURCES, or several joined by "+"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fmt(x: float | None) -> float | None:
    """A number rounded for evidence (4 decimals); None for a missing or non-finite one."""
    return None if x is None or not math.isfinite(x) else round(float(x), 4)


def current_value(data: RunData, key: str) -> Any:
    """The run's value of a dotted config key (``reward.scales.alive``), None when it has none."""
    if key.startswith("reward.scales."):
        return data.scales.get(key.split(".", 2)[2], 0.0)  # an absent scale is off
    node: Any = data.config
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return str(a) == str(b)


def changed(data: RunData, sets: dict[str, Any]) -> list[str]:
    """``key=value`` strings for the entries of ``sets`` that differ from the run's config."""
    return [f"{k}={_text(v)}" for k, v in sets.items() if not _same(current_value(data, k), v)]


def _text(value: Any) -> str:
    """A ``--set`` value as one shell word: lists without spaces (``[3.0,8.0]``)."""
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_text(v) for v in value) + "]"
    return str(value)


def audit_cmd(data: RunData, sets: dict[str, Any] | None = None) -> str:
    """``vbot reward audit --run RUN --set ...`` with only the settings that change the run's config."""
    return " ".join(["vbot reward audit --run", str(data.run_dir),
                     *[f"--set {s}" for s in changed(data, sets or {})]])


def train_cmd(data: RunData, sets: dict[str, Any], steps: int = 5_000_000) -> str:
    """A short comparison run from the same seed with the settings that change the run's config."""
    seed = data.meta.get("seed", data.config.get("seed", 0))
    return " ".join([f"vbot train --env {data.env_id} --seed {seed} --max-env-steps {steps}",
                     *[f"--set {s}" for s in changed(data, sets)]])


def term_means(data: RunData) -> dict[str, float]:
    """Mean per-step contribution of every logged term with a scale, over the whole run."""
    out = {}
    for name in data.scales:
        s = data.term(name)
        if s is not None:
            out[name] = float(np.mean(s.values))
    return out
