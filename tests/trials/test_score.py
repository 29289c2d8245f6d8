"""The score: measured terms only, each one moves it, nothing constant."""

import math

import pytest

from vbot_agent.errors import VbotError
from vbot_agent.trials.score import METRIC_KEYS, ScoreWeights, compute_score, formula

BASE = {"success_rate": 0.5, "competition_points": 1.0, "fall_rate": 0.2, "time_to_target_s": 12.0,
        "episode_time_s": 20.0}


@pytest.mark.parametrize("key,delta,direction", [
    ("success_rate", 0.1, +1), ("competition_points", 0.3, +1), ("fall_rate", 0.1, -1),
    ("time_to_target_s", 2.0, -1), ("episode_time_s", 5.0, +1),
])
def test_each_measured_input_moves_the_score(key, delta, direction):
    weights = ScoreWeights()
    moved = compute_score({**BASE, key: BASE[key] + delta}, weights) - compute_score(BASE, weights)
    assert moved != 0.0 and math.copysign(1, moved) == direction


def test_score_has_no_constant_term():
    # All measured terms at their "nothing happened" value -> 0, and the score is linear in them.
    zero = {"success_rate": 0.0, "competition_points": 0.0, "fall_rate": 0.0, "time_to_target_s": 0.0,
            "episode_time_s": 20.0}
    assert compute_score(zero, ScoreWeights()) == 0.0
    text = formula(ScoreWeights())
    for term in ("success_rate", "competition_points", "fall_rate", "time_to_target_s"):
        assert term in text
    # every additive piece of the formula multiplies a measurement
    pieces = text.split("=", 1)[1].replace(" - ", " + ").split(" + ")
    assert all("*" in piece and any(k in piece for k in METRIC_KEYS) for piece in pieces)


@pytest.mark.parametrize("key", METRIC_KEYS)
def test_missing_or_nan_measurement_is_an_error_not_a_default(key):
    with pytest.raises(VbotError, match=key):
        compute_score({k: v for k, v in BASE.items() if k != key}, ScoreWeights())
    with pytest.raises(VbotError, match=key):
        compute_score({**BASE, key: float("nan")}, ScoreWeights())


def test_zero_weight_is_refused():
    with pytest.raises(ValueError, match="fall_rate"):
        ScoreWeights(fall_rate=0.0)


def test_points_term_is_a_fraction_of_the_envs_maximum():
    """A course's points (out of 20, 60, 105 per robot) weigh as much as the flat arena's (out of 2)."""
    from vbot_agent.trials.trainer_backend import metrics_from_result

    flat = {**BASE, "competition_points": 1.0}  # no max_points: the flat arena's 2
    course = {**BASE, "competition_points": 10.0, "max_points": 20.0}
    assert compute_score(flat, ScoreWeights()) == pytest.approx(compute_score(course, ScoreWeights()))
    result = {"episodes": 4, "success_rate": 0.5, "fall_rate": 0.0, "mean_time_to_target_s": 30.0,
              "competition_points": 40.0, "max_competition_points": 80}
    metrics = metrics_from_result(result, 60.0)
    assert (metrics["competition_points"], metrics["max_points"]) == (10.0, 20.0)
    assert "points_by_item" not in metrics  # none reported: none recorded
    items = metrics_from_result({**result, "points_by_item": {"zone_left": 4.0, "packet_left": 6.0}}, 60.0)
    assert items["points_by_item"] == {"zone_left": 4.0, "packet_left": 6.0}
    with pytest.raises(VbotError, match="max_points"):
        compute_score({**course, "max_points": 0}, ScoreWeights())
