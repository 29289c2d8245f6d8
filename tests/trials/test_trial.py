"""One trial as its own process: training, intermediate evaluations, final score, and every way it fails."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from campaign_kit import trainer_log, wait_for

from vbot_agent.trials.launcher import run_trial_process, write_trial_config
from vbot_agent.trials.score import ScoreWeights
from vbot_agent.trials.trial import TrialConfig, run_trial
from vbot_agent.trials.trial_settings import EvaluationSettings


def _cfg(root, name="trial_0000", steps=40000, **kw):
    base = dict(name=name, trial=0, env_id="dummy:point_nav", seed=1, max_env_steps=steps, num_envs=4,
                out_dir=str(root / "out" / name), workspace=str(root), values={"ppo.learning_rate": 1e-3},
                evaluation=EvaluationSettings(episodes=2, final_episodes=4, every_env_steps=10000),
                score=ScoreWeights(), stall_s=3.0, stop_s=2.0, poll_s=0.05, tag=f"test/{name}",
                backend="fake_backend")
    base.update(kw)
    return TrialConfig(**base)


def test_complete_trial_has_measured_metrics_score_and_intermediate_scores(tmp_path, fake_env):
    result = run_trial(_cfg(tmp_path), install_signals=False)
    assert result["status"] == "complete", result
    assert result["score"] == pytest.approx(0.62)
    assert result["metrics"]["success_rate"] == pytest.approx(1.0)
    assert result["checkpoint"].endswith("checkpoints/last.pt") and os.path.isdir(result["run_dir"])
    steps = [e["step"] for e in result["intermediate"]]
    assert steps and steps == sorted(set(steps))
    scores = [e["score"] for e in result["intermediate"]]
    assert scores == sorted(scores)  # the fake improves with training
    saved = json.loads((tmp_path / "out/trial_0000/result.json").read_text())
    assert saved["score"] == result["score"]


def test_a_trainer_faster_than_every_poll_still_reports_one_intermediate_score(tmp_path, fake_env):
    """With a poll slower than the whole training run, the watcher sees the trainer only after it exited;
    the pruner still gets the newest mark (a loaded machine made the real-trainer test miss it)."""
    result = run_trial(_cfg(tmp_path, poll_s=30.0, stall_s=60.0), install_signals=False)
    assert result["status"] == "complete", result
    assert [e["step"] for e in result["intermediate"]] == [3]  # the newest mark before the final one (4)
    assert "score" in result["intermediate"][0]


@pytest.mark.parametrize("behaviour,match", [
    ("crash", "trainer exited with code 3: RuntimeError: fake out of memory"),
    ("hang", "stalled: no training progress"),
    ("nan", "success_rate"),
])
def test_a_broken_trainer_fails_the_trial_with_the_reason(tmp_path, fake_env, monkeypatch, behaviour, match):
    monkeypatch.setenv("FAKE_PLAN", json.dumps({"0": behaviour}))
    result = run_trial(_cfg(tmp_path, stall_s=1.0), install_signals=False)
    assert result["status"] == "fail"
    assert match in result["error"]
    if behaviour == "hang":  # the hung trainer was killed, not left behind
        pid = int(trainer_log(fake_env)[0][2])
        wait_for(lambda: not os.path.exists(f"/proc/{pid}") or _zombie(pid), timeout=5, what="trainer killed")


def test_a_trainer_killed_after_its_last_checkpoint_has_still_trained(tmp_path, fake_env, monkeypatch):
    monkeypatch.setenv("FAKE_PLAN", json.dumps({"0": "killed_at_exit"}))
    result = run_trial(_cfg(tmp_path), install_signals=False)
    assert [line[0] for line in trainer_log(fake_env)] == ["start", "end"]
    assert result["status"] == "complete", result
    assert result["score"] == pytest.approx(0.62) and result["env_steps"] == 40000


def _zombie(pid):
    try:
        return open(f"/proc/{pid}/stat").read().split()[2] == "Z"
    except FileNotFoundError:
        return True


def test_budget_deadline_stops_training_inside_the_trial(tmp_path, fake_env, monkeypatch):
    monkeypatch.setenv("FAKE_PLAN", json.dumps({"0": "slow"}))
    monkeypatch.setenv("FAKE_SLOW_FACTOR", "5")
    started = time.time()
    result = run_trial(_cfg(tmp_path, steps=400000, deadline_unix=time.time() + 1.0), install_signals=False)
    assert time.time() - started < 10
    assert result["status"] == "budget" and "budget" in result["error"]
    assert result["score"] is not None  # the checkpoint reached was still evaluated and recorded
    assert result["metrics"]["episodes"] == 4  # on final_episodes, as every trial's score
    assert result["env_steps"] is None or result["env_steps"] < 400000


def test_pruning_and_interrupts_stop_the_trial_process(tmp_path, fake_env, monkeypatch):
    monkeypatch.setenv("FAKE_PLAN", json.dumps({"0": "slow"}))
    cfg = _cfg(tmp_path, steps=400000)
    path = tmp_path / "trial.yaml"
    write_trial_config(path, cfg)
    seen = []
    outcome = run_trial_process(path, cfg, on_event=lambda e: seen.append(e) or len(seen) >= 1,
                                should_stop=lambda: False, on_tick=lambda pid: None, heartbeat_s=0.2)
    assert outcome.stopped_by == "pruned" and outcome.result["status"] == "stopped"
    assert outcome.events and outcome.events[0]["score"] is not None
    cfg2 = _cfg(tmp_path, name="trial_0001", steps=400000, trial=1)
    stop_at = time.time() + 0.5
    outcome = run_trial_process(path, cfg2, on_event=lambda e: False, should_stop=lambda: time.time() > stop_at,
                                on_tick=lambda pid: None, heartbeat_s=0.2)
    assert outcome.stopped_by == "interrupted"


def test_trial_stops_when_its_campaign_dies(tmp_path, fake_env, monkeypatch):
    """A parent killed with -9 must not leave the trial and its trainer running."""
    monkeypatch.setenv("FAKE_PLAN", json.dumps({"*": "slow"}))
    script = (
        "import sys, os, subprocess, time\n"
        "from pathlib import Path\n"
        "while not Path(sys.argv[1]).exists(): time.sleep(0.01)\n"
        "p = subprocess.Popen([sys.executable, '-m', 'vbot_agent.trials.trial', '--config', sys.argv[1]],\n"
        "                     start_new_session=True)\n"
        "print(p.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    cfg_path = tmp_path / "trial.yaml"
    parent = subprocess.Popen([sys.executable, "-c", script, str(cfg_path)], stdout=subprocess.PIPE, text=True)
    # the trial's parent_pid must be the parent script: write the config before it reads it
    write_trial_config(cfg_path, _cfg(tmp_path, steps=4_000_000, parent_pid=parent.pid))
    trial_pid = int(parent.stdout.readline())
    wait_for(lambda: trainer_log(fake_env), timeout=20, what="trainer start")
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    wait_for(lambda: _zombie(trial_pid), timeout=15, what="trial exit after its parent died")
    result = json.loads((tmp_path / "out/trial_0000/result.json").read_text())
    assert result["status"] == "stopped" and result["stop_reason"] == "parent campaign died"
