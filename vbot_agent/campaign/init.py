"""``vbot init [DIR]``: create a workspace (DESIGN.md §2)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from vbot_agent.workspace import Paths

TEMPLATE_DIR = Path(__file__).parent / "templates"
TEMPLATES = ("automl.yaml", "search_space.yaml", "curriculum.yaml", "reward_config.yaml")


def init_workspace(root: Path) -> dict[str, Any]:
    """Make the workspace folders under ``root`` and copy the templates that are not there yet.

    Existing files are never overwritten. Returns {workspace, created, kept} (paths relative to root).
    """
    root = Path(root).resolve()
    paths = Paths(root)
    created, kept = [], []
    for folder in (paths.templates, paths.reward_library, paths.progress, paths.checkpoints, paths.logs):
        if not folder.is_dir():
            folder.mkdir(parents=True)
            created.append(str(folder.relative_to(root)) + "/")
    for name in TEMPLATES:
        target = paths.templates / name
        if target.exists():
            kept.append(str(target.relative_to(root)))
        else:
            shutil.copyfile(TEMPLATE_DIR / name, target)
            created.append(str(target.relative_to(root)))
    return {"workspace": str(root), "created": created, "kept": kept,
            "next": f"edit {paths.templates.relative_to(root)}/automl.yaml, then `vbot automl`"}
