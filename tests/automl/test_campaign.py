"""Whole campaigns through the CLI with the fake trainer: end to end, kill -9 + resume, signals,
the lock, the budget, corruption."""

import json
import os
import signal
import time
from collections import Counter
from pathlib import Path

import yaml
from campaign_kit import (
    SEARCH_SPACE,
    json_out,
    read_state,
    state_or_none,
    trainer_log,
    vbot,
    vbot_background,
    wait_for,
    write_config,
)

from vbot_agent.workspace.search_health import state_warnings

FINISHED_KEYS = ("number", "state", "params", "reward_scales", "metrics", "score", "run_dir", "checkpoint",
                 "started_at", "finished_at", "error")


def _starts(log):
    return Counter(line[1] for line in trainer_log(log) if line[0] == "start")


def _running_trial(root, number):
    state = state_or_none(root)
    if not state:
        return None
    live = state.get("live") or {}
    running = [t for t in state["trials"] if t["number"] == number and t["state"] == "running"]
    return state if running and live.get("run_dir") else None


def test_stage_campaign_end_to_end_then_views_and_corruption(workspace, fake_env, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("FAKE_PLAN", json.dumps({"2": "crash"}))
    proc = vbot(workspace, "automl", "--config", "automl_test.yaml", "--json", check=True)
    result = json_out(proc)
    assert result["status"] == "complete" and result["phase"] == "done"
    state = read_state(workspace)
    assert state["schema_version"] == 1 and state["status"] == "complete"
    trials = {t["number"]: t for t in state["trials"]}
    assert sorted(trials) == [0, 1, 2, 3]
    assert trials[2]["state"] == "fail" and "fake out of memory" in trials[2]["error"]
    # the known-good configuration was enqueued first
    assert trials[0]["params"]["ppo.learning_rate"] == 1e-3
    assert trials[0]["params"]["policy.actor_hidden_dims"] == [32, 32]
    for t in trials.values():
        if t["state"] == "complete":
            assert t["score"] is not None and set(t["reward_scales"]) == {"progress", "reached"}
            assert t["metrics"]["success_rate"] is not None and t["run_dir"]
    best_search = max((t for t in trials.values() if t["state"] == "complete"), key=lambda t: t["score"])
    assert state["final"]["state"] == "complete" and state["final"]["from_trial"] == best_search["number"]
    assert state["final"]["params"] == best_search["params"]
    # the final run continues from the best trial's policy instead of starting over
    assert state["final"]["warm_start"] == str(workspace / best_search["checkpoint"]) or \
        state["final"]["warm_start"] == best_search["checkpoint"]
    assert any(line.startswith("warm@") and line.split()[1].endswith("/final") for line in fake_env.read_text().splitlines())
    assert state_warnings(state) == []  # the fake trials score differently
    assert state["best"]["checkpoint"].endswith("last.pt")
    assert "success_rate" in state["score_formula"] and "fall_rate" in state["score_formula"]
    # every trial trained exactly once (+ the final run)
    starts = _starts(fake_env)
    assert all(n == 1 for n in starts.values()) and len(starts) == 5
    log = workspace / "starter_kit_log" / state["automl_id"]
    for rel in ("configs/automl.yaml", "configs/search_space.yaml", "configs/trial_0000.yaml", "index.yaml",
                "state.yaml", "report.md", "experiments/trial_0001/summary.yaml", "experiments/final/summary.yaml"):
        assert (log / rel).is_file(), rel
    assert state["score_formula"] in (log / "report.md").read_text()
    index = yaml.safe_load((log / "index.yaml").read_text())
    assert [e["number"] for e in index["trials"]] == [0, 1, 2, 3]

    def cli(*args):  # the read-only views in-process (fast); the campaigns above ran as real processes
        from vbot_agent.cli import run

        capsys.readouterr()
        rc = run(["--workspace", str(workspace), *args])
        out, err = capsys.readouterr()
        return rc, out, err

    rc, out, _ = cli("status", "--json")
    status = json.loads(out)
    assert rc == 0 and status["status"] == "complete"
    assert status["trials"] == dict(Counter(t["state"] for t in state["trials"]))
    assert status["trials"]["fail"] == 1 and sum(status["trials"].values()) == 4
    for t in trials.values():  # the median pruner may stop weak trials on their intermediate scores
        if t["state"] == "pruned":
            assert "pruned at evaluation" in t["error"] and t["intermediate"]
    shown = cli("status")[1]
    assert "COMPLETE" in shown and "process   not running (state status complete)" in shown
    assert "points_per_robot " in shown  # not the per-round points `vbot play --competition` prints
    assert "pts/robot" in cli("analyze")[1].splitlines()[2]
    best = json.loads(cli("checkpoints", "--best", "--json")[1])["checkpoints"]
    every = json.loads(cli("checkpoints", "--json")[1])["checkpoints"]
    assert len(best) == 1 and best[0]["score"] == max(c["score"] for c in every)
    assert len(every) == sum(t["state"] == "complete" for t in trials.values()) + 1  # + the final run
    png = tmp_path / "analysis.png"
    rc, out, _ = cli("analyze", "--plot", str(png), "--json")
    analysis = json.loads(out)
    assert rc == 0 and png.stat().st_size > 10_000
    assert [t["number"] for t in analysis["trials"]][:1] == [max(
        (t for t in state["trials"] if t["score"] is not None), key=lambda t: t["score"])["number"]]
    assert analysis["importances"] and analysis["curves"]

    # a hand-broken state: clear error naming the snapshot, nothing overwritten, no new campaign over it
    state_file = workspace / "starter_kit_schedule/progress/automl_state.yaml"
    broken = state_file.read_text().replace("status: complete", "status: complete\n  oops: [", 1)
    state_file.write_text(broken)
    for args in (("automl", "--resume"), ("status",), ("automl", "--config", str(workspace / "automl_test.yaml"))):
        rc, _, err = cli(*args)
        assert rc == 2, (args, err)
        assert str(log / "state.yaml") in err and "cp " in err
    assert state_file.read_text() == broken


def test_kill_9_mid_trial_then_resume(workspace, fake_env, monkeypatch):
    monkeypatch.setenv("FAKE_PLAN", json.dumps({"2": "slow"}))
    monkeypatch.setenv("FAKE_SLOW_FACTOR", "100")  # trial 2 would take ~40 s
    write_config(workspace, mode="hp", pruner={"type": "none"})
    campaign = vbot_background(workspace, "automl", "--config", "automl_test.yaml")
    state = wait_for(lambda: _running_trial(workspace, 2), timeout=60, what="trial 2 running")
    finished = {t["number"]: {k: t[k] for k in FINISHED_KEYS} for t in state["trials"] if t["number"] < 2}
    assert [t["state"] for t in finished.values()] == ["complete", "complete"]
    time.sleep(0.5)
    elapsed_at_kill = read_state(workspace)["elapsed_hours"]
    os.kill(campaign.pid, signal.SIGKILL)
    campaign.wait()
    trial_pid = read_state(workspace)["live"]["pid"]

    status = json_out(vbot(workspace, "status", "--json", check=True))
    assert status["status"] == "died" and status["next"] == "vbot automl --resume"
    assert status["live"] is None  # the dead campaign's last heartbeat named trial 2 as live
    assert "live " not in vbot(workspace, "status", check=True).stdout

    monkeypatch.setenv("FAKE_PLAN", "{}")
    result = json_out(vbot(workspace, "automl", "--resume", "--json", check=True))
    assert result["status"] == "complete"
    state = read_state(workspace)
    trials = {t["number"]: t for t in state["trials"]}
    for number, record in finished.items():  # finished trials unchanged
        assert {k: trials[number][k] for k in FINISHED_KEYS} == record
    assert trials[2]["state"] == "fail" and "interrupted" in trials[2]["error"]
    retry = [t for t in trials.values() if t["retry_of"] == 2]
    assert len(retry) == 1 and retry[0]["state"] == "complete"
    assert retry[0]["params"] == trials[2]["params"] and retry[0]["reward_scales"] == trials[2]["reward_scales"]
    assert sum(t["state"] in ("complete", "pruned") for t in trials.values()) == 4
    starts = _starts(fake_env)
    assert starts[f"{state['automl_id']}/trial_0000"] == 1 and starts[f"{state['automl_id']}/trial_0001"] == 1
    assert all(n == 1 for n in starts.values())  # nothing trained twice
    assert state["elapsed_hours"] > elapsed_at_kill
    assert state["status"] == "complete" and state["phase"] == "done"
    status = json_out(vbot(workspace, "status", "--json", check=True))
    assert sum(status["trials"].values()) == 4 and "fail" not in status["trials"]  # the retry counts once
    assert "trials    4 of 4" in vbot(workspace, "status", check=True).stdout
    assert not os.path.exists(f"/proc/{trial_pid}") or Path(f"/proc/{trial_pid}/stat").read_text().split()[2] == "Z"


def test_kill_9_during_the_final_run_continues_it_from_its_checkpoint(workspace, fake_env, monkeypatch):
    monkeypatch.setenv("FAKE_PLAN", json.dumps({"final": "slow"}))
    monkeypatch.setenv("FAKE_SLOW_FACTOR", "30")  # the final's 200 iterations would take ~60 s
    write_config(workspace, mode="stage", hp_trials=2, trial_steps=20_000, final_steps=200_000,
                 pruner={"type": "none"})
    campaign = vbot_background(workspace, "automl", "--config", "automl_test.yaml")

    def final_checkpointed():
        st = state_or_none(workspace)
        live = (st or {}).get("live") or {}
        return st if live.get("name") == "final" and (live.get("env_steps") or 0) >= 30_000 else None

    state = wait_for(final_checkpointed, timeout=60, what="the final run past its third checkpoint")
    run_dir = Path(state["live"]["run_dir"])
    os.kill(campaign.pid, signal.SIGKILL)
    campaign.wait()

    monkeypatch.setenv("FAKE_PLAN", "{}")
    result = json_out(vbot(workspace, "automl", "--resume", "--json", check=True))
    assert result["status"] == "complete" and result["final"]["state"] == "complete"
    final = read_state(workspace)["final"]
    assert final["state"] == "complete" and Path(final["run_dir"]) == run_dir.resolve()
    assert final["continued_run"] == str(run_dir)
    tag = f"{read_state(workspace)['automl_id']}/final"
    events = [line[0] for line in trainer_log(fake_env) if line[1] == tag]
    resumed_at = [int(e.split("@")[1]) for e in events if e.startswith("resume@")]
    # continued from a checkpoint at least as late as the one seen before the kill, not retrained
    assert events.count("start") == 2 and len(resumed_at) == 1 and 30 <= resumed_at[0] < 200, events
    assert json.loads((run_dir / "checkpoints" / "last.pt").read_text())["iteration"] == 200


def test_a_final_run_that_finished_while_the_campaign_was_down_is_scored_not_retrained(workspace, fake_env):
    write_config(workspace, mode="stage", hp_trials=2, trial_steps=20_000, final_steps=50_000,
                 pruner={"type": "none"})
    vbot(workspace, "automl", "--config", "automl_test.yaml", check=True)
    done = read_state(workspace)
    # What a kill -9 between the trainer's last checkpoint and the campaign's bookkeeping leaves:
    state_file = workspace / "starter_kit_schedule/progress/automl_state.yaml"
    broken = {**done, "status": "running", "phase": "final", "pid": 999_999_999,
              "final": {**done["final"], "state": "running", "metrics": None, "score": None}}
    state_file.write_text(yaml.safe_dump(broken, sort_keys=False))

    result = json_out(vbot(workspace, "automl", "--resume", "--json", check=True))
    assert result["status"] == "complete"
    final = read_state(workspace)["final"]
    assert final["state"] == "complete" and final["run_dir"] == done["final"]["run_dir"]
    assert final["score"] == done["final"]["score"] and final["metrics"] == done["final"]["metrics"]
    starts = _starts(fake_env)
    assert starts[f"{done['automl_id']}/final"] == 1  # scored from its last.pt, not trained again


def test_a_final_recorded_failed_after_its_training_ended_is_scored_not_retrained(workspace, fake_env):
    """The trial process killed between the trainer's end and its result: the campaign records the
    final failed; the resume scores the finished run instead of training it again (soak finding)."""
    write_config(workspace, mode="stage", hp_trials=2, trial_steps=20_000, final_steps=50_000,
                 pruner={"type": "none"})
    vbot(workspace, "automl", "--config", "automl_test.yaml", check=True)
    done = read_state(workspace)
    state_file = workspace / "starter_kit_schedule/progress/automl_state.yaml"
    broken = {**done, "status": "failed", "phase": "final",
              "final": {**done["final"], "state": "fail", "metrics": None, "score": None,
                        "error": "trial process killed (signal 9)"}}
    state_file.write_text(yaml.safe_dump(broken, sort_keys=False))

    result = json_out(vbot(workspace, "automl", "--resume", "--json", check=True))
    assert result["status"] == "complete"
    final = read_state(workspace)["final"]
    assert final["state"] == "complete" and final["run_dir"] == done["final"]["run_dir"]
    assert final["score"] == done["final"]["score"]
    assert _starts(fake_env)[f"{done['automl_id']}/final"] == 1


def test_second_campaign_refused_and_sigterm_stops_gracefully(workspace, fake_env, monkeypatch):
    monkeypatch.setenv("FAKE_PLAN", json.dumps({"1": "slow"}))
    monkeypatch.setenv("FAKE_SLOW_FACTOR", "100")
    write_config(workspace, mode="hp", hp_trials=3, pruner={"type": "none"})
    campaign = vbot_background(workspace, "automl", "--config", "automl_test.yaml")
    wait_for(lambda: _running_trial(workspace, 1), timeout=60, what="trial 1 running")
    for args in (("automl", "--config", "automl_test.yaml"), ("automl", "--resume")):
        second = vbot(workspace, *args)
        assert second.returncode == 1 and "another campaign is running" in second.stderr, second.stderr
    dry = vbot(workspace, "automl", "--config", "automl_test.yaml", "--dry-run")  # measures nothing beside it
    assert dry.returncode == 2 and "would be refused: another campaign or curriculum is running" in dry.stderr
    campaign.send_signal(signal.SIGTERM)
    assert campaign.wait(timeout=30) == 130
    out = (workspace / "campaign.out").read_text()
    assert "vbot automl --resume" in out
    state = read_state(workspace)
    assert state["status"] == "stopped" and "vbot automl --resume" in state["message"]
    trial1 = next(t for t in state["trials"] if t["number"] == 1)
    assert trial1["state"] == "fail" and "interrupted by SIGTERM" in trial1["error"]

    bad = vbot(workspace, "automl", "--resume", "--hp-trials", "9")
    assert bad.returncode == 2 and "--hp-trials" in bad.stderr
    monkeypatch.setenv("FAKE_PLAN", "{}")
    result = json_out(vbot(workspace, "automl", "--resume", "--json", check=True))
    assert result["status"] == "complete"
    trials = read_state(workspace)["trials"]
    assert [t["retry_of"] for t in trials if t["retry_of"] is not None] == [1]
    assert sum(t["state"] == "complete" for t in trials) == 3


def test_budget_is_enforced_inside_a_trial_and_accumulates_across_resume(workspace, fake_env, monkeypatch):
    monkeypatch.setenv("FAKE_PLAN", json.dumps({"*": "slow"}))
    monkeypatch.setenv("FAKE_SLOW_FACTOR", "100")  # 40 s per trial, far over the 3 s budget
    write_config(workspace, mode="hp", hp_trials=2, budget_hours=0.001)
    started = time.time()
    result = json_out(vbot(workspace, "automl", "--config", "automl_test.yaml", "--json", check=True))
    assert time.time() - started < 30
    assert result["status"] == "budget_exhausted"
    state = read_state(workspace)
    assert state["trials"][0]["state"] == "pruned" and "budget" in state["trials"][0]["error"]
    first_elapsed = state["elapsed_hours"]
    assert first_elapsed >= 0.001
    again = vbot(workspace, "automl", "--resume")
    assert again.returncode == 2 and "--budget-hours" in again.stderr
    monkeypatch.setenv("FAKE_PLAN", "{}")
    result = json_out(vbot(workspace, "automl", "--resume", "--budget-hours", "0.5", "--json", check=True))
    assert result["status"] == "complete"
    state = read_state(workspace)
    assert state["budget_hours"] == 0.5 and state["elapsed_hours"] > first_elapsed
    assert state["trials"][0]["state"] == "pruned"  # the budget-stopped trial stays recorded, not rerun


def test_a_final_run_the_budget_stops_is_scored_and_weighed_for_best(workspace, fake_env, monkeypatch):
    """The final run is the campaign's longest training; when the budget ends it, its last policy
    is scored on the trials' episodes and registered, so `best` can pick it over its own trial."""
    monkeypatch.setenv("FAKE_PLAN", json.dumps({"final": "slow"}))
    monkeypatch.setenv("FAKE_SLOW_FACTOR", "30")  # the final's 200 iterations would take ~60 s
    write_config(workspace, mode="stage", hp_trials=1, trial_steps=20_000, final_steps=200_000,
                 pruner={"type": "none"}, budget_hours=0.004)
    result = json_out(vbot(workspace, "automl", "--config", "automl_test.yaml", "--json", check=True))
    final = read_state(workspace)["final"]
    assert result["status"] == "budget_exhausted" and final["state"] == "budget" and final["score"] is not None
    assert final["metrics"]["episodes"] == 4  # final_episodes, as the trial's score
    registry = yaml.safe_load((workspace / "starter_kit_schedule/checkpoints/registry.yaml").read_text())
    ids = [c["id"] for c in registry["checkpoints"]]
    assert ids == [f"{read_state(workspace)['automl_id']}/trial_0000", f"{read_state(workspace)['automl_id']}/final"]


def test_a_trial_that_finished_training_before_a_kill_9_is_adopted_not_retrained(workspace, fake_env, monkeypatch):
    # No intermediate evaluations, and a slow final evaluation: the trial process is still
    # evaluating trial 0's finished run when the campaign is killed.
    write_config(workspace, mode="hp", hp_trials=2, pruner={"type": "none"}, evaluation={"every_env_steps": 0})
    monkeypatch.setenv("FAKE_EVAL_S", "60")
    campaign = vbot_background(workspace, "automl", "--config", "automl_test.yaml")
    ended = wait_for(lambda: [line for line in trainer_log(fake_env) if line[0] == "end"], timeout=60,
                     what="trial 0's trainer to finish")
    tag = ended[0][1]
    assert tag.endswith("/trial_0000")
    wait_for(lambda: (state_or_none(workspace) or {}).get("live", {}) and
             read_state(workspace)["live"].get("run_dir"), timeout=30, what="the live run folder")
    os.kill(campaign.pid, signal.SIGKILL)
    campaign.wait()

    monkeypatch.setenv("FAKE_EVAL_S", "0")
    proc = vbot(workspace, "automl", "--resume", "--json", check=True)
    assert "adopted" in proc.stderr
    state = read_state(workspace)
    trials = {t["number"]: t for t in state["trials"]}
    assert trials[0]["state"] == "complete" and trials[0]["adopted"] and trials[0]["score"] is not None
    assert trials[0]["run_dir"] and Path(trials[0]["checkpoint"]).name == "last.pt"
    assert [t["retry_of"] for t in trials.values()] == [None, None] and sorted(trials) == [0, 1]
    assert _starts(fake_env)[tag] == 1  # trained once, scored after the resume
    registry = yaml.safe_load((workspace / "starter_kit_schedule/checkpoints/registry.yaml").read_text())
    assert f"{state['automl_id']}/trial_0000" in {c["id"] for c in registry["checkpoints"]}


def test_a_state_write_refused_by_a_full_disk_does_not_stop_the_campaign(workspace, fake_env, monkeypatch, tmp_path):
    faults = tmp_path / "faults"
    faults.mkdir()
    (faults / "enospc").touch()  # the first state write fails with ENOSPC (tests/harness/faults)
    monkeypatch.setenv("VBOT_FAULT_DIR", str(faults))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(Path(__file__).parents[1] / "harness" / "faults"),
                                                      os.environ["PYTHONPATH"]]))
    write_config(workspace, mode="hp", hp_trials=2, pruner={"type": "none"})
    proc = vbot(workspace, "automl", "--config", "automl_test.yaml", "--json")
    assert proc.returncode == 0, proc.stderr
    assert "No space left on device" in proc.stderr and "the campaign state is written again" in proc.stderr
    assert not (faults / "enospc").exists()
    state = read_state(workspace)
    assert state["status"] == "complete" and [t["state"] for t in state["trials"]] == ["complete", "complete"]


