"""A real (tiny) VBot checkpoint, written by the trainer itself, and its export."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def vbot_checkpoint(tmp_path_factory) -> Path:
    """``last.pt`` of two PPO iterations on section001 (4 envs, a small network), made by the runner."""
    from vbot_agent.rl.config import resolve_train_config
    from vbot_agent.rl.loop import train
    from vbot_agent.rl.run_dir import create_run_dir
    from vbot_agent.rl.runner import OnPolicyRunner

    cfg = resolve_train_config(base={
        "env_id": "vbot_navigation_section001", "num_envs": 4, "max_env_steps": 4 * 16 * 2,
        "check_point_interval": 1, "torch_threads": 1,
        "ppo": {"num_steps_per_env": 16, "num_learning_epochs": 1, "num_mini_batches": 1},
        "policy": {"actor_hidden_dims": [32, 32], "critic_hidden_dims": [32], "precision": "fp32"},
        "eval": {"enabled": False},
    })
    run_dir = create_run_dir(tmp_path_factory.mktemp("runs"), cfg.env_id)
    runner = OnPolicyRunner(cfg, run_dir)
    try:
        train(runner)
    finally:
        runner.close()
    return run_dir / "checkpoints" / "last.pt"


@pytest.fixture(scope="session")
def exported(vbot_checkpoint, tmp_path_factory) -> dict:
    """``vbot export`` of that checkpoint: the action's result (files, sizes, differences)."""
    from vbot_agent.actions.context import Context
    from vbot_agent.deploy.commands import export

    out = tmp_path_factory.mktemp("export") / "policy.onnx"
    return export(Context(), policy=str(vbot_checkpoint), onnx=str(out), torchscript=str(out.with_suffix(".pt")),
                  episodes=6, seed=3)
