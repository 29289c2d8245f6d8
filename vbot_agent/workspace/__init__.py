"""The workspace: the folder that holds ``starter_kit_schedule/``, and everything stored in it.

This module finds the workspace and names the paths inside it. The package's other modules own
what lives there: ``init`` (``vbot init``, from the packaged ``seed/``), ``lock`` (one campaign at
a time), ``state`` (the campaign state file), ``checkpoints`` (the registry), ``report`` (the
``starter_kit_log/`` folder). They import nothing above ``vbot_agent.fileio``/``config``/``errors``.

The workspace is found upward from the current directory; ``--workspace`` or ``VBOT_WORKSPACE``
override that. Every generated path is relative to it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from vbot_agent.errors import UsageError

MARKER = "starter_kit_schedule"


def find_workspace(override: str | os.PathLike | None = None, *, cwd: Path | None = None, create: bool = False) -> Path:
    """Return the workspace root.

    ``override`` (or ``$VBOT_WORKSPACE``) wins and must hold ``starter_kit_schedule/`` unless
    ``create``. Otherwise the nearest ancestor of ``cwd`` holding it. With ``create`` and nothing
    found, ``cwd`` itself is returned (the caller makes the folders).
    """
    chosen = override or os.environ.get("VBOT_WORKSPACE")
    if chosen:
        root = Path(chosen).expanduser().resolve()
        if not create and not (root / MARKER).is_dir():
            raise UsageError(f"{root} is not a workspace (no {MARKER}/ in it); create one with `vbot init {root}`")
        return root
    start = (cwd or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / MARKER).is_dir():
            return folder
    if create:
        return start
    raise UsageError(f"no workspace found from {start} upward; create one with `vbot init` or pass --workspace DIR")


def inside(root: Path, path: str | os.PathLike) -> Path:
    """Resolve ``path`` against ``root`` and refuse it when it leaves ``root``."""
    resolved = (root / path).resolve()
    if resolved != root.resolve() and root.resolve() not in resolved.parents:
        raise UsageError(f"path {path} is outside the workspace {root}")
    return resolved


@dataclass(frozen=True)
class Paths:
    """The generated paths of one workspace."""

    root: Path

    @property
    def schedule(self) -> Path:
        return self.root / MARKER

    @property
    def templates(self) -> Path:
        return self.schedule / "templates"

    @property
    def reward_library(self) -> Path:
        return self.schedule / "reward_library"

    @property
    def progress(self) -> Path:
        return self.schedule / "progress"

    @property
    def state_file(self) -> Path:
        return self.progress / "automl_state.yaml"

    @property
    def automl_lock(self) -> Path:
        """Held (flock) by the running campaign; refuses a second one."""
        return self.progress / "automl.lock"

    @property
    def optuna_db(self) -> Path:
        """The default optuna storage: a SQLite file in the workspace (no server)."""
        return self.schedule / "automl.db"

    @property
    def default_storage_url(self) -> str:
        return f"sqlite:///{self.optuna_db.resolve()}"

    @property
    def checkpoints(self) -> Path:
        return self.schedule / "checkpoints"

    @property
    def registry_file(self) -> Path:
        return self.checkpoints / "registry.yaml"

    @property
    def logs(self) -> Path:
        return self.root / "starter_kit_log"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def wake_up(self) -> Path:
        return self.root / "WAKE_UP.md"
