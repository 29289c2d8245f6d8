"""`vbot runs`: every run with status, steps, measured success and falls, best checkpoint and command.

The run folders are made by the real trainer (a tiny run on the MuJoCo-free dummy env); liveness
cases edit its progress.json the way a killed or hung trainer leaves it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from vbot_agent.cli import run

TINY = ["--env", "dummy:point_nav", "--num-envs", "8", "--max-env-steps", "128", "--check-point-interval", "2",
        "--set", "ppo.num_steps_per_env=8", "--set", "ppo.num_mini_batches=2", "--set", "policy.actor_hidden_dims=[16]",
        "--set", "policy.critic_hidden_dims=[16]", "--set", "env.episode_length_s=0.4", "--set", "eval.episodes=4",
        "--set", "torch_threads=1"]


def _cli(capsys, *argv):
    code = run(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def workspace(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VBOT_WORKSPACE", raising=False)
    assert _cli(capsys, "init")[0] == 0
    code, out, err = _cli(capsys, "train", *TINY, "--json")
    assert code == 0, err
    return tmp_path, Path(json.loads(out)["run_dir"])


def _edit_progress(run_dir: Path, **fields):
    path = run_dir / "progress.json"
    data = json.loads(path.read_text())
    data.update(fields)
    path.write_text(json.dumps(data))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_lists_a_finished_run_with_its_measured_numbers(workspace, capsys):
    root, run_dir = workspace
    code, out, err = _cli(capsys, "runs", "--json")
    assert code == 0, err
    [row] = json.loads(out)["runs"]
    assert row["run"] == str(run_dir.relative_to(root)) and row["env_id"] == "dummy:point_nav"
    assert row["status"] == "finished" and row["env_steps"] == 128 and row["max_env_steps"] == 128
    assert isinstance(row["success_rate"], float) and isinstance(row["fall_rate"], float)
    assert row["measured"].startswith("last evaluation, at 128 env steps")
    assert row["best_evaluation"]["env_steps"] <= 128 and "success_rate" in row["best_evaluation"]
    assert row["best_checkpoint"] == str((run_dir / "checkpoints" / "best.pt").relative_to(root))
    assert row["command"].startswith("vbot train --env dummy:point_nav --num-envs 8")
    assert row["checkpoints"] == ["model_2.pt", "last.pt", "best.pt"]
    code, out, _ = _cli(capsys, "runs")
    assert code == 0 and "FINISHED" in out and "made by: vbot train --env dummy:point_nav" in out
    assert f"checkpoints: 3 in {row['run']}/checkpoints/ (model_2.pt, last.pt, best.pt)" in out


def test_checkpoint_files_are_listed_in_iteration_order(tmp_path):
    from vbot_agent.workspace.run_list import checkpoint_files

    (tmp_path / "checkpoints").mkdir()
    for name in ("best.pt", "model_100.pt", "last.pt", "model_20.pt", "model_3.pt"):
        (tmp_path / "checkpoints" / name).write_bytes(b"")
    assert checkpoint_files(tmp_path) == ["model_3.pt", "model_20.pt", "model_100.pt", "last.pt", "best.pt"]
    assert checkpoint_files(tmp_path / "nowhere") == []


def test_liveness_follows_the_pid_and_the_last_update(workspace, capsys):
    root, run_dir = workspace
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    cases = {
        "live": dict(status="running", pid=os.getpid(), updated_at=_iso(datetime.now(timezone.utc))),
        "killed": dict(status="running", pid=gone.pid, updated_at=_iso(datetime.now(timezone.utc))),
        "hung": dict(status="running", pid=os.getpid(),
                     updated_at=_iso(datetime.now(timezone.utc) - timedelta(hours=1))),
        "crashed": dict(status="failed", message="NaN guard at iteration 3"),
    }
    for name, fields in cases.items():
        copy = run_dir.parent / f"{name}_PPO"
        shutil.copytree(run_dir, copy)
        _edit_progress(copy, **fields)
    code, out, err = _cli(capsys, "runs", "--env", "dummy:point_nav", "--json")
    assert code == 0, err
    rows = {Path(r["run"]).name: r for r in json.loads(out)["runs"]}
    assert rows["live_PPO"]["status"] == "running"
    assert rows["killed_PPO"]["status"] == "stopped" and f"pid {gone.pid}" in rows["killed_PPO"]["why"]
    assert rows["hung_PPO"]["status"] == "stopped" and "no progress for" in rows["hung_PPO"]["why"]
    assert rows["crashed_PPO"]["status"] == "failed" and "NaN" in rows["crashed_PPO"]["why"]
    assert rows[run_dir.name]["status"] == "finished"


def test_env_filter_and_an_empty_workspace(workspace, capsys, tmp_path_factory, monkeypatch):
    code, _, err = _cli(capsys, "runs", "--env", "vbot_navigation_section001")
    assert code == 2 and "runs exist for dummy:point_nav" in err
    empty = tmp_path_factory.mktemp("empty")
    monkeypatch.chdir(empty)
    assert _cli(capsys, "init")[0] == 0
    code, out, _ = _cli(capsys, "runs")
    assert code == 0 and "no runs under" in out and "vbot train" in out


def test_a_campaign_trial_run_shows_the_registry_measurement(tmp_path, capsys, monkeypatch):
    """A trial trains with evaluation off and is scored afterwards: `vbot runs` shows that score's
    measurement (the same entry `vbot checkpoints` lists), not "not evaluated yet"."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VBOT_WORKSPACE", raising=False)
    assert _cli(capsys, "init")[0] == 0
    code, out, err = _cli(capsys, "train", *TINY, "--set", "eval.enabled=false", "--json")
    assert code == 0, err
    run_dir = Path(json.loads(out)["run_dir"])
    for leftover in ("final_evaluation.json", "checkpoints/best.pt"):
        (run_dir / leftover).unlink(missing_ok=True)
    for event_file in run_dir.glob("events.out.tfevents.*"):
        event_file.unlink()
    code, out, _ = _cli(capsys, "runs")
    assert code == 0 and "(not evaluated yet)" in out
    from vbot_agent.workspace import Paths
    from vbot_agent.workspace.checkpoints import register

    rel = str(run_dir.relative_to(tmp_path))
    register(Paths(tmp_path).registry_file, {
        "id": "automl_x/trial_0003", "checkpoint": f"{rel}/checkpoints/last.pt", "run_dir": rel, "score": 0.25,
        "env_id": "dummy:point_nav", "metrics": {"episodes": 20, "success_rate": 0.55, "fall_rate": 0.05}})
    code, out, _ = _cli(capsys, "runs", "--json")
    [row] = json.loads(out)["runs"]
    assert (row["success_rate"], row["fall_rate"]) == (0.55, 0.05)
    assert row["measured"] == "automl_x/trial_0003 evaluation, 20 episodes"
    assert row["best_checkpoint"] == f"{rel}/checkpoints/last.pt"
    code, out, _ = _cli(capsys, "runs")
    assert "success 0.55  falls 0.05  (automl_x/trial_0003 evaluation, 20 episodes)" in out
    assert "steps 128 (budget 128)" in out


def test_a_stopped_run_names_the_checkpoint_where_resume_restarts(workspace, capsys):
    root, run_dir = workspace
    progress = json.loads((run_dir / "progress.json").read_text())
    assert progress["checkpoint_env_steps"] == 128  # the trainer records where last.pt was saved
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    killed = run_dir.parent / "killed_PPO"
    shutil.copytree(run_dir, killed)  # killed two iterations after its last checkpoint
    _edit_progress(killed, status="running", pid=gone.pid, env_steps=256, max_env_steps=512,
                   updated_at=_iso(datetime.now(timezone.utc)))
    code, out, err = _cli(capsys, "runs", "--json")
    assert code == 0, err
    rows = {Path(r["run"]).name: r for r in json.loads(out)["runs"]}
    assert rows["killed_PPO"]["resumes_at"] == 128 and rows[run_dir.name]["resumes_at"] is None
    code, out, _ = _cli(capsys, "runs")
    assert "steps 256 (budget 512), last checkpoint at 128 (where --resume restarts)" in out
