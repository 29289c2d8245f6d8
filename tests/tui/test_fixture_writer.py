"""The TUI fixture writes what the campaign writes: checked against the real writer, key by key."""

from __future__ import annotations

import optuna

from tests.tui.workspace_fixture import make_state, make_workspace
from vbot_agent.automl.search_space import parse_search_space
from vbot_agent.automl.session import trial_record
from vbot_agent.trials.score import METRIC_KEYS, ScoreWeights, compute_score
from vbot_agent.tui.data import trial_row
from vbot_agent.workspace.read_model import read_workspace
from vbot_agent.workspace.state import validate_state


def _real_trial_record() -> dict:
    """A complete trial as the campaign records it (optuna's FrozenTrial through ``trial_record``)."""
    space = parse_search_space({"params": {"ppo.learning_rate": {"type": "float", "low": 1e-4, "high": 1e-2}}})
    metrics = {"success_rate": 0.5, "competition_points": 10.0, "fall_rate": 0.1, "time_to_target_s": 9.5,
               "episode_time_s": 12.0}
    frozen = optuna.trial.create_trial(
        params={"ppo.learning_rate": 1e-3},
        distributions={"ppo.learning_rate": optuna.distributions.FloatDistribution(1e-4, 1e-2)},
        value=compute_score(metrics, ScoreWeights()), user_attrs={"metrics": metrics, "run_dir": "runs/x/y"})
    return trial_record(frozen, space, set())


def test_fixture_state_is_a_valid_state_with_the_real_trial_keys():
    state = make_state(12)
    assert validate_state(state) is None
    real = _real_trial_record()
    for trial in state["trials"]:
        assert set(trial) <= set(real), set(trial) - set(real)
        assert set(trial["metrics"]) <= set(METRIC_KEYS), set(trial["metrics"]) - set(METRIC_KEYS)


def test_trials_table_reads_the_keys_the_campaign_writes():
    row = trial_row(_real_trial_record())
    assert row["time_to_target_s"] == 9.5 and row["success_rate"] == 0.5 and row["params"] == {
        "ppo.learning_rate": 1e-3}


def test_fixture_best_is_the_registry_best(tmp_path):
    view = read_workspace(make_workspace(tmp_path / "ws", tensorboard=False, skills=False))
    assert view.best["trial"] == view.state["best"]["trial"] and view.best["score"] == view.state["best"]["score"]
    assert view.best_run_dir.name == "2026-11-23_08-00-00_PPO"


def test_fixture_progress_has_the_trainer_keys(tmp_path):
    import json

    from vbot_agent.rl.run_dir import ProgressFile

    real = ProgressFile(tmp_path, "vbot_navigation_section001", 1000).data
    root = make_workspace(tmp_path / "ws", tensorboard=False, skills=False)
    for progress in root.glob("runs/*/*/progress.json"):
        assert set(json.loads(progress.read_text())) == set(real)
