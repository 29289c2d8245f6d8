"""``vbot init [DIR]``: create a workspace (docs/design.md, "Workspace and data flow").

The tracked part of a workspace (templates, shipped curriculum plans, reward presets) is packaged
in ``seed/``, which mirrors ``starter_kit_schedule/``; a test keeps the repository's own
copy identical to it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from vbot_agent.workspace import Paths

SEED_DIR = Path(__file__).parent / "seed"
TEMPLATE_DIR = SEED_DIR / "templates"


def seed_files() -> list[Path]:
    """Every packaged seed file, relative to ``SEED_DIR`` (and so to ``starter_kit_schedule/``)."""
    return sorted(p.relative_to(SEED_DIR) for p in SEED_DIR.rglob("*") if p.is_file())


def init_workspace(root: Path) -> dict[str, Any]:
    """Make the workspace folders under ``root`` and copy the seed files that are not there yet.

    Existing files are never overwritten. Returns {workspace, created, kept} (paths relative to root).
    """
    root = Path(root).resolve()
    paths = Paths(root)
    created, kept = [], []
    for folder in (paths.templates, paths.reward_library, paths.progress, paths.checkpoints, paths.logs):
        if not folder.is_dir():
            folder.mkdir(parents=True)
            created.append(str(folder.relative_to(root)) + "/")
    for name in seed_files():
        target = paths.schedule / name
        if target.exists():
            kept.append(str(target.relative_to(root)))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(SEED_DIR / name, target)
            created.append(str(target.relative_to(root)))
    return {"workspace": str(root), "created": created, "kept": kept,
            # an existing workspace only got what it lacked: see where it stands before starting anything
            "next": "vbot status" if kept else f"edit {paths.templates.relative_to(root)}/automl.yaml, then `vbot automl`"}
