"""The campaign state file: ``starter_kit_schedule/progress/automl_state.yaml`` (docs/design.md, "Campaign state").

It is the campaign's one readable source of truth. Plain YAML types only, a schema version,
written atomically; after every write the same text is kept as a snapshot in
``starter_kit_log/<automl_id>/state.yaml`` so a hand-broken file can be recovered.

Other code (the watcher, the TUI, ``vbot status``) reads it with :func:`load_state`, which raises a
one-line UsageError naming the last good snapshot when the file is corrupt.

Top-level keys (see ``new_state``): schema_version, automl_id, status, mode, phase, stage, env_id,
budget_hours, elapsed_hours, started_at, updated_at, heartbeat, pid, host, storage, study_name,
settings, score_formula, trials, best, final, curriculum.

Each trial: number, state (complete | pruned | fail | running | waiting), params, reward_scales,
metrics, score, run_dir, checkpoint, started_at, finished_at, error, worker, retry_of (the failed trial
this one repeats), retried (a copy of this one was queued), adopted (scored after a resume, not
retrained), intermediate.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from vbot_agent.enums import WordEnum
from vbot_agent.errors import UsageError, VbotError
from vbot_agent.fileio import atomic_write_text, dump_yaml

SCHEMA_VERSION = 1


class CampaignState(WordEnum):
    """The ``status:`` word of the state file: what the campaign (or curriculum) process is doing or ended with."""

    RUNNING = "running"
    STOPPED = "stopped"  # by a signal; `vbot automl --resume` continues
    COMPLETE = "complete"
    BUDGET_EXHAUSTED = "budget_exhausted"
    FAILED = "failed"


class TrialState(WordEnum):
    """``trials[].state``: optuna's trial states, in the state file's words."""

    COMPLETE = "complete"
    PRUNED = "pruned"
    FAIL = "fail"
    RUNNING = "running"
    WAITING = "waiting"


class FinalState(WordEnum):
    """``final.state``: the long training of the best configuration (mode stage)."""

    WAITING = "waiting"  # a resume will start or continue it
    RUNNING = "running"
    COMPLETE = "complete"
    FAIL = "fail"
    INTERRUPTED = "interrupted"  # stopped by a signal; continued at resume
    BUDGET = "budget"  # the budget ran out during it; continued at resume with more budget


STATUSES = tuple(CampaignState)
PHASES = ("search", "final", "done")
TRIAL_STATES = tuple(TrialState)
REQUIRED_KEYS = (
    "schema_version", "automl_id", "status", "mode", "phase", "stage", "env_id", "budget_hours",
    "elapsed_hours", "started_at", "updated_at", "heartbeat", "pid", "host", "storage", "study_name",
    "settings", "score_formula", "trials", "best", "curriculum",
)


def now_iso(ts: float | None = None) -> str:
    """UTC time as ``2026-11-23T10:55:00Z`` (seconds)."""
    moment = datetime.fromtimestamp(time.time() if ts is None else ts, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: Any) -> float | None:
    """Unix seconds of a time in the workspace's files; None when absent (None or "").

    Takes what the writers write: ``now_iso`` text (``2026-11-23T10:55:00Z``), any ISO-8601 text with
    an offset, a datetime, or epoch seconds. Naive times are UTC. Raises ValueError on text that is
    not a time. The one time parser of every reader (status, WAKE_UP.md, the TUI).
    """
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip()
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def new_state(*, automl_id: str, settings: Mapping[str, Any], storage: str, study_name: str,
              score_formula: str) -> dict[str, Any]:
    """A fresh state for a campaign that starts now (status running, phase search, no trials)."""
    stamp = now_iso()
    return {
        "schema_version": SCHEMA_VERSION,
        "automl_id": automl_id,
        "status": "running",
        "mode": settings["mode"],
        "phase": "search",
        "stage": None,  # curriculum stage name, when a curriculum drives the campaign
        "env_id": settings["env_id"],
        "budget_hours": settings["budget_hours"],
        "elapsed_hours": 0.0,
        "started_at": stamp,
        "updated_at": stamp,
        "heartbeat": stamp,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "storage": storage,
        "study_name": study_name,
        "settings": dict(settings),
        "score_formula": score_formula,
        "trials": [],
        "best": None,
        "final": None,
        "live": None,
        "curriculum": None,
        "message": None,
    }


def count_trials(trials: list[dict[str, Any]]) -> dict[str, int]:
    """Trials by state, one per slot of ``hp_trials``: a failed trial that was queued again counts
    through its copy (``retry_of``) only, so the total never exceeds the trials asked for."""
    superseded = {t["number"] for t in trials if t.get("retried")}
    superseded |= {t.get("retry_of") for t in trials if t.get("retry_of") is not None}
    counts: dict[str, int] = {}
    for t in trials:
        if t["number"] not in superseded:
            counts[t["state"]] = counts.get(t["state"], 0) + 1
    return counts


def validate_state(data: Any) -> str | None:
    """The first problem with ``data`` as a state, or None when it is a valid state."""
    if not isinstance(data, dict):
        return f"expected a mapping at the top, got {type(data).__name__}"
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        if isinstance(version, int) and version > SCHEMA_VERSION:
            return f"schema_version {version} was written by a newer vbot (this one reads {SCHEMA_VERSION}); upgrade vbot"
        return f"schema_version is {version!r}, expected {SCHEMA_VERSION}"
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        return f"missing keys: {', '.join(missing)}"
    if data["status"] not in STATUSES:
        return f"status {data['status']!r} is not one of {', '.join(STATUSES)}"
    if not isinstance(data["trials"], list):
        return "trials must be a list"
    for i, trial in enumerate(data["trials"]):
        if not isinstance(trial, dict) or not isinstance(trial.get("number"), int):
            return f"trials[{i}] needs an integer number"
        if trial.get("state") not in TRIAL_STATES:
            return f"trials[{i}].state {trial.get('state')!r} is not one of {', '.join(TRIAL_STATES)}"
    if data["best"] is not None and not isinstance(data["best"], dict):
        return "best must be a mapping or null"
    return None


def _parse(text: str) -> tuple[Any, str | None]:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        return None, f"{where}malformed YAML ({getattr(exc, 'problem', None) or type(exc).__name__})"
    return data, validate_state(data)


def workspace_of(state_path: Path) -> Path:
    """The workspace root of ``<root>/starter_kit_schedule/progress/automl_state.yaml``."""
    return Path(state_path).resolve().parent.parent.parent


def last_good_snapshot(state_path: str | os.PathLike) -> Path | None:
    """The newest valid ``starter_kit_log/*/state.yaml`` of the workspace holding ``state_path``."""
    logs = workspace_of(Path(state_path)) / "starter_kit_log"
    best: tuple[str, Path] | None = None
    for snap in logs.glob("*/state.yaml"):
        try:
            data, problem = _parse(snap.read_text())
        except OSError:
            continue
        if problem is None and (best is None or str(data["updated_at"]) > best[0]):
            best = (str(data["updated_at"]), snap)
    return best[1] if best else None


