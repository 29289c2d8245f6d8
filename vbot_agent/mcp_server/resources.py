"""The MCP resources: WAKE_UP.md, the campaign state, the runs, and each skill. No SDK import here.

Each is read through the read model the CLI uses (``vbot_agent.agent.watcher`` /
``vbot_agent.agent.wakeup`` / ``vbot_agent.workspace`` / ``vbot_agent.agent.skills``),
so a resource says what ``vbot watch --snapshot``, ``vbot status`` and ``vbot skills show`` say.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vbot_agent.errors import UsageError, suggest

WAKE_UP_URI = "vbot://wake-up"
STATE_URI = "vbot://campaign/state"
RUNS_URI = "vbot://runs"
SKILL_PREFIX = "vbot://skills/"


@dataclass(frozen=True)
class ResourceSpec:
    """One listed resource."""

    uri: str
    name: str
    description: str
    mime_type: str


def list_resources() -> list[ResourceSpec]:
    """The fixed resources, then one per skill (``vbot://skills/<name>``)."""
    from vbot_agent.agent.skills import default_skills_dir, load_skills

    fixed = [
        ResourceSpec(WAKE_UP_URI, "WAKE_UP.md", "Where the workspace stands and what to do next; reading it "
                     "rewrites WAKE_UP.md like `vbot watch --snapshot` (reward diagnosis included).",
                     "text/markdown"),
        ResourceSpec(STATE_URI, "campaign state", "starter_kit_schedule/progress/automl_state.yaml as JSON "
                     "(null when no campaign has started)", "application/json"),
        ResourceSpec(RUNS_URI, "runs", "every runs/<env>/<run>/progress.json, newest first, as JSON",
                     "application/json"),
    ]
    skills = [ResourceSpec(SKILL_PREFIX + s.name, f"skill {s.name}", s.description, "text/markdown")
              for s in load_skills(default_skills_dir())]
    return fixed + skills


def read_resource(uri: str, root: Path) -> tuple[str, str]:
    """``(mime_type, text)`` of the resource ``uri`` for the workspace ``root``; UsageError if unknown."""
    if uri == WAKE_UP_URI:
        return "text/markdown", _wake_up(_workspace(root))
    if uri == STATE_URI:
        return "application/json", _dump(_state(_workspace(root)))
    if uri == RUNS_URI:
        return "application/json", _dump(_runs(_workspace(root)))
    if uri.startswith(SKILL_PREFIX):
        from vbot_agent.agent.skills import default_skills_dir, find_skill

        skill = find_skill(uri.removeprefix(SKILL_PREFIX), default_skills_dir())
        return "text/markdown", skill.path.read_text(encoding="utf-8")
    known = [WAKE_UP_URI, STATE_URI, RUNS_URI, SKILL_PREFIX + "<name>"]
    raise UsageError(f"unknown resource {uri!r}" + suggest(uri, known) + f"; resources: {', '.join(known)}")


def _workspace(root: Path) -> Path:
    from vbot_agent.workspace import find_workspace

    return find_workspace(str(root))  # UsageError that says how to create one


def _wake_up(root: Path) -> str:
    from vbot_agent.agent.watcher import Watcher

    return Watcher(root).snapshot().read_text(encoding="utf-8")


def _state(root: Path) -> dict[str, Any]:
    from vbot_agent.workspace import Paths
    from vbot_agent.workspace.state import load_state

    path = Paths(root).state_file
    state = load_state(path) if path.exists() else None
    note = None if state is not None else "no campaign has started here; the automl tool starts one"
    return {"path": str(path.relative_to(root)), "state": state, "note": note}


def _runs(root: Path) -> dict[str, Any]:
    """What `vbot runs --json` lists: every run with its status by the one liveness rule."""
    from vbot_agent.workspace import Paths
    from vbot_agent.workspace.run_list import list_runs

    return list_runs(Paths(root).runs, root)


def _dump(data: Any) -> str:
    from vbot_agent.mcp_server.tools import plain

    return json.dumps(plain(data), indent=2)
