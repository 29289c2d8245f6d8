"""The reward budget audit: numbers per term, verdicts, linearity of the shared play, speed."""

import time

import pytest

from vbot_agent.rewards import audit
from vbot_agent.rewards.audit import BEHAVIOURS, audit_many, audit_reward
from vbot_agent.sim.registry import make_env

HOVER = {"scales": {"arrival": 0.0, "hold": 0.0, "near_target": 3.0}}
MIXED = {"scales": {"alive": 5.0, "orientation": -3.0, "near_target": 1.5}}


@pytest.fixture(scope="module")
def default_and_lazy():
    started = time.perf_counter()
    results = audit_many("vbot_navigation_section001", [None, {"scales": {"alive": 5.0}}, HOVER, MIXED])
    return results, time.perf_counter() - started


def test_default_config_passes_with_the_expected_budget(default_and_lazy):
    (default, *_), _ = default_and_lazy
    assert default["passed"] and default["flags"] == []
    walk = default["behaviours"]["walk_and_stop"]
    d = default["geometry"]["distance_m"]
    assert d == pytest.approx(8.0)  # the far end of the default 3-8 m range
    assert walk["arrived"] and not walk["fell"] and walk["steps"] == 2000
    assert walk["terms"]["progress"] == pytest.approx(2.0 * (d - 0.0), rel=0.03)
    assert walk["terms"]["arrival"] == pytest.approx(10.0)
    assert walk["terms"]["hold"] == pytest.approx(2.0 * (20.0 - d / 0.8), rel=0.05)
    for name in BEHAVIOURS[1:]:
        assert default["behaviours"][name]["return"] < walk["return"] - 0.1 * walk["return"]
    falls = default["behaviours"]["fall_at_once"]
    assert falls["fell"] and falls["steps"] == 1 and falls["terms"]["termination"] == pytest.approx(-10.0)
    sprint = default["behaviours"]["sprint_and_fall"]
    assert sprint["arrived"] and sprint["fell"] and sprint["terms"]["arrival"] == pytest.approx(10.0)
    assert default["behaviours"]["hover_at_edge"]["terms"].get("arrival", 0.0) == 0.0
    assert not default["behaviours"]["hover_at_edge"]["arrived"]


def test_lazy_robot_is_flagged_with_numbers_per_term(default_and_lazy):
    (_, lazy, *_), _ = default_and_lazy
    assert not lazy["passed"]
    flag = next(f for f in lazy["flags"] if f["exploit"] == "lazy_robot")
    assert flag["behaviour"] == "stand_still"
    assert flag["terms"]["alive"]["wrong"] == pytest.approx(100.0, rel=0.01)  # 5/s x 20 s
    assert flag["return"] > 0.5 * flag["right_return"]
    assert "more than 50%" in flag["reason"]


def test_shared_play_equals_playing_the_config_itself(default_and_lazy):
    """Weighing unit-scale totals by the scales gives what the env computes with those scales."""
    (*_, weighed), _ = default_and_lazy
    env = make_env("vbot_navigation_section001", len(BEHAVIOURS), seed=0, threads=1, reward=MIXED,
                   config={"spawn": {"target_distance": [8.0, 8.0], "target_bearing": [0.0, 0.0], "joint_noise": 0.0}})
    env.reset()
    spawn, target = audit._geometry(env, 8.0)
    audit._place_all(env, spawn, target)
    totals, _ = audit._play(env, spawn, target, audit.AuditSettings(), slice(7, 19))
    for row, name in enumerate(BEHAVIOURS):
        direct = sum(float(v[row]) for v in totals.values())
        assert weighed["behaviours"][name]["return"] == pytest.approx(direct, abs=1e-3)


def test_a_wrong_behaviour_within_the_margin_is_flagged(default_and_lazy):
    # No arrival and no hold: hovering at the edge earns almost what arriving earns.
    (_, _, result, _), _ = default_and_lazy
    hover = next(f for f in result["flags"] if f["exploit"] == "hover")
    assert 0 < hover["gap"] < hover["required_gap"]


def test_audit_runs_on_a_course_section():
    # Spawn at the first checkpoint, target the one nearest 7 m ahead: over the bumps to x = -0.2.
    result = audit_reward("vbot_navigation_section011", distance=7.0, env_config={"episode_length_s": 12.0})
    walk = result["behaviours"]["walk_and_stop"]
    assert result["geometry"]["distance_m"] == pytest.approx(7.3)
    assert walk["arrived"] and not walk["fell"] and result["passed"]