def test_trials_from_best_continue_the_best_policy_with_their_own_settings(workspace, fake_env):
    """trials_from: best: trial 0 trains fresh; every later trial warm-starts from the best complete
    trial's checkpoint (recorded in the state as `continues`); the final run continues the best."""
    space = {"params": {k: v for k, v in SEARCH_SPACE["params"].items() if not k.endswith("_hidden_dims")},
             "known_good": [{"ppo.learning_rate": 1.0e-3}]}
    write_config(workspace, search_space=space, trials_from="best", hp_trials=3)
    vbot(workspace, "automl", "--config", "automl_test.yaml", "--json", check=True)
    state = read_state(workspace)
    trials = {t["number"]: t for t in state["trials"]}
    assert trials[0]["continues"] is None
    for number in (1, 2):
        parent = trials[number]["continues"]
        best_before = max((t for n, t in trials.items() if n < number and t["state"] == "complete"),
                          key=lambda t: (t["score"], t["number"]))
        assert parent["trial"] == best_before["number"]
        assert parent["checkpoint"].endswith(best_before["checkpoint"])
    warm = [line.split()[0] for line in fake_env.read_text().splitlines() if line.startswith("warm@")]
    assert len(warm) == 3  # trials 1 and 2, and the final run


def test_trials_from_best_refuses_a_search_over_network_sizes(workspace):
    write_config(workspace, trials_from="best")  # the test space searches policy.actor_hidden_dims
    proc = vbot(workspace, "automl", "--config", "automl_test.yaml", "--dry-run")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "remove policy.actor_hidden_dims from the search space" in proc.stderr
