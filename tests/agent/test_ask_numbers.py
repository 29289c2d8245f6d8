"""`vbot ask`: numbers written in the request become the proposal's parameters."""

from __future__ import annotations

import pytest

from tests.agent.conftest import SKILLS
from vbot_agent.actions import REGISTRY
from vbot_agent.agent.ask import propose
from vbot_agent.agent.router import extract_values
from vbot_agent.agent.skills import load_skills


@pytest.fixture(scope="module")
def skills():
    return load_skills(SKILLS)


@pytest.mark.parametrize("task, action, expected", [
    ("train a policy for 1M steps", "train", {"max_env_steps": 1_000_000}),
    ("train a policy for 1.5 million env steps with 512 envs", "train", {"max_env_steps": 1_500_000, "num_envs": 512}),
    ("train a policy for 2,000,000 steps on section011", "train",
     {"max_env_steps": 2_000_000, "env": "vbot_navigation_section011"}),
    ("train a policy for 500k steps", "train", {"max_env_steps": 500_000}),
    ("start an automl campaign with 12 trials of 3M steps for 8 hours", "automl",
     {"hp_trials": 12, "trial_steps": 3_000_000, "budget_hours": 8.0}),
    ("run a 2-hour hyperparameter campaign on section001", "automl",
     {"mode": "hp", "budget_hours": 2.0, "env": "vbot_navigation_section001"}),
])
def test_numbers_in_the_request_become_parameters(skills, task, action, expected):
    result = propose(task, skills, REGISTRY)
    assert result["action"] == action
    for key, value in expected.items():
        # campaign counts are text parameters ("auto" or a whole number): compare their value
        assert result["params"][key] in (value, str(value)), (key, result["command"])
    for value in expected.values():
        assert str(value) in result["command"]


def test_counts_are_read_in_every_spelling():
    assert extract_values("1M steps")["max_env_steps"] == 1_000_000
    assert extract_values("2e6 steps")["max_env_steps"] == 2_000_000
    assert extract_values("2_000_000 env steps")["trial_steps"] == 2_000_000
    assert extract_values("a final run of 50M steps") == {"final_steps": 50_000_000}
    assert extract_values("64 parallel envs")["num_envs"] == 64
    assert extract_values("walk 3 m to the target") == {}
