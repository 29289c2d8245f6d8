"""Building WAKE_UP.md: what a reader who knows nothing needs to take over a campaign.

Inputs (read-only), through the workspace read model (``vbot_agent.workspace.read_model``, the one
``vbot status`` and the TUI use): the campaign state, the liveness of its process, the best
registered checkpoint and the runs' ``progress.json``. Every section is built on its own; a
section that fails says why in its place, it never disappears (a summary that silently drops
its main table misleads the next reader worse than an error line).

Trends of live runs need earlier samples: :class:`~vbot_agent.agent.wakeup_text.RunHistory` keeps
a few per run, stored beside the state (``progress/.watch_history.json``) so that successive
snapshots see them too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from vbot_agent.agent import wakeup_text as text
from vbot_agent.agent.wakeup_text import RunHistory
from vbot_agent.fileio import atomic_write_text
from vbot_agent.sim.registry import has_competition
from vbot_agent.trials.score import LEGEND as SCORE_LEGEND
from vbot_agent.trials.score import METRICS_SOURCE
from vbot_agent.workspace import Paths
from vbot_agent.workspace.liveness import HEARTBEAT_STALE_S, RUNNING, Verdict, resume_command
from vbot_agent.workspace.read_model import (
    WorkspaceView,
    env_best_notes,
    not_in_registry_notes,
    read_workspace,
)
from vbot_agent.workspace.run_list import run_status
from vbot_agent.workspace.runs import RunInfo
from vbot_agent.workspace.search_health import state_warnings
from vbot_agent.workspace.state import curriculum_place, parse_time

__all__ = ["RunHistory", "WakeUpInput", "build_wake_up", "read_snapshot"]

LAST_TRIALS = 10
LIVE_RUNS = 6
HISTORY_FILE = ".watch_history.json"
RESUMABLE = ("stopped", "failed")  # state statuses a resume continues
TITLE = "# WAKE_UP: VBot campaign summary"

atomic_write = atomic_write_text  # the watcher's name for it


@dataclass
class WakeUpInput:
    """The workspace as read for one WAKE_UP.md, and the reward diagnosis to run on it."""

    view: WorkspaceView
    diagnosis: Callable[[WakeUpInput], list[str]] | None = None

    @property
    def paths(self) -> Paths:
        return self.view.paths

    @property
    def now(self) -> float:
        return self.view.now

    @property
    def state(self) -> dict[str, Any] | None:
        return self.view.state

    @property
    def state_error(self) -> str | None:
        return self.view.state_error

    @property
    def runs(self) -> tuple[RunInfo, ...]:
        return self.view.runs

    @property
    def runs_error(self) -> str | None:
        return self.view.runs_error


def read_snapshot(root: Path, now: datetime | float | None = None) -> WakeUpInput:
    """Read the workspace ``root`` at ``now`` (unix s or datetime; default: the clock); errors are kept."""
    if isinstance(now, datetime):
        now = now.timestamp()
    return WakeUpInput(read_workspace(Path(root), time.time() if now is None else now))


def build_wake_up(snap: WakeUpInput, history: RunHistory | None = None) -> str:
    """The Markdown text of WAKE_UP.md for one snapshot."""
    history = history or RunHistory()
    verdict: dict[str, Any] = {}
    sections = [
        ("Campaign", lambda: _campaign(snap)),
        ("Process", lambda: _process(snap, verdict)),
        ("Best result", lambda: _best(snap)),
        ("Stages", lambda: _stages(snap)) if curriculum_place(snap.state or {}) else ("Last trials", lambda: _trials(snap)),
        ("Live runs", lambda: _live_runs(snap, history)),
        ("Warnings", lambda: _warnings(snap, verdict)),
        ("Next commands", lambda: _next_commands(snap, verdict)),
    ]
    out = [
        TITLE,
        "",
        f"Generated {datetime.fromtimestamp(snap.now, timezone.utc).strftime('%Y-%m-%d %H:%M:%S UTC')} by `vbot watch` from "
        f"`{rel_path(snap.paths.state_file, snap.paths.root)}` and `runs/*/*/progress.json` in the workspace "
        f"`{snap.paths.root}`. Do not edit: `vbot watch --watch` rewrites it on every change while it runs, "
        "`vbot watch --snapshot` once (check the time above against the state's). The skills explain every command "
        "below: `vbot skills list`, then `vbot skills show training-pipeline` (they work from any folder). "
        "`vbot runs` lists every training run with its status, measured success and command.",
        "",
    ]
    for title, build in sections:
        out.append(f"## {title}")
        out.append("")
        try:
            out += build()
        except Exception as exc:  # a section that cannot be built says so in its place
            out.append(f"**This section could not be built:** {type(exc).__name__}: {exc}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def rel_path(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` when it is inside it, else as given."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _state_or_reason(snap: WakeUpInput) -> tuple[dict[str, Any] | None, list[str]]:
    if snap.state_error:
        return None, [f"Not available: the campaign state could not be read ({snap.state_error})."]
    if snap.state is None:
        return None, ["No campaign yet (no `starter_kit_schedule/progress/automl_state.yaml`)."]
    return snap.state, []


def _campaign(snap: WakeUpInput) -> list[str]:
    if snap.state_error:
        return [
            f"**The campaign state is unreadable:** {snap.state_error}",
            "",
            "Do not start a new campaign over it. `vbot status` names the last good snapshot "
            "(`starter_kit_log/<automl_id>/state.yaml`) and how to recover.",
        ]
    if snap.state is None:
        return ["No campaign in this workspace yet (no `starter_kit_schedule/progress/automl_state.yaml`)."]
    s = snap.state
    budget, elapsed = text.num(s.get("budget_hours")), text.num(s.get("elapsed_hours"))
    used = f"{elapsed:.2f} h of {budget:.2f} h ({100 * elapsed / budget:.0f}%)" if budget and elapsed is not None \
        else f"{text.fmt(elapsed)} h of {text.fmt(budget)} h"
    trials = s.get("trials") or []
    counts: dict[str, int] = {}
    for trial in trials:
        counts[str(trial.get("state"))] = counts.get(str(trial.get("state")), 0) + 1
    status = str(s.get("status", "?"))
    if status == RUNNING and snap.view.liveness.label == Verdict.DEAD:
        status = "died"  # the state still says running; the process section below says why (as `vbot status`)
    place = curriculum_place(s)
    if place is not None:  # stages, not a budget or trials
        return [
            f"- curriculum id: `{s.get('automl_id', '?')}`, plan `{place['plan'] or '?'}` (`{place['plan_file'] or '?'}`)",
            f"- status: **{status}**, curriculum {text.fmt(place['status'])}, stage "
            + (f"`{place['stage']}` ({place['stage_number']} of {place['stages']})" if place["stage"]
               else f"- (all {place['stages']} done)"),
            f"- env of the current stage: `{s.get('env_id', '?')}`",
            f"- started {text.fmt(s.get('started_at'))}, state updated {text.fmt(s.get('updated_at'))}",
            "- `vbot curriculum status` shows every stage against its promotion bar"
            + (f"; last message: {place['message']}" if place["message"] else ""),
        ]
    lines = [
        f"- campaign id: `{s.get('automl_id', '?')}`",
        f"- status: **{status}**, mode `{s.get('mode', '?')}`, phase `{s.get('phase', '?')}`"
        + (f", stage `{s.get('stage')}`" if s.get("stage") is not None else ""),
        f"- env: `{s.get('env_id', '?')}`",
        f"- budget used: {used}",
        f"- started {text.fmt(s.get('started_at'))}, state updated {text.fmt(s.get('updated_at'))}",
        f"- trials: {len(trials)} (" + (", ".join(f"{v} {k}" for k, v in sorted(counts.items())) or "none yet") + ")",
    ]
    if s.get("score_formula"):
        lines.append(f"- score formula: `{s['score_formula']}`, where {SCORE_LEGEND}")
    return lines


def _process(snap: WakeUpInput, verdict: dict[str, Any]) -> list[str]:
    state, reason = _state_or_reason(snap)
    if state is None:
        return reason
    status = str(state.get("status", "")).lower()
    pid, host = state.get("pid"), state.get("host")
    live = snap.view.liveness
    where = f"pid {pid}" + (f" on {host}" if host else "")
    beat = f"last heartbeat {text.fmt(state.get('heartbeat'))} ({text.age(parse_time(state.get('heartbeat')), snap.now)})"
    if live.label == Verdict.DEAD:
        verdict["dead"] = True
        return [
            f"**DEAD.** The campaign says it is {status} but {where} is not running; {beat}. "
            "It died at or shortly after that heartbeat.",
            "",
            f"**Resume it first:** `{resume_command(state)}` (finished trials are kept; an interrupted search "
            "trial is run again, an interrupted final run continues from its last checkpoint).",
        ]
    if live.label == Verdict.UNKNOWN or (live.label == Verdict.STALE and not live.pid_checked):
        verdict["dead"] = True
        return [
            f"**PROBABLY DEAD.** {where} cannot be checked from this machine and the {beat} is older than "
            f"{HEARTBEAT_STALE_S:.0f} s.",
            "",
            f"If it is not running on {host or 'its host'}, **resume it first:** `{resume_command(state)}`.",
        ]
    if live.label == Verdict.STALE:
        verdict["hung"] = True
        return [f"**ALIVE BUT SILENT.** {where} exists but the {beat} is older than {HEARTBEAT_STALE_S:.0f} s: "
                "it may be hung. Check it (`vbot status`) before killing it; after a kill, resume with "
                f"`{resume_command(state)}`."]
    if live.label == Verdict.ALIVE:
        verdict["alive"] = True
        return [f"**ALIVE.** {where} is running; {beat}."]
    if status in RESUMABLE:
        verdict["resumable"] = True
        step = resume_command(state)
        how = (f"Its stuck stage needs more steps or a lower bar first: `{step}`, then `vbot curriculum run`"
               if (state.get("curriculum") or {}).get("status") == "stuck" else f"Resume with `{step}`")
        return [f"Not running (status {status}); {beat}. {how}."]
    return [f"Not running (status {status or 'unknown'}); {beat}."]


def _best(snap: WakeUpInput) -> list[str]:
    if snap.view.best_error:
        return [f"Not available: the checkpoint registry could not be read ({snap.view.best_error})."]
    best = snap.view.best
    notes = [f"- {note}" for note in [*env_best_notes(snap.view), *not_in_registry_notes(snap.view)]]
    if not best:
        return ["No checkpoint registered yet (a campaign registers each complete trial's, "
                "`vbot checkpoints --add RUN` a training run's).", *(["", *notes] if notes else [])]
    lines = [
        "The best checkpoint in the registry (campaign trials, final runs, promoted curriculum stages and runs added "
        "with `vbot checkpoints --add`, by campaign score; as `vbot checkpoints --best` names it, and `vbot status` "
        "during a campaign).",
        *(["", *notes] if notes else []),
        "",
        f"- `{best.get('id', '?')}`" + (f" (trial {best['trial']})" if best.get("trial") is not None else "")
        + f", score **{text.fmt(best.get('score'), 4)}**",
        f"- checkpoint: `{best.get('checkpoint') or '-'}`",
    ]
    metrics = best.get("metrics") or {}
    if metrics:
        lines.append("- metrics: " + ", ".join(f"{k} {text.fmt(v)}" for k, v in metrics.items() if not isinstance(v, dict))
                     + f" ({METRICS_SOURCE})")
    config = {k: best.get(k) for k in ("params", "reward_scales") if best.get(k)}
    if config:
        lines += ["", "Configuration:", "", "```yaml",
                  yaml.safe_dump(config, sort_keys=True, default_flow_style=False).rstrip(), "```"]
    return lines


def _stages(snap: WakeUpInput) -> list[str]:
    return text.stages_table((snap.state or {}).get("curriculum") or {})


def _trials(snap: WakeUpInput) -> list[str]:
    state, reason = _state_or_reason(snap)
    if state is None:
        return reason
    return text.trials_table(state.get("trials") or [], LAST_TRIALS)


def _live_runs(snap: WakeUpInput, history: RunHistory) -> list[str]:
    if snap.runs_error:
        return [f"**Could not list runs:** {snap.runs_error}"]
    if not snap.runs:
        return ["No training runs yet (no `runs/*/*/progress.json`)."]
    # one status rule with `vbot runs`: a run whose progress says running but whose trainer is gone
    # or silent is stopped
    status = {info.path: run_status(info.progress, snap.now) for info in snap.runs if not info.error}
    live = [r for r in snap.runs if status.get(r.path, ("",))[0] == RUNNING]
    shown = live or list(snap.runs)
    lines = [] if live else ["No run is training now; the most recent runs:", ""]
    lines += [
        "Reward, success and distance here are the training episodes' running figures (progress.json, "
        "exploring policy); `vbot runs` shows each run's measured evaluation.",
        "",
        "| run | status | progress | steps/s | train reward | train success | train distance (m) | updated | trend |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for info in shown[:LIVE_RUNS]:
        run, progress = rel_path(info.path, snap.paths.root), info.progress
        if info.error:
            lines.append(f"| `{run}` | **unreadable**: {text.cell(info.error)} | | | | | | | |")
            continue
        steps, total = text.num(progress.get("env_steps")), text.num(progress.get("max_env_steps"))
        done = f"{text.steps(steps)}/{text.steps(total)}" + (f" ({100 * steps / total:.0f}%)" if steps is not None and total else "")
        word, why = status[info.path]
        lines.append(
            f"| `{run}` | {text.cell(word + (f': {why}' if why else ''))} | {done} "
            f"| {text.rate(progress.get('env_steps_per_s'))} "
            f"| {text.fmt(progress.get('reward'))} | {text.pct(progress.get('success_rate'))} "
            f"| {text.fmt(progress.get('distance_to_target'))} | {text.age(_updated(progress), snap.now)} "
            f"| {history.trend(run) if word == RUNNING else '-'} |"
        )
    hidden = len(snap.runs) - min(len(shown), LIVE_RUNS)
    if hidden > 0:
        lines += ["", f"{hidden} older run(s) not shown."]
    return lines


def _updated(progress: dict[str, Any]) -> float | None:
    try:
        return parse_time(progress.get("updated_at"))
    except ValueError:
        return None


def _warnings(snap: WakeUpInput, verdict: dict[str, Any]) -> list[str]:
    found: list[str] = []
    if snap.state_error:
        found.append(f"The campaign state is unreadable ({snap.state_error}).")
    if verdict.get("dead"):
        found.append(f"The campaign process is dead while its state says running: `{resume_command(snap.state)}` first.")
    if verdict.get("hung"):
        found.append("The campaign process has not written a heartbeat for a long time.")
    for info in snap.runs:
        run = rel_path(info.path, snap.paths.root)
        if info.error:
            found.append(f"Run `{run}`: progress.json unreadable ({info.error}).")
            continue
        live = info.liveness(snap.now)
        if live.label == Verdict.DEAD:
            found.append(f"Run `{run}` says running but its pid {info.progress.get('pid')} is gone (stale run): "
                         f"it stopped; `vbot train --resume {run}` continues it from its last checkpoint.")
        elif live.label == Verdict.STALE:
            found.append(f"Run `{run}` says running but its progress was last updated "
                         f"{text.age(_updated(info.progress), snap.now)} (stale run).")
    if snap.state:
        trials = snap.state.get("trials") or []
        failed = [t for t in trials if str(t.get("state")) == "fail"]
        recent = trials[-5:]
        recent_failed = [t for t in recent if str(t.get("state")) == "fail"]
        if failed:
            found.append(f"{len(failed)} failed trial(s) of {len(trials)}"
                         + (f"; {len(recent_failed)} of the last {len(recent)}" if recent_failed else "") + ". Last error: "
                         + f"trial {failed[-1].get('number')}: {str(failed[-1].get('error') or 'no message')[:160]}")
        if len(recent) >= 3 and len(recent_failed) == len(recent):
            found.append("Every recent trial failed: stop and fix the cause before spending more budget "
                         "(see `vbot skills show training-campaign`, 'Reading a campaign').")
        budget, elapsed = text.num(snap.state.get("budget_hours")), text.num(snap.state.get("elapsed_hours"))
        if budget and elapsed is not None and elapsed >= 0.9 * budget and snap.state.get("status") == RUNNING:
            found.append(f"Budget nearly spent: {elapsed:.2f} of {budget:.2f} h.")
        # tied or floor scores (workspace/search_health.py), the same sentences `vbot status` and analyze print
        found += [f"Search: {w}" for w in state_warnings(snap.state)]
    found += _diagnosis(snap)
    return [f"- {w}" for w in found] or ["None."]


def _diagnosis(snap: WakeUpInput) -> list[str]:
    if snap.diagnosis is None:
        return ["Reward diagnosis: not run for this snapshot."]
    return snap.diagnosis(snap)


def _next_commands(snap: WakeUpInput, verdict: dict[str, Any]) -> list[str]:
    commands: list[tuple[str, str]] = []
    state = snap.state
    if snap.state_error:
        commands.append(("vbot status", "names the last good state snapshot and how to recover"))
    elif state is None:
        commands += [
            ("vbot envs", "see the env ids"),
            ("vbot train --env vbot_navigation_section001 --max-env-steps 2000000", "a probe run (minutes)"),
            ("vbot automl --mode stage --env vbot_navigation_section001 --budget-hours 8", "start a campaign"),
        ]
    else:
        status = str(state.get("status", "")).lower()
        if verdict.get("dead") or verdict.get("resumable"):
            stuck = (state.get("curriculum") or {}).get("status") == "stuck"
            commands.append((resume_command(state), "FIRST: the stuck stage needs more steps (this edit) or a lower bar "
                             "(`--set STAGE.promote.success_rate=X`); then `vbot curriculum run` continues it" if stuck
                             else "FIRST: resume the campaign where it stopped"))
        curriculum = state.get("mode") == "curriculum"
        if verdict.get("alive") or verdict.get("hung"):
            commands.append(("vbot status", "one screen: the curriculum's stage and process" if curriculum
                             else "one screen: phase, budget, trials, live trial"))
        if curriculum:
            commands.append(("vbot runs", "each stage's run with its measured evaluations"))
        else:
            commands.append(("vbot analyze", "trials sorted by score, parameter importances"))
        if status != RUNNING:  # the best of each env the competition scores (scores compare within an env)
            for best in [b for b in snap.view.env_bests if b.get("checkpoint") and has_competition(str(b.get("env_id")))][:2]:
                commands.append((f"vbot play --env {best['env_id']} --policy {best['checkpoint']} --competition",
                                 f"score the best {best['env_id']} policy as the competition does"))
        if state.get("curriculum"):
            commands.append(("vbot curriculum status", "is the current stage ready to advance?"))
        if [t for t in (state.get("trials") or [])[-5:] if str(t.get("state")) == "fail"]:
            commands.append(("vbot diagnose-reward latest", "look for reward pathologies in the latest run"))
    commands.append(("vbot watch --watch", "keep this file current"))
    lines = ["```bash"]
    lines += [f"{cmd:<70} # {why}" for cmd, why in commands]
    lines.append("```")
    return lines
