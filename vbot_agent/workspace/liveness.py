"""Is a campaign or a training run alive? The one rule every reader applies.

A process writes its ``pid`` and ``host`` and refreshes a time stamp (the campaign's ``heartbeat``,
a run's ``updated_at``) while it works. On the host that wrote them the pid decides (a zombie is
dead); the time stamp then only tells a hung process from a working one. On another host the pid
cannot be checked and the time stamp alone decides.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vbot_agent.enums import WordEnum
from vbot_agent.workspace.state import curriculum_next, parse_time

# A campaign refreshes its heartbeat every ``timeouts.heartbeat_s`` (10 s by default) and a trainer its
# progress.json every iteration (seconds); five silent minutes mean the process is gone or hung.
HEARTBEAT_STALE_S = 300.0
RUN_STALE_S = 300.0
RUNNING = "running"  # the status word of a live campaign state and of a live run's progress.json


class Verdict(WordEnum):
    """What a reader may conclude about the process behind a state or a run."""

    ALIVE = "alive"  # the pid runs here, or (other host) the time stamp is fresh
    STALE = "stale"  # says running, but its time stamp is older than the limit: hung or (other host) gone
    DEAD = "dead"  # says running, but its pid is gone from this host
    UNKNOWN = "unknown"  # says running, on another host, without a time stamp
    FINISHED = "finished"  # not running: its status says it stopped


@dataclass(frozen=True)
class Liveness:
    """A verdict, the age of the time stamp (s, None when absent) and whether the pid was checkable."""

    label: Verdict
    detail: str
    age_s: float | None = None
    pid_checked: bool = False

    @property
    def ok(self) -> bool:
        return self.label in (Verdict.ALIVE, Verdict.FINISHED)


def format_age(seconds: float | None) -> str:
    """``42s``, ``5m``, ``3h12m``, ``2d4h``; ``?`` for None."""
    if seconds is None:
        return "?"
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d{(s % 86400) // 3600}h"


def is_this_host(host: Any, hostname: str | None = None) -> bool:
    """True when ``host`` (as written by a process) names this machine; a missing host counts as here."""
    if not host:
        return True
    names = {hostname} if hostname else {socket.gethostname(), socket.getfqdn(), "localhost"}
    return str(host) in names


def pid_alive(pid: Any) -> bool | None:
    """True/False for a pid of this machine; None when ``pid`` is not a usable number.

    A zombie (exited, not yet reaped by its parent) counts as dead.
    """
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
        pass  # exists, owned by someone else
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc (macOS): the kill probe said it exists
    return state not in ("Z", "X")


def judge(status: Any, pid: Any, host: Any, stamp: Any, now: float, stale_after_s: float,
          hostname: str | None = None) -> Liveness:
    """The rule, for any process that writes status/pid/host and refreshes ``stamp`` (see the module doc)."""
    try:
        beat = parse_time(stamp)
    except ValueError:
        beat = None
    age = None if beat is None else now - beat
    if status != RUNNING:
        return Liveness(Verdict.FINISHED, f"status {status}", age)
    alive = pid_alive(pid) if is_this_host(host, hostname) else None
    checked = alive is not None
    if alive is False:
        return Liveness(Verdict.DEAD, f"pid {pid} is gone; last beat {format_age(age)} ago", age, checked)
    if age is not None and age > stale_after_s:
        return Liveness(Verdict.STALE, f"no beat for {format_age(age)}", age, checked)
    if alive:
        return Liveness(Verdict.ALIVE, f"pid {pid} runs; last beat {format_age(age)} ago", age, checked)
    if age is None:
        return Liveness(Verdict.UNKNOWN, "no heartbeat in the state", age, checked)
    return Liveness(Verdict.ALIVE, f"heartbeat {format_age(age)} ago on {host}", age, checked)


def resume_command(state: dict[str, Any] | None) -> str:
    """How to continue what the state describes: a curriculum resumes through its own command; a
    stuck one first needs more steps or a lower bar for its stage (``vbot curriculum edit``, which
    marks it stopped once it can go on: without an edit it would stop at the same stage again)."""
    if not state or state.get("mode") != "curriculum":
        return "vbot automl --resume"
    return curriculum_next(state.get("curriculum") if isinstance(state.get("curriculum"), dict) else {})


def campaign_liveness(state: dict[str, Any], now: float, hostname: str | None = None) -> Liveness:
    """Alive/dead of the campaign (or curriculum) process that writes the state ``state``."""
    found = judge(state.get("status"), state.get("pid"), state.get("host"), state.get("heartbeat"), now,
                  HEARTBEAT_STALE_S, hostname)
    if found.label in (Verdict.DEAD, Verdict.STALE):
        return Liveness(found.label, f"{found.detail} — resume with `{resume_command(state)}`", found.age_s,
                        found.pid_checked)
    return found


def run_liveness(progress: dict[str, Any], now: float, hostname: str | None = None) -> Liveness:
    """Alive/dead of the trainer that writes a run's ``progress.json`` (``progress``)."""
    return judge(progress.get("status"), progress.get("pid"), progress.get("host"), progress.get("updated_at"), now,
                 RUN_STALE_S, hostname)
