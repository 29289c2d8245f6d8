"""Fixtures for the agent layer: the real registry, workspaces, campaign states."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SKILLS = REPO / "skills"
def stub_action(ctx, **params):
    """A stand-in action function for registries built in tests."""
    return {"ran": True, "params": params}


@pytest.fixture(scope="session")
def real_registry():
    from vbot_agent.actions import REGISTRY

    return REGISTRY


@pytest.fixture
def workspace(tmp_path) -> Path:
    root = tmp_path / "ws"
    (root / "starter_kit_schedule" / "progress").mkdir(parents=True)
    return root


def iso(delta_s: float = 0.0) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=delta_s)).strftime("%Y-%m-%dT%H:%M:%SZ")


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def make_state(**overrides) -> dict:
    trials = []
    for number in range(12):
        state = "fail" if number == 7 else "pruned" if number % 4 == 3 else "complete"
        trials.append({
            "number": number, "state": state, "params": {"learning_rate": 3e-4 * (1 + number / 10)},
            "reward_scales": {"progress": 1.0, "arrival": 10.0},
            "metrics": {} if state == "fail" else {"success_rate": 0.05 * number, "fall_rate": 0.1,
                                                   "competition_points": number, "time_to_target_s": 9.5},
            "score": None if state == "fail" else round(0.07 * number, 3), "run_dir": f"runs/x/{number}",
            "started_at": iso(-3600), "finished_at": iso(-1800), "error": "CUDA OOM | retry" if state == "fail" else None,
        })
    state = {
        "schema_version": 1, "automl_id": "automl_20261123_101500", "status": "running", "mode": "stage",
        "phase": "search", "stage": None, "env_id": "vbot_navigation_section001", "budget_hours": 8.0,
        "elapsed_hours": 2.5, "started_at": iso(-9000), "updated_at": iso(-5), "heartbeat": iso(-5),
        "pid": os.getpid(), "host": socket.gethostname(), "storage": "sqlite:///x.db", "study_name": "s",
        "settings": {}, "score_formula": "0.5*success_rate + 0.05*competition_points - 0.3*fall_rate",
        "trials": trials,
        "best": {"trial": 11, "score": 0.77, "params": {"learning_rate": 0.00063},
                 "reward_scales": {"progress": 1.0, "arrival": 10.0},
                 "checkpoint": "runs/vbot_navigation_section001/2026-11-23_10-20-00_PPO/checkpoints/best.pt",
                 "metrics": {"success_rate": 0.55}},
        "curriculum": None,
    }
    state.update(overrides)
    return state


def write_state(root: Path, state: dict | str) -> Path:
    path = root / "starter_kit_schedule" / "progress" / "automl_state.yaml"
    text = state if isinstance(state, str) else yaml.safe_dump(state, sort_keys=False)
    path.write_text(text)
    if isinstance(state, dict) and state.get("best"):  # the campaign registers each complete trial
        from vbot_agent.workspace import Paths
        from vbot_agent.workspace.checkpoints import register

        best = state["best"]
        register(Paths(root).registry_file, {
            "id": f"{state['automl_id']}/trial_{best['trial']}", "automl_id": state["automl_id"],
            "trial": best["trial"], "env_id": state["env_id"], "checkpoint": best.get("checkpoint"),
            "run_dir": best.get("run_dir"), "score": best["score"], "metrics": best.get("metrics"),
            "params": best.get("params"), "reward_scales": best.get("reward_scales"), "host": state.get("host")})
    return path


def write_skill(root: Path, name: str, front: str, body: str = "# Title\n\nSome text.\n") -> Path:
    """A skill folder under ``root``; ``front`` is the YAML between the --- lines (dedented)."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "SKILL.md"
    path.write_text("---\n" + textwrap.dedent(front).strip("\n") + "\n---\n" + textwrap.dedent(body))
    return path


def good_front(name: str, actions: str = "envs", related: str = "") -> str:
    lines = [f"name: {name}", "description: Does a thing when you need it.", "metadata:",
             "  actions: |"] + [f"    {a}" for a in actions.splitlines()] + ["  triggers: |", "    do the thing"]
    if related:
        lines.append(f"  related: {related}")
    return "\n".join(lines)
