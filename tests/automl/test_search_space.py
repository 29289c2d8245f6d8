"""The search space: parsing, modes, known-good entries, keys checked by the real trainer config."""

import pytest
from campaign_kit import SEARCH_SPACE

from vbot_agent.automl.search_space import (
    check_keys,
    decode_from_optuna,
    encode_for_optuna,
    parse_search_space,
    split_values,
)
from vbot_agent.errors import UsageError
from vbot_agent.trials import trainer_backend as trainer


def test_modes_split_ppo_settings_and_reward_weights():
    space = parse_search_space(SEARCH_SPACE)
    assert set(space.for_mode("hp").keys()) == {"ppo.learning_rate", "ppo.entropy_coef", "policy.actor_hidden_dims"}
    assert set(space.for_mode("reward").keys()) == {"reward.scales.progress", "reward.scales.reached"}
    assert space.for_mode("stage").keys() == space.keys()
    assert space.for_mode("reward").known_good == ()  # the known-good entry has no reward keys


def test_categorical_lists_round_trip_through_optuna_and_overrides():
    space = parse_search_space(SEARCH_SPACE)
    values = {"policy.actor_hidden_dims": [64, 64], "ppo.learning_rate": 3e-4}
    assert decode_from_optuna(space, encode_for_optuna(space, values)) == values
    assert "policy.actor_hidden_dims=[64, 64]" in trainer.to_overrides(values)
    params, scales = split_values({"reward.scales.arrival": 2.0, "ppo.gamma": 0.99})
    assert params == {"ppo.gamma": 0.99} and scales == {"arrival": 2.0}


@pytest.mark.parametrize("bad,match", [
    ({"params": {"ppo.learning_rate": {"type": "float", "low": 1, "high": 0.1}}}, "below"),
    ({"params": {"ppo.learning_rate": {"type": "flaot", "low": 0.1, "high": 1}}}, "type"),
    ({"params": {"ppo.learning_rate": {"type": "float", "low": 0.1, "high": 1, "lgo": True}}}, "lgo"),
    ({"params": {"lr": {"type": "float", "low": 0.1, "high": 1}}}, "dotted"),
    ({"params": SEARCH_SPACE["params"], "known_good": [{"ppo.learning_rate": 5.0}]}, "outside"),
    ({"params": SEARCH_SPACE["params"], "known_good": [{"ppo.learnig_rate": 1e-3}]}, "did you mean"),
])
def test_malformed_spaces_are_refused_with_the_key(bad, match):
    with pytest.raises(UsageError, match=match):
        parse_search_space(bad)


def _check(space_params, env_id="dummy:point_nav"):
    space = parse_search_space({"params": space_params})
    check_keys(space, lambda a: trainer.check_overrides(env_id, {}, a))


def test_keys_resolve_against_the_trainer_config():
    _check(SEARCH_SPACE["params"])


@pytest.mark.parametrize("key,match", [
    ("ppo.learnin_rate", "did you mean learning_rate"),
    ("reward.scales.arival", "unknown reward term"),
    ("policy.width", "unknown key"),
])
def test_keys_the_trainer_does_not_use_are_refused(key, match):
    with pytest.raises(UsageError, match=match):
        _check({key: {"type": "float", "low": 0.1, "high": 1.0}})


def test_values_out_of_the_trainers_range_are_refused():
    # ppo.gamma must be in (0, 1]: the upper bound 1.5 is resolved through TrainConfig and refused.
    with pytest.raises(UsageError, match="gamma"):
        _check({"ppo.gamma": {"type": "float", "low": 0.9, "high": 1.5}})


def test_the_first_known_good_trial_is_vbot_train_s_defaults():
    """The budget planner times the trainer's default config; the campaign's first trial must be
    that config, or the plan's trial lengths are wrong from the first trial on."""
    import yaml

    from vbot_agent.config import to_dict
    from vbot_agent.rl.config import TrainConfig
    from vbot_agent.sim.rewards import DEFAULT_SCALES
    from vbot_agent.workspace.init import SEED_DIR

    template = yaml.safe_load((SEED_DIR / "templates" / "search_space.yaml").read_text())
    defaults = to_dict(TrainConfig())
    for key, value in template["known_good"][0].items():
        section, _, name = key.rpartition(".")
        expected = DEFAULT_SCALES[name] if section == "reward.scales" else defaults[section][name]
        assert value == (list(expected) if isinstance(expected, tuple) else expected), key
