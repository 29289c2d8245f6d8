"""The checkpoint registry: ``starter_kit_schedule/checkpoints/registry.yaml``.

Every kept checkpoint (the evaluated ``last.pt`` of each complete trial and of the final run) with
its measured metrics, score and configuration. Several processes of one workspace (a campaign and
local workers) may register at once, so each read-modify-write holds ``registry.lock``.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vbot_agent.errors import UsageError
from vbot_agent.fileio import atomic_write_yaml
from vbot_agent.workspace.state import now_iso

SCHEMA_VERSION = 1


def load_registry(path: Path) -> dict[str, Any]:
    """The registry as ``{schema_version, checkpoints: [...]}``; empty when the file does not exist."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text())
    except FileNotFoundError:
        return {"schema_version": SCHEMA_VERSION, "checkpoints": []}
    except yaml.YAMLError as exc:
        raise UsageError(f"checkpoint registry {path} is malformed YAML ({exc.__class__.__name__}); fix it by hand "
                         "or move it away (it is rebuilt from new trials only)") from None
    if not isinstance(data, dict) or not isinstance(data.get("checkpoints"), list):
        raise UsageError(f"checkpoint registry {path} has no checkpoints: list; fix it by hand or move it away")
    return data


def register(path: Path, entry: Mapping[str, Any]) -> None:
    """Add or replace (same ``id``) one checkpoint entry; needs keys id, checkpoint, score, metrics."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        data = load_registry(path)
        kept = [c for c in data["checkpoints"] if c.get("id") != entry["id"]]
        kept.append({**entry, "registered_at": now_iso()})
        data["checkpoints"] = kept
        atomic_write_yaml(path, data)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def best_checkpoint(data: Mapping[str, Any], env_id: str | None = None) -> dict[str, Any] | None:
    """The entry with the highest score (optionally of one env), or None; a tie goes to the newest
    registration (a final run scoring exactly its best trial is the one to keep).

    This is the workspace's one notion of "best" (``vbot status``, ``vbot checkpoints --best``,
    WAKE_UP.md and the TUI all use it, through ``workspace.read_model``).
    """
    scored = [(c["score"], order, c) for order, c in enumerate(data["checkpoints"])  # list order: registration order
              if isinstance(c.get("score"), (int, float)) and not isinstance(c.get("score"), bool)
              and (env_id is None or c.get("env_id") == env_id)]
    return max(scored, key=lambda s: s[:2])[2] if scored else None
