"""Budget planning: trial count, trial length and the final run from the budget and the measured rate."""

from __future__ import annotations

import json
import os
from dataclasses import replace

import pytest
import yaml

from tests.harness.campaign_kit import automl_config, vbot, write_config
from vbot_agent.automl.budget import TRIAL_OVERHEAD_S, apply_plan, plan_campaign
from vbot_agent.automl.settings import AutomlSettings, PrunerSettings
from vbot_agent.errors import UsageError

AUTO = AutomlSettings(budget_hours=1.0, hp_trials=None, trial_steps=None, final_steps=None,
                      pruner=PrunerSettings(type="median"))


def test_one_hour_at_20k_steps_per_s():
    plan = plan_campaign(AUTO, 20_000.0, "test")
    # usable 0.9 * 3600 = 3240 s; final 0.5 * 3240 - 20 = 1600 s -> 32.0M env steps, costing 1600 + 20 s
    assert plan.final_steps == 32_000_000
    assert plan.final_hours == pytest.approx((32_000_000 / 20_000 + TRIAL_OVERHEAD_S) / 3600)
    # search: 3240 - 1620 = 1620 s; a trial of 4M costs 200 + 20 = 220 s -> 7 trials (1540 s)
    assert (plan.hp_trials, plan.trial_steps) == (7, 4_000_000)
    assert plan.estimate_hours <= 1.0
    assert plan.warnings == ()


def test_successive_halving_plans_longer_trials_that_cost_less_on_average():
    settings = replace(AUTO, pruner=PrunerSettings(type="successive_halving", reduction_factor=3))
    plan = plan_campaign(settings, 20_000.0, "test")
    # trials run to 4M; the i-th goes on to 12M when it is the best so far (i < 6): expected
    # 1 + 1/2 + 1/3 of 3 trials go on, so 3 x 4M + 1.83 x 8M = 26.7M env steps = 1333 s + 3 x 20 s;
    # a 4th (1713 s) would not fit the search's 1620 s
    assert (plan.trial_steps, plan.first_rung_steps, plan.hp_trials) == (12_000_000, 4_000_000, 3)
    assert plan.search_hours * 3600 == pytest.approx((12e6 + (1 + 1 / 2 + 1 / 3) * 8e6) / 20_000 + 60)
    assert plan.final_steps == 32_000_000
    assert apply_plan(settings, plan).final_reserve_hours == pytest.approx(plan.final_hours, abs=1e-4)


def test_trials_that_continue_the_best_policy_are_planned_to_their_end():
    """trials_from: best: a continuing trial starts ahead of every fresh rung score, so halving
    would stop none of them; the plan counts each trial's whole 12M env steps."""
    settings = replace(AUTO, pruner=PrunerSettings(type="successive_halving", reduction_factor=3),
                       trials_from="best", search_space={"params": {"ppo.learning_rate": {
                           "type": "float", "low": 1e-4, "high": 1e-2, "log": True}}})
    plan = plan_campaign(settings, 20_000.0, "test")
    # search 1620 s; a 12M trial costs 600 + 20 s: 2 trials
    assert (plan.trial_steps, plan.hp_trials) == (12_000_000, 2)
    assert plan.search_hours * 3600 == pytest.approx(2 * (12e6 / 20_000 + TRIAL_OVERHEAD_S))


def test_given_values_are_kept_and_only_auto_ones_planned():
    settings = replace(AUTO, trial_steps=5_000_000, final_steps=10_000_000)
    plan = plan_campaign(settings, 20_000.0, "test")
    assert (plan.trial_steps, plan.final_steps) == (5_000_000, 10_000_000)
    # search: 3240 - (500 + 20) = 2720 s; trials of 250 + 20 = 270 s -> 10
    assert plan.hp_trials == 10
    planned = apply_plan(settings, plan)
    assert (planned.hp_trials, planned.trial_steps, planned.final_steps) == (10, 5_000_000, 10_000_000)


