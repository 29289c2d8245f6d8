"""The campaign test harness: a workspace with a fast fake trainer (``fake_backend.py`` beside this file).

Its fixtures are registered by ``tests/conftest.py``; test modules import its helpers by name.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

SEARCH_SPACE = {
    "params": {
        "ppo.learning_rate": {"type": "float", "low": 1.0e-4, "high": 1.0e-2, "log": True},
        "ppo.entropy_coef": {"type": "float", "low": 0.001, "high": 0.01},
        "policy.actor_hidden_dims": {"type": "categorical", "choices": [[32, 32], [64, 64]]},
        "reward.scales.progress": {"type": "float", "low": 1.0, "high": 8.0},
        "reward.scales.reached": {"type": "float", "low": 0.5, "high": 2.0},
    },
    "known_good": [{"ppo.learning_rate": 1.0e-3, "policy.actor_hidden_dims": [32, 32]}],
}


def automl_config(**overrides) -> dict:
    config = {
        "env_id": "dummy:point_nav",
        "mode": "stage",
        "budget_hours": 1.0,
        "hp_trials": 4,
        "trial_steps": 40000,
        "final_steps": 60000,
        "num_envs": 8,
        "seed": 7,
        "search_space": SEARCH_SPACE,
        "evaluation": {"episodes": 2, "final_episodes": 4, "every_env_steps": 10000},
        "pruner": {"type": "median", "n_startup_trials": 2, "n_warmup_steps": 1},
        "sampler_startup_trials": 2,
        "timeouts": {"heartbeat_s": 0.3, "grace_s": 3, "stall_s": 5, "stop_s": 3, "poll_s": 0.05},
        "backend": "fake_backend",
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key] = {**config[key], **value}
        else:
            config[key] = value
    return config


@pytest.fixture
def fake_env(tmp_path, monkeypatch, request):
    """Environment for subprocesses: the package, the fake backend and the test's own folder
    importable (a test module may serve as a backend), a trainer log."""
    log = tmp_path / "fake_trainer.log"
    env = {
        "PYTHONPATH": os.pathsep.join([str(REPO), str(HERE), str(request.path.parent)]),
        "FAKE_LOG": str(log),
        "FAKE_ITER_S": "0.01",
        "FAKE_PLAN": "{}",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("VBOT_WORKSPACE", raising=False)
    return log


@pytest.fixture
def workspace(tmp_path, fake_env) -> Path:
    from vbot_agent.workspace.init import init_workspace

    root = tmp_path / "ws"
    init_workspace(root)
    write_config(root)
    return root


def write_config(root: Path, **overrides) -> Path:
    path = root / "automl_test.yaml"
    path.write_text(yaml.safe_dump(automl_config(**overrides), sort_keys=False))
    return path


def vbot(root: Path, *args: str, timeout: float = 120, check: bool = False) -> subprocess.CompletedProcess:
    """Run ``python -m vbot_agent.cli --workspace ROOT ARGS`` to its end."""
    proc = subprocess.run([sys.executable, "-m", "vbot_agent.cli", "--workspace", str(root), *args],
                          capture_output=True, text=True, timeout=timeout, cwd=root)
    if check and proc.returncode != 0:
        raise AssertionError(f"vbot {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def vbot_background(root: Path, *args: str, log: Path | None = None) -> subprocess.Popen:
    out = open(log or (root / "campaign.out"), "ab")  # noqa: SIM115 - closed with the process
    return subprocess.Popen([sys.executable, "-m", "vbot_agent.cli", "--workspace", str(root), *args],
                            stdout=out, stderr=subprocess.STDOUT, cwd=root)


def read_state(root: Path) -> dict:
    return yaml.safe_load((root / "starter_kit_schedule/progress/automl_state.yaml").read_text())


def wait_for(predicate, timeout: float = 60, interval: float = 0.05, what: str = "condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def state_or_none(root: Path):
    try:
        return read_state(root)
    except (FileNotFoundError, yaml.YAMLError):
        return None


def trainer_log(log: Path) -> list[list[str]]:
    if not log.exists():
        return []
    return [line.split() for line in log.read_text().splitlines()]


def json_out(proc: subprocess.CompletedProcess) -> dict:
    return json.loads(proc.stdout)
