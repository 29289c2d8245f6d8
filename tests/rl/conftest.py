"""Shared helpers for the trainer tests: tiny configs on the point-mass env (fast, MuJoCo-free)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vbot_agent.rl.config import resolve_train_config


def tiny_config(**flags):
    """A config that trains in well under a second per iteration on the dummy env."""
    base = {
        "env_id": "dummy:point_nav", "num_envs": 8, "max_env_steps": 8 * 8 * 4, "check_point_interval": 2,
        "torch_threads": 1, "ppo": {"num_steps_per_env": 8, "num_learning_epochs": 2, "num_mini_batches": 2},
        "policy": {"actor_hidden_dims": [16, 16], "critic_hidden_dims": [16]}, "eval": {"episodes": 4},
    }
    return resolve_train_config(base=base, flags=flags)


@pytest.fixture
def run_root(tmp_path: Path) -> Path:
    return tmp_path / "runs"


@pytest.fixture(autouse=True)
def precision_cache(tmp_path: Path, monkeypatch) -> Path:
    """Each test measures ``precision: auto`` afresh into its own cache, never the user's."""
    folder = tmp_path / "vbot-cache"
    monkeypatch.setenv("VBOT_CACHE_DIR", str(folder))
    return folder