def load_state(path: str | os.PathLike) -> dict[str, Any]:
    """Read and validate the state file at ``path``.

    Returns the state as a dict of plain types. Raises UsageError when the file is missing (saying
    how to start a campaign) or corrupt (naming the last good snapshot and how to recover).
    Never writes anything.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise UsageError(f"no campaign state at {path}; start a campaign with `vbot automl`") from None
    except OSError as exc:
        raise UsageError(f"cannot read the campaign state {path}: {exc.strerror}") from None
    data, problem = _parse(text)
    if problem is not None:
        raise UsageError(corrupt_message(path, problem))
    return data


def corrupt_message(path: Path, problem: str) -> str:
    snap = last_good_snapshot(path)
    if snap is None:
        return (f"campaign state {path} is corrupt ({problem}) and no good snapshot exists in starter_kit_log/; "
                f"fix the file by hand, or move it away to start a new campaign with `vbot automl`")
    return (f"campaign state {path} is corrupt ({problem}); the last good snapshot is {snap}: "
            f"recover with `cp {snap} {path}` then `vbot automl --resume` (nothing was overwritten)")


class StateWriter:
    """The single writer of the state file (the campaign holding the workspace lock).

    Before each write it checks that the file on disk is still what it last wrote, so a file that
    someone edited or broke meanwhile is never overwritten silently: it raises VbotError instead.
    """

    def __init__(self, state_path: Path, snapshot_path: Path, expected_text: str | None) -> None:
        self.state_path = state_path
        self.snapshot_path = snapshot_path
        self._last_text = expected_text

    def write(self, state: dict[str, Any]) -> None:
        """Stamp ``updated_at`` and write ``state`` atomically, then the snapshot."""
        state["updated_at"] = now_iso()
        problem = validate_state(state)
        if problem is not None:  # an invariant of this module, not user input
            raise AssertionError(f"refusing to write an invalid state: {problem}")
        text = dump_yaml(state)
        self._check_unchanged()
        atomic_write_text(self.state_path, text)
        self._last_text = text
        atomic_write_text(self.snapshot_path, text)

    def _check_unchanged(self) -> None:
        try:
            current = self.state_path.read_text()
        except FileNotFoundError:
            current = None
        if current != self._last_text:
            _, problem = _parse(current) if current is not None else (None, "it was deleted")
            what = f"it is now corrupt ({problem})" if problem else "someone else changed it"
            raise VbotError(
                f"campaign state {self.state_path} changed under the running campaign ({what}); "
                f"not overwriting it. The campaign's own last state is in {self.snapshot_path}; "
                f"restore it with `cp {self.snapshot_path} {self.state_path}` then `vbot automl --resume`"
            )


def stage_status_word(cur: dict[str, Any], index: int) -> str:
    """A curriculum stage's status as every reader shows it: a stuck stage that was handed on says
    so, and the stuck current stage of a curriculum that is no longer stuck (an edit gave it more
    steps or a bar it clears) says that `vbot curriculum run` continues it."""
    stage = (cur.get("stages") or [])[index]
    word = str(stage.get("status"))
    if stage.get("advanced"):
        return f"{word} (advanced anyway)"
    if word == "stuck" and index == cur.get("stage_index") and cur.get("status") != "stuck":
        return f"{word}; `vbot curriculum run` continues it"
    return word


def stuck_stage(cur: dict[str, Any]) -> dict[str, Any] | None:
    """The record of a stuck curriculum's current stage; None when the curriculum is not stuck."""
    stages = cur.get("stages") or []
    index = cur.get("stage_index")
    if cur.get("status") == "stuck" and isinstance(index, int) and 0 <= index < len(stages):
        return stages[index]
    return None


