"""Tied and floor scores are found and explained (the sentences every reader prints)."""

from vbot_agent.workspace.search_health import search_warnings

SETTINGS = {"trial_steps": 200_000, "min_trial_steps": 4_000_000}


def trial(score, success, state="complete"):
    return {"state": state, "score": score, "metrics": {"success_rate": success}}


def test_all_trials_at_the_floor_and_tied():
    found = search_warnings([trial(-0.1, 0.0), trial(-0.1, 0.0), trial(None, None, "fail")], SETTINGS)
    assert len(found) == 2
    assert found[0].startswith("score floor: none of the 2 complete trials") and "200,000 env steps" in found[0]
    assert "--trial-steps" in found[0] and "4,000,000" in found[0]
    assert found[1].startswith("tied scores: all 2 complete trials scored -0.1")


def test_tied_but_successful_trials_get_the_tie_advice():
    found = search_warnings([trial(0.5, 0.5), trial(0.5, 0.5)], SETTINGS)
    assert found == ["tied scores: all 2 complete trials scored 0.5, so the sampler learns nothing and the best "
                     "trial is picked by tie; more evaluation episodes (evaluation.final_episodes) or longer "
                     "trials separate them"]


def test_trials_that_differ_give_nothing():
    assert search_warnings([trial(-0.1, 0.0), trial(0.2, 0.3)], SETTINGS) == []
    assert search_warnings([trial(-0.1, 0.0)], SETTINGS) == []  # one trial is no tie
    assert search_warnings([trial(-0.1, 0.0), trial(-0.09, 0.0)], SETTINGS)[0].startswith("score floor")
