"""The workspace lock: one campaign writes a workspace's state at a time.

An exclusive ``flock`` on ``starter_kit_schedule/progress/automl.lock``, held for the campaign's
life. The kernel releases it when the process dies in any way (``kill -9`` included), so a stale
lock never blocks ``--resume``. The file holds who has it, for the refusal message.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from pathlib import Path

from vbot_agent.errors import VbotError
from vbot_agent.workspace.state import now_iso


class CampaignLocked(VbotError):
    """Another live campaign holds the workspace lock."""


class WorkspaceLock:
    """``with WorkspaceLock(path, automl_id):`` holds the lock or raises CampaignLocked."""

    def __init__(self, path: Path, automl_id: str) -> None:
        self.path = Path(path)
        self.automl_id = automl_id
        self._fd: int | None = None

    def acquire(self) -> WorkspaceLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:  # a read-only or full workspace: say so instead of a traceback
            raise VbotError(f"cannot open the workspace lock {self.path} ({exc.strerror or exc}); "
                            "the campaign needs its starter_kit_schedule/progress/ folder writable") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe(self.path)
            os.close(fd)
            raise CampaignLocked(
                f"another campaign is running on this workspace ({holder}); only one campaign may write "
                f"{self.path.parent / 'automl_state.yaml'}. Watch it with `vbot status`, stop it with "
                f"Ctrl-C / kill <pid> (it stops gracefully), or use another workspace (`vbot init DIR`)"
            ) from None
        info = {"automl_id": self.automl_id, "pid": os.getpid(), "host": socket.gethostname(), "since": now_iso()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> WorkspaceLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _describe(path: Path) -> str:
    try:
        info = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return "holder unknown"
    if not info.get("pid"):  # it took the lock an instant ago and has not written its name yet
        return "a campaign starting at this instant"
    return f"automl_id {info.get('automl_id')}, pid {info.get('pid')} on {info.get('host')}, since {info.get('since')}"


def is_locked(path: Path) -> bool:
    """True when a live process holds the lock at ``path`` (used by ``vbot status``)."""
    if not Path(path).exists():
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
