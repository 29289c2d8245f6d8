"""The sampler is a real, seeded TPE: the same seed proposes the same trials, another seed others."""

import optuna
from campaign_kit import SEARCH_SPACE

from vbot_agent.automl.search_space import parse_search_space, suggest_values
from vbot_agent.automl.settings import AutomlSettings
from vbot_agent.automl.study import count_done, create_study, quiet_optuna, sqlalchemy_url


def _proposals(seed: int, n: int = 8) -> list[dict]:
    quiet_optuna()
    settings = AutomlSettings(seed=seed, sampler_startup_trials=3, search_space=SEARCH_SPACE)
    space = parse_search_space(SEARCH_SPACE)
    study = create_study(None, f"s{seed}", settings, seed_offset=0)
    assert isinstance(study.sampler, optuna.samplers.TPESampler)
    out = []
    for _ in range(n):
        trial = study.ask()
        values = suggest_values(trial, space)
        study.tell(trial, -abs(values["ppo.learning_rate"] - 1e-3))
        out.append(values)
    return out


def test_same_seed_same_trials_other_seed_other_trials():
    assert _proposals(3) == _proposals(3)
    assert _proposals(3) != _proposals(4)


def test_done_count_excludes_retried_failures():
    study = optuna.create_study()
    study.add_trial(optuna.create_trial(state=optuna.trial.TrialState.FAIL, params={}, distributions={}))
    assert count_done(study.get_trials()) == 1
    study.add_trial(optuna.create_trial(state=optuna.trial.TrialState.WAITING, params={}, distributions={},
                                        system_attrs={"failed_trial": 0, "retry_history": [0]}))
    assert count_done(study.get_trials()) == 0


def test_bare_postgresql_urls_use_the_psycopg2_driver():
    assert sqlalchemy_url("postgresql://u@h/db") == "postgresql+psycopg2://u@h/db"
    assert sqlalchemy_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert sqlalchemy_url("sqlite:///x.db") == "sqlite:///x.db"


def test_a_trial_whose_process_died_before_its_first_heartbeat_is_queued_again(tmp_path):
    """optuna's stale check skips a RUNNING trial with no heartbeat at all (its worker was killed
    between creating it and the heartbeat thread's first beat): the campaign would wait forever."""
    import time
    from types import SimpleNamespace

    import optuna
    from optuna.storages import RDBStorage

    from vbot_agent.automl.recovery import fail_unbeaten

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    storage = RDBStorage(f"sqlite:///{tmp_path / 'study.db'}", heartbeat_interval=1, grace_period=10)
    study = optuna.create_study(storage=storage, study_name="s", direction="maximize")
    study.enqueue_trial({"x": 0.5})
    orphan = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})  # no heartbeat ever
    beating = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    storage.record_heartbeat(beating._trial_id)
    said = []
    session = SimpleNamespace(study=study, say=said.append,
                              settings=SimpleNamespace(timeouts=SimpleNamespace(grace_s=1.5), max_retries=2))
    fail_unbeaten(session)
    # grace periods of seconds, not tenths: on a loaded 2-core machine the first check can come
    # several tenths after the trial was created
    assert study.trials[orphan.number].state.name == "RUNNING"  # younger than the grace period
    time.sleep(1.6)
    fail_unbeaten(session)
    states = [t.state.name for t in study.get_trials(deepcopy=False)]
    assert states[orphan.number] == "FAIL" and states[beating.number] == "RUNNING"
    assert states.count("WAITING") == 1, states
    copy = next(t for t in study.get_trials(deepcopy=False) if t.state.name == "WAITING")
    assert copy.params == study.trials[orphan.number].params
    assert said == [f"trial {orphan.number} never started (no heartbeat after 1.5 s); queued again"]
