"""Reading what the campaign and the trainer write, for WAKE_UP.md. No rendering here.

``load_campaign_state`` is the one place the watcher reads ``automl_state.yaml``: it uses the
campaign package's loader (``vbot_agent.workspace.state.load_state``) when that module exists, and
plain ``yaml.safe_load`` only while the campaign package is absent. Any other import failure, and
any unreadable state, is raised for the caller to report; nothing is swallowed.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from vbot_agent.errors import UsageError

PROGRESS_FILE = "progress.json"


def load_campaign_state(path: Path) -> dict[str, Any] | None:
    """The campaign state as a plain dict, or None when the file does not exist (no campaign yet).

    Raises on a corrupt or unreadable file, with a message naming the file.
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        from vbot_agent.workspace.state import load_state
    except ModuleNotFoundError as exc:
        if exc.name not in ("vbot_agent.workspace", "vbot_agent.workspace.state"):
            raise
        return _safe_load_state(path)
    return _as_dict(load_state(path))


def _safe_load_state(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise UsageError(f"{path} is not valid YAML: {exc}".replace("\n", " ")) from None
    if not isinstance(data, dict):
        raise UsageError(f"{path} does not hold a mapping (got {type(data).__name__}); the state is corrupt")
    return data


def _as_dict(state: Any) -> dict[str, Any]:
    if isinstance(state, dict):
        return state
    if dataclasses.is_dataclass(state) and not isinstance(state, type):
        return dataclasses.asdict(state)
    for method in ("to_dict", "as_dict", "model_dump"):
        if callable(getattr(state, method, None)):
            return getattr(state, method)()
    raise TypeError(f"campaign load_state returned {type(state).__name__}, not a mapping")


def find_run_progress(runs_dir: Path) -> list[Path]:
    """Every ``runs/<env_id>/<run>/progress.json``, newest modification first."""
    if not runs_dir.is_dir():
        return []
    found = [p for p in runs_dir.glob(f"*/*/{PROGRESS_FILE}") if p.is_file()]
    return sorted(found, key=lambda p: (-p.stat().st_mtime_ns, str(p)))


def load_run_progress(path: Path) -> dict[str, Any]:
    """One run's progress.json as a dict; raises UsageError naming the file when unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"{path}: cannot read progress ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: progress is not a JSON object")
    return data


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 string, datetime or epoch seconds as an aware UTC datetime; None if absent.

    Naive times are taken as UTC. Raises ValueError on text that is not a time.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        moment = datetime.fromtimestamp(float(value), tz=timezone.utc)
    else:
        text = str(value).strip()
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def pid_alive(pid: Any, host: Any = None) -> bool | None:
    """True/False when the pid can be checked on this machine; None when it cannot (other host).

    A zombie (exited, not yet reaped) counts as dead.
    """
    if pid is None:
        return None
    if host and str(host) not in (socket.gethostname(), socket.getfqdn(), "localhost"):
        return None
    try:
        pid = int(pid)
    except (TypeError, ValueError):
        return None
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():
        try:
            state = stat.read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return True
        return state not in ("Z", "X")
    return True
