"""The skills stay true by construction: quoted numbers match what ships, commands use real values.

Each rule of ``skill_facts`` is shown to catch a drifted quote on a small skill of its own, and the
real skills must lint clean, so a skill quoting a number that no longer ships fails here.
"""

from __future__ import annotations

import re

import pytest

from tests.agent.conftest import SKILLS, good_front, write_skill
from vbot_agent.agent.lint import check_command, lint_skills
from vbot_agent.agent.skill_facts import RULES, normalise, quoted
from vbot_agent.agent.skills import find_skill, load_skill
from vbot_agent.errors import UsageError


def test_the_real_skills_quote_only_what_ships():
    skills, issues = lint_skills(SKILLS)
    assert len(skills) >= 7
    assert issues == [], "\n".join(map(str, issues))


def test_the_curriculum_skill_quotes_both_plans_bars():
    texts = [text for rule, text in quoted(find_skill("curriculum-learning", SKILLS)) if rule == "a plan's success bars"]
    assert any(t.startswith("`spawn_distance`") for t in texts) and any(t.startswith("`terrain`") for t in texts)


# (skill name, true sentence, drifted sentence, rule that must catch the drift)
DRIFTS = [
    ("any-skill", "the default scales: `progress` 2.0 and `termination` −10.",
     "the default scales: `progress` 3.0 and `termination` −10.", "default reward scale"),
    ("any-skill", "`spawn_distance` asks for 0.6, 0.6 and 0.5.",
     "`spawn_distance` asks for 0.8, 0.6 and 0.5.", "a plan's success bars"),
    ("any-skill", "targets 2–5 m away, then 5–8 m, then 8–11 m.",
     "targets 2–5 m away, then 5–8 m, then 10–11 m.", "target distance range"),
    ("curriculum-learning", "Advance when success is ≥ 0.6 twice.", "Advance when success is ≥ 0.85 twice.",
     "curriculum success bar"),
    ("curriculum-learning", "scale the learning rate by 0.5× on a new stage.", "scale it by 0.3× on a new stage.",
     "warm-start learning-rate multiplier"),
    ("any-skill", "+1 inside the 0.75 m inner fence.", "+1 inside the 1.0 m inner fence.", "inner fence"),
    ("any-skill", "reached within 0.3 m before the time limit.", "reached within 0.5 m before the time limit.",
     "competition radius"),
    ("any-skill", "progress (capped at 1 m/s).", "progress (capped at 1.5 m/s).", "progress speed cap"),
    ("any-skill", "an alive bonus of 0.05 per step is worth 0.05 × 2000 = 100 per episode.",
     "an alive bonus of 0.05 per step is worth 0.05 × 2000 = 150 per episode.", "lazy robot arithmetic"),
]


@pytest.mark.parametrize("name, true, drifted, rule", DRIFTS, ids=[d[3] for d in DRIFTS])
def test_each_rule_catches_its_drift(tmp_path, name, true, drifted, rule):
    assert rule in {r.name for r in RULES}
    good = load_skill(write_skill(tmp_path / "good", name, good_front(name), f"# T\n\n{true}\n"))
    bad = load_skill(write_skill(tmp_path / "bad", name, good_front(name), f"# T\n\n{drifted}\n"))
    _, good_issues = lint_skills(good.path)
    assert [str(i) for i in good_issues] == []
    _, bad_issues = lint_skills(bad.path)
    assert any(rule in i.message for i in bad_issues), [str(i) for i in bad_issues]


def test_the_old_curriculum_claims_would_fail(tmp_path):
    """What the skill used to say: a 0.8 bar for spawn_distance."""
    text = "`spawn_distance` asks for 0.8, 0.8 and 0.8."
    skill = load_skill(write_skill(tmp_path, "curriculum-learning", good_front("curriculum-learning"), text))
    _, issues = lint_skills(skill.path)
    assert any("plan spawn_distance asks for 0.6, 0.6, 0.5" in i.message for i in issues)


@pytest.mark.slow
def test_the_default_reward_budget_is_what_the_audit_measures():
    """The reward skill's budget of the default config, against `vbot reward audit` of it (±1 per number)."""
    from vbot_agent.rewards.audit import audit_reward

    text = normalise(find_skill("reward-penalty-engineering", SKILLS).path.read_text())
    text = re.sub(r"\s+", " ", text)
    m = re.search(r"progress ≈ (\d+), arrival (\d+), hold ≈ (\d+), heading ≈ (\d+), about (\d+) in all; "
                  r"standing still earns about (-?\d+), hovering at the edge about (-?\d+), sprinting and falling "
                  r"about (-?\d+), falling at once (-?\d+)", text)
    assert m, "the reward skill no longer quotes the default budget in the form this test reads"
    result = audit_reward()
    walk = result["behaviours"]["walk_and_stop"]
    measured = [walk["terms"]["progress"], walk["terms"]["arrival"], walk["terms"]["hold"], walk["terms"]["heading"],
                sum(v for v in walk["terms"].values() if v > 0)] + [
        result["behaviours"][b]["return"] for b in ("stand_still", "hover_at_edge", "sprint_and_fall", "fall_at_once")]
    for quoted_value, value in zip(m.groups(), measured):
        assert abs(float(quoted_value) - value) <= 1.0, (quoted_value, value)


# ------------------------------------------------------------------ command values, not only names
@pytest.mark.parametrize("command, problem", [
    ("vbot train --env vbot_navigation_section021", "unknown env id"),
    ("vbot reward show lazy_robots", "not shipped"),
    ("vbot reward audit --preset lazy", "not shipped"),
    ("vbot curriculum run --plan spawn", "not shipped"),
    ("vbot train --set ppo.learnin_rate=1e-3", "unknown key 'learnin_rate'"),
    ("vbot reward audit --set reward.scales.alivee=1", "unknown reward term 'alivee'"),
    ("vbot automl --config starter_kit_schedule/templates/automl_config.yaml", "not a file that `vbot init` ships"),
])
def test_lint_checks_the_values_a_command_gives(command, problem):
    with pytest.raises(UsageError, match=re.escape(problem)):
        check_command(command)


@pytest.mark.parametrize("command", [
    "vbot train --env vbot_navigation_section013 --set ppo.learning_rate=3e-4",
    "vbot reward show lazy_robot",
    "vbot reward audit --preset all --set reward.scales.arrival=20",
    "vbot curriculum run --plan spawn_distance",
    "vbot curriculum run --plan my_plan.yaml",
    "vbot automl --config starter_kit_schedule/templates/automl.yaml",
])
def test_lint_accepts_real_values(command):
    check_command(command)
