"""The trial score: computed from measured evaluation terms only (docs/design.md, "Campaigns" and "Failures we design against").

The prior art hard-wired 30% of its score to constants. Here every term is a measurement of a real
evaluation (per-episode, not instantaneous occupancy), every weight multiplies a measurement, and
there is no additive constant; ``formula`` is the text written into the state and the report.

Inputs (the evaluation contract, see ``vbot_agent.trials.backend``):
    success_rate        fraction of evaluation episodes that reached the target and did not fall, [0, 1]
    competition_points  mean competition points per robot and episode, [0, max_points]
                        (flat arena: +1 inside the inner fence, +1 at the centre, a fall loses them)
    max_points          the most one robot can score in an episode: 2 on the flat arena
                        (MAX_POINTS, the default when absent), a course's section total (20, 60,
                        25 or 105), so the points term is a fraction on every env
    fall_rate           fraction of episodes that ended in a fall, [0, 1]
    time_to_target_s    mean time to reach the target over all episodes, an episode that never
                        reached it counting the full episode time (s)
    episode_time_s      the episode time limit (s), to make the time term unitless
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vbot_agent.errors import VbotError

MAX_POINTS = 2.0  # competition: +1 inner fence, +1 centre (docs/design.md, "Simulation")
METRIC_KEYS = ("success_rate", "competition_points", "fall_rate", "time_to_target_s", "episode_time_s")


@dataclass(frozen=True)
class ScoreWeights:
    """Weight of each measured term; all > 0 so each measurement moves the score."""

    success_rate: float = 0.4
    competition_points: float = 0.3
    fall_rate: float = 0.2
    time_to_target: float = 0.1

    def __post_init__(self) -> None:
        for name in ("success_rate", "competition_points", "fall_rate", "time_to_target"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"score weight {name} must be a number > 0 (every measured term counts), got {value!r}")


LEGEND = ("success_rate, fall_rate: fractions of the evaluation episodes; competition_points: mean points per "
          f"robot and episode, out of max_points ({MAX_POINTS:g} on the flat arena: +1 inside the inner fence, +1 at "
          "the centre; a course's section total); time_to_target_s: a miss counts the full episode_time_s")


# Registry metrics come from each checkpoint's own evaluation episodes (its env's training spawns),
# not from the competition's layout; readers that show them say so in these words.
METRICS_SOURCE = ("measured on the checkpoint's own evaluation episodes (its env's spawns, points per robot), not the "
                  "competition's layout: `vbot play --competition` scores that")


def formula(weights: ScoreWeights) -> str:
    """The score formula as text (written into the state file and report.md)."""
    w = weights
    return (
        f"score = {w.success_rate:g}*success_rate + {w.competition_points:g}*competition_points/max_points"
        f" - {w.fall_rate:g}*fall_rate - {w.time_to_target:g}*time_to_target_s/episode_time_s"
    )


def compute_score(metrics: Mapping[str, Any], weights: ScoreWeights) -> float:
    """Score of one evaluation. Raises VbotError when a term is missing or not a finite number.

    A missing measurement is an error, never a default: a default is how constants crept in before.
    """
    values: dict[str, float] = {}
    for key in METRIC_KEYS:
        value = metrics.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise VbotError(f"evaluation metric {key!r} is {value!r}; the score needs every measured term "
                            f"({', '.join(METRIC_KEYS)}) as a finite number")
        values[key] = float(value)
    if values["episode_time_s"] <= 0:
        raise VbotError(f"evaluation metric episode_time_s must be > 0, got {values['episode_time_s']}")
    max_points = metrics.get("max_points", MAX_POINTS)
    if isinstance(max_points, bool) or not isinstance(max_points, (int, float)) or not max_points > 0:
        raise VbotError(f"evaluation metric max_points must be a number > 0, got {max_points!r}")
    w = weights
    return (
        w.success_rate * values["success_rate"]
        + w.competition_points * values["competition_points"] / float(max_points)
        - w.fall_rate * values["fall_rate"]
        - w.time_to_target * values["time_to_target_s"] / values["episode_time_s"]
    )