def test_a_budget_too_small_for_a_search_says_so():
    plan = plan_campaign(replace(AUTO, budget_hours=0.25), 20_000.0, "test")
    assert plan.hp_trials == 1
    assert any("cannot learn" in w for w in plan.warnings)
    with pytest.raises(UsageError, match=r"--budget-hours 0\.\d+ or more"):
        plan_campaign(replace(AUTO, budget_hours=0.05), 20_000.0, "test")


def test_short_trials_are_warned_about():
    plan = plan_campaign(replace(AUTO, trial_steps=200_000), 20_000.0, "test")
    assert any("tied scores" in w for w in plan.warnings)


def test_dry_run_prints_the_plan_and_starts_nothing(workspace, monkeypatch):
    monkeypatch.setenv("FAKE_STEPS_PER_S", "20000")
    config = write_config(workspace, hp_trials="auto", trial_steps="auto", final_steps="auto",
                          min_trial_steps=4_000_000, pruner={"type": "none"})
    proc = vbot(workspace, "automl", "--config", str(config), "--budget-hours", "1", "--dry-run", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["plan"]["hp_trials"] == 7 and out["plan"]["final_steps"] == 32_000_000
    assert "search: 7 trials x 4,000,000 env steps" in proc.stderr
    assert not (workspace / "starter_kit_schedule/progress/automl_state.yaml").exists()
    cache = yaml.safe_load((workspace / "starter_kit_schedule/progress/throughput.yaml").read_text())
    assert [entry["env_steps_per_s"] for entry in cache.values()] == [20000.0]
    # the second plan reuses the measurement
    monkeypatch.setenv("FAKE_STEPS_PER_S", "1")
    again = vbot(workspace, "automl", "--config", str(config), "--budget-hours", "1", "--dry-run", "--json")
    assert json.loads(again.stdout)["plan"]["hp_trials"] == 7
    assert "cached in" in again.stderr


def test_auto_on_the_command_line_and_a_dry_run_of_given_counts(workspace, monkeypatch):
    """`--hp-trials auto` plans from the command line; a dry run of given counts still estimates
    them and warns as a plan would (the 20 x 200k-step campaign that ended all tied)."""
    monkeypatch.setenv("FAKE_STEPS_PER_S", "20000")
    config = write_config(workspace, hp_trials=20, trial_steps=200_000, final_steps=2_000_000,
                          min_trial_steps=4_000_000, pruner={"type": "none"})
    given = vbot(workspace, "automl", "--config", str(config), "--budget-hours", "1", "--dry-run", "--json")
    assert given.returncode == 0, given.stderr
    plan = json.loads(given.stdout)["plan"]
    assert (plan["hp_trials"], plan["trial_steps"], plan["final_steps"]) == (20, 200_000, 2_000_000)
    assert plan["estimate_hours"] > 0 and any("tied scores" in w for w in plan["warnings"])
    auto = vbot(workspace, "automl", "--config", str(config), "--budget-hours", "1", "--hp-trials", "auto",
                "--trial-steps", "auto", "--final-steps", "auto", "--dry-run", "--json")
    assert auto.returncode == 0, auto.stderr
    assert json.loads(auto.stdout)["plan"]["hp_trials"] == 7
    bad = vbot(workspace, "automl", "--config", str(config), "--hp-trials", "2.5", "--dry-run")
    assert bad.returncode == 2 and "--hp-trials: expected a whole number >= 1 or auto" in bad.stderr


def test_dry_run_with_resume_is_refused(workspace):
    proc = vbot(workspace, "automl", "--resume", "--dry-run")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1


def test_the_shipped_template_plans_itself():
    from vbot_agent.automl.settings import resolve_settings
    from vbot_agent.workspace.init import TEMPLATE_DIR

    settings = resolve_settings(TEMPLATE_DIR / "automl.yaml", {"budget_hours": 1.0})
    assert (settings.hp_trials, settings.trial_steps, settings.final_steps) == (None, None, None)
    assert automl_config()["hp_trials"] == 4  # the harness keeps explicit counts


def test_the_throughput_cache_keeps_one_figure_per_network():
    """A rate measured with one actor network is not used to plan trials of another."""
    from vbot_agent.automl.budget import machine_key

    default = machine_key("vbot_navigation_section001", 1024)
    assert default.endswith("|1024 envs|actor 256-128-64")
    smaller = machine_key("vbot_navigation_section001", 1024, {"policy": {"actor_hidden_dims": [128, 128, 64]}})
    assert smaller.endswith("|actor 128-128-64") and smaller != default


def test_the_throughput_cache_is_dated_expires_and_can_be_measured_again(tmp_path):
    from vbot_agent.automl.budget import CACHE_MAX_AGE_DAYS, loaded_measurement_warning, training_throughput
    from vbot_agent.workspace.state import parse_time as parse_iso

    measured = []

    class Backend:
        rate = 20_000.0

        @staticmethod
        def measure_throughput(env_id, num_envs, train):
            measured.append(Backend.rate)
            return Backend.rate

    cache = tmp_path / "throughput.yaml"
    said = []
    rate, source, load = training_throughput(cache, Backend, AUTO, say=said.append)
    assert rate == 20_000.0 and source.startswith("measured now") and measured == [20_000.0]
    entry = next(iter(yaml.safe_load(cache.read_text()).values()))
    assert isinstance(entry["load_1min"], float) and load == entry["load_1min"]
    when = parse_iso(entry["measured_at"])

    Backend.rate = 30_000.0
    rate, source, _ = training_throughput(cache, Backend, AUTO, say=said.append, now=when + 3 * 3600)
    assert rate == 20_000.0 and f"measured {entry['measured_at']} (3 h ago" in source and "--recalibrate" in source
    # a week and a day later the figure is stale: measured again
    rate, _, _ = training_throughput(cache, Backend, AUTO, say=said.append,
                                     now=when + (CACHE_MAX_AGE_DAYS + 1) * 86400)
    assert rate == 30_000.0 and "over 7 days" in said[-2]
    Backend.rate = 40_000.0
    rate, _, _ = training_throughput(cache, Backend, AUTO, say=said.append, recalibrate=True)
    assert rate == 40_000.0 and measured == [20_000.0, 30_000.0, 40_000.0]
    assert next(iter(yaml.safe_load(cache.read_text()).values()))["env_steps_per_s"] == 40_000.0
    assert loaded_measurement_warning(0.0) is None
    assert "--recalibrate" in loaded_measurement_warning(100.0 * (os.cpu_count() or 1))


def test_recalibrate_through_the_cli(workspace, monkeypatch):
    monkeypatch.setenv("FAKE_STEPS_PER_S", "20000")
    config = write_config(workspace, hp_trials="auto", trial_steps="auto", final_steps="auto",
                          min_trial_steps=4_000_000, pruner={"type": "none"})
    args = ("automl", "--config", str(config), "--budget-hours", "1", "--dry-run", "--json")
    assert json.loads(vbot(workspace, *args).stdout)["plan"]["hp_trials"] == 7
    monkeypatch.setenv("FAKE_STEPS_PER_S", "40000")
    proc = vbot(workspace, *args, "--recalibrate")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["plan"]["env_steps_per_s"] == 40000.0 and "measuring training throughput" in proc.stderr
    refused = vbot(workspace, "automl", "--resume", "--recalibrate")
    assert refused.returncode == 2 and "--recalibrate" in refused.stderr and refused.stderr.count("\n") == 1


def test_the_first_trial_and_the_best_so_far_always_train_on():
    """Optuna's successive halving ranks each trial among those ranked before it: the first always
    goes on, so one planned trial costs its whole length (the estimate once said a third of it)."""
    from vbot_agent.automl.budget import expected_full_trials, search_seconds

    assert expected_full_trials(1, 3) == 1
    assert expected_full_trials(3, 3) == pytest.approx(1 + 1 / 2 + 1 / 3)
    assert expected_full_trials(6, 3) == pytest.approx(1 + 1 / 2 + 1 / 3 + 1 / 4 + 1 / 5 + 2 / 6)
    assert search_seconds(1, 4_000_000, 12_000_000, 3, 20_000.0) == 600 + TRIAL_OVERHEAD_S
    assert search_seconds(2, 4_000_000, 12_000_000, None, 20_000.0) == 2 * (600 + TRIAL_OVERHEAD_S)


def test_optuna_halving_promotes_the_first_trial_the_best_so_far_and_ties():
    """The rule the plan assumes, checked against the pruner campaigns use."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0),
                                pruner=optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3))

    def goes_on(value: float) -> bool:
        trial = study.ask()
        trial.report(value, 1)
        pruned = trial.should_prune()
        study.tell(trial, state=optuna.trial.TrialState.PRUNED) if pruned else study.tell(trial, value)
        return not pruned

    assert [goes_on(v) for v in (0.2, 0.1, 0.3, 0.3, 0.25)] == [True, False, True, True, False]


def test_the_random_search_warning_names_the_enqueued_known_good_trial():
    plan = plan_campaign(replace(AUTO, hp_trials=3), 20_000.0, "test", known_good=1)
    assert any(w.startswith("trial 0 runs the search space's known-good config and the other") for w in plan.warnings)
    assert not any(w.startswith("all ") for w in plan.warnings)


def test_an_unfinished_curriculum_refuses_a_new_campaign_before_any_measurement(workspace, monkeypatch):
    """A start, or a dry run, is refused before the plan measures the training rate, naming the
    curriculum's own command."""
    from vbot_agent.workspace import Paths
    from vbot_agent.workspace.state import StateWriter, new_state

    monkeypatch.setenv("FAKE_STEPS_PER_S", "20000")
    paths = Paths(workspace)
    state = new_state(automl_id="curriculum_x", settings={"mode": "curriculum", "env_id": "vbot_navigation_terrain",
                                                           "budget_hours": 0.0},
                      storage="none", study_name="none", score_formula="f")
    state.update(mode="curriculum", status="stopped",
                 curriculum={"plan": "p.yaml", "plan_name": "p", "status": "stopped", "stage_index": 0,
                             "message": None, "stages": [{"name": "a", "status": "running"}]})
    StateWriter(paths.state_file, workspace / "snapshot.yaml", None).write(state)
    config = write_config(workspace, hp_trials="auto", trial_steps="auto", final_steps="auto",
                          min_trial_steps=4_000_000, pruner={"type": "none"})
    dry = vbot(workspace, "automl", "--config", str(config), "--budget-hours", "1", "--dry-run")
    assert dry.returncode == 2 and "a campaign here would be refused: curriculum curriculum_x" in dry.stderr
    real = vbot(workspace, "automl", "--config", str(config), "--budget-hours", "1")
    assert real.returncode == 2 and "continue it with `vbot curriculum run`" in real.stderr
    assert "measuring" not in real.stderr + dry.stderr
    assert not (workspace / "starter_kit_schedule/progress/throughput.yaml").exists()
    # stuck: the edit that lets it go on, then the run; never a new campaign over its state
    state["curriculum"].update(status="stuck", stages=[{"name": "a", "status": "stuck", "stuck_at_steps": 3_000_000}])
    StateWriter(paths.state_file, workspace / "snapshot.yaml", paths.state_file.read_text()).write(state)
    stuck = vbot(workspace, "automl", "--config", str(config), "--budget-hours", "1", "--dry-run")
    assert stuck.returncode == 2 and "(status stopped, curriculum stuck)" in stuck.stderr
    assert "continue it with `vbot curriculum edit --set a.steps=6000000`, then `vbot curriculum run`" in stuck.stderr
    assert "never over this one's state" in stuck.stderr and "away" not in stuck.stderr


def test_a_pruned_trial_names_its_pruner_rule():
    from vbot_agent.automl.trial_runs import prune_reason

    halving = prune_reason(PrunerSettings(type="successive_halving", reduction_factor=3), 1, -0.105)
    assert halving == ("pruned at evaluation 1 (score -0.105, outside the top 1/3 of the trials ranked at that "
                       "evaluation (the best alone until 6 are))")
    assert "median" in prune_reason(PrunerSettings(type="median"), 2, 0.1) and "median" not in halving
