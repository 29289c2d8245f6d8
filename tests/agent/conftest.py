"""Fixtures for the agent layer: the CLI as the issues describe it, workspaces, campaign states."""

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

from vbot_agent.actions.registry import Action, Param, Registry

REPO = Path(__file__).resolve().parents[2]
SKILLS = REPO / "skills"
_STUB = "tests.agent.conftest:stub_action"
_ENV = Param("env", default="vbot_navigation_section001")

# Actions that the other issues (4: campaign, 6: reward and curriculum, 8: TUI) add to the registry,
# with the flags their issues name. Only the names that are not registered yet are taken from here,
# so an action that has landed is always checked with its real parameters.
PLANNED = (
    Action("init", "create a workspace", _STUB, (Param("dir", "path", positional=True),)),
    Action("automl", "run an AutoML campaign", _STUB, (
        Param("mode", choices=("hp", "reward", "stage"), default="stage"), _ENV,
        Param("budget_hours", "float", min=0.0), Param("hp_trials", "int", min=1), Param("trial_steps", "int"),
        Param("final_steps", "int"), Param("config", "path"), Param("seed", "int"), Param("resume", "bool"),
        Param("storage"),
    )),
    Action("automl worker", "join a campaign's study", _STUB,
           (Param("storage", required=True), Param("study", required=True))),
    Action("trial", "run one trial", _STUB, (Param("config", "path", required=True),)),
    Action("status", "campaign status", _STUB),
    Action("analyze", "analyse the trials", _STUB, (Param("plot", "path"),)),
    Action("checkpoints", "list kept checkpoints", _STUB, (Param("best", "bool"),)),
    Action("reward audit", "audit a reward config", _STUB, (_ENV, Param("config", "path"))),
    Action("reward list", "list reward presets", _STUB),
    Action("reward show", "show a reward preset", _STUB, (Param("name", required=True, positional=True),)),
    Action("diagnose-reward", "diagnose a run's reward", _STUB, (Param("run", positional=True, default="latest"),)),
    Action("curriculum status", "curriculum status", _STUB, (Param("plan", "path"),)),
    Action("curriculum advance", "advance the curriculum", _STUB, (Param("plan", "path"),)),
    Action("curriculum run", "run the curriculum", _STUB, (Param("plan", "path"),)),
    Action("tui", "the terminal UI", _STUB),
)


def stub_action(ctx, **params):
    return {"ran": True, "params": params}


def planned_names() -> list[str]:
    return [a.name for a in PLANNED]


@pytest.fixture(scope="session")
def real_registry():
    from vbot_agent.actions import REGISTRY

    return REGISTRY


@pytest.fixture(scope="session")
def planned_registry(real_registry) -> Registry:
    """The real registry plus the planned actions that have not landed yet."""
    registry = Registry()
    for action in real_registry:
        registry.add(action)
    for action in PLANNED:
        if action.name not in registry:
            registry.add(action)
    return registry


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
                                                   "competition_points": number, "mean_time_to_target_s": 9.5},
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