def curriculum_next(cur: dict[str, Any]) -> str:
    """The command that moves a curriculum on (``resume_command`` of a curriculum state)."""
    stage = stuck_stage(cur)
    if stage is None:
        return "vbot curriculum run"
    steps = stage.get("stuck_at_steps") or stage.get("env_steps") or 0
    return f"vbot curriculum edit --set {stage.get('name')}.steps={2 * int(steps)}"


def curriculum_note(cur: dict[str, Any], short: bool = False) -> str | None:
    """The curriculum's note as every reader shows it. A stuck curriculum's note is composed here
    from its stage record (the kept best checkpoint's success and env steps), never read back as
    stored text, so a sentence written by another version of the rules cannot disagree with today's.
    ``short``: two lines at 80 columns with the next command (the TUI's panel)."""
    stage = stuck_stage(cur)
    if stage is None:
        return cur.get("message")
    name, best = stage.get("name"), (stage.get("metrics") or {}).get("success_rate")
    steps = int(stage.get("env_steps") or 0)
    if short:
        return (f"stage {name!r} stuck after {steps:,} env steps"
                + (f" (best success {best:.2f})" if isinstance(best, (int, float)) else "")
                + f"; next `{curriculum_next(cur)}`")
    measured = (f"best evaluation success {best:.2f} at {int(stage.get('best_env_steps') or 0):,} env steps"
                if isinstance(best, (int, float)) else "no evaluation yet")
    handed_on = [s.get("name") for s in cur["stages"][:cur["stage_index"]] if s.get("advanced")]
    before = (f". The stage(s) before it, {', '.join(repr(n) for n in handed_on)}, were handed on stuck "
              "(on_stuck: advance), so it started from a policy that never met their bars and more steps here may "
              "not be enough (the curriculum-learning skill, 'Judgement')" if handed_on else "")
    return (f"stage {name!r} is stuck after {steps:,} env steps ({measured}), short of "
            f"its promotion bar (`vbot curriculum status` names the unmet criterion). Give it more env steps "
            f"(`{curriculum_next(cur)}`) or lower its bar (`vbot curriculum edit --set "
            f"{name}.promote.success_rate=X`), then `vbot curriculum run`{before}")


def state_note(state: dict[str, Any], short: bool = False) -> str | None:
    """The state's note as `vbot status`, the TUI (``short``) and WAKE_UP.md print it: a
    curriculum's is ``curriculum_note``."""
    cur = state.get("curriculum")
    if state.get("mode") == "curriculum" and isinstance(cur, dict):
        return curriculum_note(cur, short)
    return state.get("message")


def curriculum_place(state: dict[str, Any]) -> dict[str, Any] | None:
    """Where a curriculum (mode ``curriculum``) stands in its plan: plan name and file, status, the
    current stage's name (None when every stage is done), its number and the stage count. None for
    a campaign. `vbot status` and WAKE_UP.md both print this; `vbot curriculum status` the details."""
    cur = state.get("curriculum")
    if state.get("mode") != "curriculum" or not isinstance(cur, dict):
        return None
    stages = [s for s in cur.get("stages") or [] if isinstance(s, dict)]
    index = int(cur.get("stage_index") or 0)
    return {"plan": cur.get("plan_name"), "plan_file": cur.get("plan"), "status": cur.get("status"),
            "message": curriculum_note(cur), "stage": stages[index].get("name") if index < len(stages) else None,
            "stage_number": min(index + 1, len(stages)), "stages": len(stages)}
