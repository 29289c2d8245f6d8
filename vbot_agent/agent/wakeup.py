"""Building WAKE_UP.md: what a reader who knows nothing needs to take over a campaign.

Inputs (read-only): ``starter_kit_schedule/progress/automl_state.yaml`` (campaign state) and
``runs/<env_id>/<run>/progress.json`` (live training runs). Every section is built on its own;
a section that fails says why in its place, it never disappears (DESIGN.md §9: the prior art's
watcher dropped its main table without a word).

Trends of live runs need earlier samples: :class:`RunHistory` keeps a few per run, stored beside
the state (``progress/.watch_history.json``) so that successive snapshots see them too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from vbot_agent.agent import state_source
from vbot_agent.fileio import atomic_write_text
from vbot_agent.workspace import Paths

HEARTBEAT_STALE_S = 300.0  # a campaign heartbeat older than this means the process is stuck or gone
RUN_STALE_S = 300.0  # a run marked running whose progress.json is older than this is stale
LAST_TRIALS = 10
LIVE_RUNS = 6
HISTORY_FILE = ".watch_history.json"
RUNNING = ("running", "starting", "resuming")
RESUMABLE = ("stopped", "failed", "interrupted")
RESUME_COMMAND = "vbot automl --resume"
CURRICULUM_RESUME_COMMAND = "vbot curriculum run"


def resume_command(state: dict[str, Any] | None) -> str:
    """How to continue what the state describes: a curriculum resumes through its own command."""
    return CURRICULUM_RESUME_COMMAND if state and state.get("mode") == "curriculum" else RESUME_COMMAND
TITLE = "# WAKE_UP: VBot campaign summary"


@dataclass
class RunHistory:
    """Recent samples (time, env_steps, reward, success_rate) of each run, for trends."""

    samples: dict[str, list[list[float]]] = field(default_factory=dict)
    keep: int = 20

    def add(self, run: str, progress: dict[str, Any], when: float) -> None:
        sample = [when, _num(progress.get("env_steps")), _num(progress.get("reward")),
                  _num(progress.get("success_rate"))]
        series = self.samples.setdefault(run, [])
        if series and series[-1][1] == sample[1]:
            return  # no new steps since the last sample
        series.append(sample)
        del series[: -self.keep]

    def trend(self, run: str) -> str:
        series = [s for s in self.samples.get(run, []) if s[2] is not None]
        if len(series) < 2:
            return "n/a (needs two samples; `vbot watch --watch` collects them)"
        first, last = series[0], series[-1]
        parts = [f"reward {_arrow(last[2] - first[2])} {last[2] - first[2]:+.3g}"]
        if first[3] is not None and last[3] is not None:
            parts.append(f"success {_arrow(last[3] - first[3])} {100 * (last[3] - first[3]):+.1f} pts")
        span = (last[1] or 0) - (first[1] or 0)
        return ", ".join(parts) + f" over {_steps(span)} steps"

    @classmethod
    def load(cls, path: Path) -> RunHistory:
        """The stored history; an unreadable file starts a fresh one (it only feeds trends)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(samples={str(k): [list(s) for s in v] for k, v in data.get("samples", {}).items()})
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError, AttributeError, TypeError):
            return cls()

    def save(self, path: Path) -> None:
        atomic_write(path, json.dumps({"samples": self.samples}))


def _num(value: Any) -> float | None:
    try:
        return float(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _arrow(delta: float) -> str:
    return "up" if delta > 1e-9 else "down" if delta < -1e-9 else "flat"


def _steps(value: Any) -> str:
    number = _num(value)
    if number is None:
        return "?"
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(number) >= size:
            return f"{number / size:.3g}{unit}"
    return f"{number:.0f}"


def _age(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    seconds = (now - moment).total_seconds()
    if seconds < 0:
        return "in the future (clock skew?)"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit} ago"
    return f"{seconds:.0f} s ago"


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def _rate(value: Any) -> str:
    number = _num(value)
    return "-" if number is None else f"{number:,.0f}"


def _pct(value: Any) -> str:
    number = _num(value)
    return "-" if number is None else f"{100 * number:.0f}%"


def _cell(value: Any) -> str:
    return _fmt(value).replace("|", "/").replace("\n", " ")


atomic_write = atomic_write_text  # the watcher's name for it


@dataclass
class Snapshot:
    """Everything read from disk for one WAKE_UP.md, with the read errors kept."""

    paths: Paths
    now: datetime
    state: dict[str, Any] | None = None
    state_error: str | None = None
    runs: list[tuple[Path, dict[str, Any] | None, str | None]] = field(default_factory=list)
    runs_error: str | None = None
    diagnosis: Callable[[Snapshot], list[str]] | None = None


def read_snapshot(root: Path, now: datetime | None = None) -> Snapshot:
    """Read the campaign state and run progress under workspace ``root``; errors are recorded."""
    paths = Paths(Path(root))
    snap = Snapshot(paths=paths, now=now or datetime.now(timezone.utc))
    try:
        snap.state = state_source.load_campaign_state(paths.state_file)
    except Exception as exc:  # reported in the Campaign section, never dropped
        snap.state_error = f"{type(exc).__name__}: {exc}"
    try:
        for progress_path in state_source.find_run_progress(paths.runs):
            try:
                snap.runs.append((progress_path, state_source.load_run_progress(progress_path), None))
            except Exception as exc:  # one unreadable run must not hide the others
                snap.runs.append((progress_path, None, f"{type(exc).__name__}: {exc}"))
    except OSError as exc:
        snap.runs_error = f"{type(exc).__name__}: {exc}"
    return snap


def build_wake_up(snap: Snapshot, history: RunHistory | None = None) -> str:
    """The Markdown text of WAKE_UP.md for one snapshot."""
    history = history or RunHistory()
    verdict: dict[str, Any] = {}
    sections = [
        ("Campaign", lambda: _campaign(snap)),
        ("Process", lambda: _process(snap, verdict)),
        ("Best result", lambda: _best(snap)),
        ("Last trials", lambda: _trials(snap)),
        ("Live runs", lambda: _live_runs(snap, history)),
        ("Warnings", lambda: _warnings(snap, verdict)),
        ("Next commands", lambda: _next_commands(snap, verdict)),
    ]
    out = [
        TITLE,
        "",
        f"Generated {snap.now.strftime('%Y-%m-%d %H:%M:%S UTC')} by `vbot watch` from "
        f"`{rel_path(snap.paths.state_file, snap.paths.root)}` and `runs/*/*/progress.json` in the workspace "
        f"`{snap.paths.root}`. Do not edit: it is rewritten on every change. The skills explain every command "
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


def _state_or_reason(snap: Snapshot) -> tuple[dict[str, Any] | None, list[str]]:
    if snap.state_error:
        return None, [f"Not available: the campaign state could not be read ({snap.state_error})."]
    if snap.state is None:
        return None, ["No campaign yet (no `starter_kit_schedule/progress/automl_state.yaml`)."]
    return snap.state, []


def _campaign(snap: Snapshot) -> list[str]:
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
    budget, elapsed = _num(s.get("budget_hours")), _num(s.get("elapsed_hours"))
    used = f"{elapsed:.2f} h of {budget:.2f} h ({100 * elapsed / budget:.0f}%)" if budget and elapsed is not None \
        else f"{_fmt(elapsed)} h of {_fmt(budget)} h"
    trials = s.get("trials") or []
    counts: dict[str, int] = {}
    for trial in trials:
        counts[str(trial.get("state"))] = counts.get(str(trial.get("state")), 0) + 1
    lines = [
        f"- campaign id: `{s.get('automl_id', '?')}`",
        f"- status: **{s.get('status', '?')}**, mode `{s.get('mode', '?')}`, phase `{s.get('phase', '?')}`"
        + (f", stage `{s.get('stage')}`" if s.get("stage") is not None else ""),
        f"- env: `{s.get('env_id', '?')}`",
        f"- budget used: {used}",
        f"- started {_fmt(s.get('started_at'))}, state updated {_fmt(s.get('updated_at'))}",
        f"- trials: {len(trials)} (" + (", ".join(f"{v} {k}" for k, v in sorted(counts.items())) or "none yet") + ")",
    ]
    if s.get("score_formula"):
        lines.append(f"- score formula: `{s['score_formula']}`")
    curriculum = s.get("curriculum")
    if isinstance(curriculum, dict):
        stage_bits = ", ".join(f"{k}: {_fmt(v)}" for k, v in curriculum.items() if not isinstance(v, (dict, list)))
        lines.append(f"- curriculum: {stage_bits or 'present'}")
    return lines


def _process(snap: Snapshot, verdict: dict[str, Any]) -> list[str]:
    state, reason = _state_or_reason(snap)
    if state is None:
        return reason
    status = str(state.get("status", "")).lower()
    pid, host = state.get("pid"), state.get("host")
    heartbeat = state_source.parse_time(state.get("heartbeat"))
    alive = state_source.pid_alive(pid, host)
    age_s = (snap.now - heartbeat).total_seconds() if heartbeat else None
    where = f"pid {pid}" + (f" on {host}" if host else "")
    beat = f"last heartbeat {_fmt(state.get('heartbeat'))} ({_age(heartbeat, snap.now)})"
    if status in RUNNING:
        if alive is False:
            verdict["dead"] = True
            return [
                f"**DEAD.** The campaign says it is {status} but {where} is not running; {beat}. "
                "It died at or shortly after that heartbeat.",
                "",
                f"**Resume it first:** `{resume_command(state)}` (finished trials are kept; the interrupted one is rerun).",
            ]
        if alive is None and (age_s is None or age_s > HEARTBEAT_STALE_S):
            verdict["dead"] = True
            return [
                f"**PROBABLY DEAD.** {where} cannot be checked from this machine and the {beat} is older than "
                f"{HEARTBEAT_STALE_S:.0f} s.",
                "",
                f"If it is not running on {host or 'its host'}, **resume it first:** `{resume_command(state)}`.",
            ]
        if age_s is not None and age_s > HEARTBEAT_STALE_S:
            verdict["hung"] = True
            return [f"**ALIVE BUT SILENT.** {where} exists but the {beat} is older than {HEARTBEAT_STALE_S:.0f} s: "
                    "it may be hung. Check it (`vbot status`) before killing it; after a kill, resume with "
                    f"`{resume_command(state)}`."]
        verdict["alive"] = True
        return [f"**ALIVE.** {where} is running; {beat}."]
    if status in RESUMABLE:
        verdict["resumable"] = True
        return [f"Not running (status {status}); {beat}. Resume with `{resume_command(state)}`."]
    return [f"Not running (status {status or 'unknown'}); {beat}."]


def _best(snap: Snapshot) -> list[str]:
    state, reason = _state_or_reason(snap)
    if state is None:
        return reason
    best = state.get("best")
    if not best:
        return ["No finished trial yet."]
    lines = [
        f"- trial {best.get('trial', '?')}, score **{_fmt(best.get('score'), 4)}**",
        f"- checkpoint: `{best.get('checkpoint') or '-'}`",
    ]
    metrics = best.get("metrics") or {}
    if metrics:
        lines.append("- metrics: " + ", ".join(f"{k} {_fmt(v)}" for k, v in metrics.items()))
    config = {k: best.get(k) for k in ("params", "reward_scales") if best.get(k)}
    if config:
        lines += ["", "Configuration:", "", "```yaml",
                  yaml.safe_dump(config, sort_keys=True, default_flow_style=False).rstrip(), "```"]
    return lines


def _trials(snap: Snapshot) -> list[str]:
    state, reason = _state_or_reason(snap)
    if state is None:
        return reason
    trials = state.get("trials") or []
    if not trials:
        return ["No trials yet."]
    shown = trials[-LAST_TRIALS:]
    lines = [
        f"The last {len(shown)} of {len(trials)} trials:",
        "",
        "| # | state | score | success | fall | points | time to target (s) | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for trial in shown:
        metrics = trial.get("metrics") or {}
        note = trial.get("error") or ""
        lines.append(
            f"| {_cell(trial.get('number'))} | {_cell(trial.get('state'))} | {_cell(trial.get('score'))} "
            f"| {_pct(metrics.get('success_rate'))} | {_pct(metrics.get('fall_rate'))} "
            f"| {_cell(metrics.get('competition_points'))} | {_cell(_time_to_target(metrics))} "
            f"| {_cell(str(note)[:80]) if note else ''} |"
        )
    return lines


def _time_to_target(metrics: dict[str, Any]) -> Any:
    """The campaign writes ``time_to_target_s``; older states ``mean_time_to_target_s``."""
    value = metrics.get("time_to_target_s")
    return metrics.get("mean_time_to_target_s") if value is None else value


def _live_runs(snap: Snapshot, history: RunHistory) -> list[str]:
    if snap.runs_error:
        return [f"**Could not list runs:** {snap.runs_error}"]
    if not snap.runs:
        return ["No training runs yet (no `runs/*/*/progress.json`)."]
    live = [r for r in snap.runs if r[1] and str(r[1].get("status")) in RUNNING]
    shown = live or snap.runs
    lines = [] if live else ["No run is training now; the most recent runs:", ""]
    lines += [
        "| run | status | progress | steps/s | reward | success | distance (m) | updated | trend |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for path, progress, error in shown[:LIVE_RUNS]:
        run = rel_path(path.parent, snap.paths.root)
        if progress is None:
            lines.append(f"| `{run}` | **unreadable**: {_cell(error)} | | | | | | | |")
            continue
        steps, total = _num(progress.get("env_steps")), _num(progress.get("max_env_steps"))
        done = f"{_steps(steps)}/{_steps(total)}" + (f" ({100 * steps / total:.0f}%)" if steps is not None and total else "")
        updated = state_source.parse_time(progress.get("updated_at"))
        lines.append(
            f"| `{run}` | {_cell(progress.get('status'))} | {done} | {_rate(progress.get('env_steps_per_s'))} "
            f"| {_fmt(progress.get('reward'))} | {_pct(progress.get('success_rate'))} "
            f"| {_fmt(progress.get('distance_to_target'))} | {_age(updated, snap.now)} "
            f"| {history.trend(run) if str(progress.get('status')) in RUNNING else '-'} |"
        )
    hidden = len(snap.runs) - min(len(shown), LIVE_RUNS)
    if hidden > 0:
        lines += ["", f"{hidden} older run(s) not shown."]
    return lines


def _warnings(snap: Snapshot, verdict: dict[str, Any]) -> list[str]:
    found: list[str] = []
    if snap.state_error:
        found.append(f"The campaign state is unreadable ({snap.state_error}).")
    if verdict.get("dead"):
        found.append(f"The campaign process is dead while its state says running: `{resume_command(snap.state)}` first.")
    if verdict.get("hung"):
        found.append("The campaign process has not written a heartbeat for a long time.")
    for path, progress, error in snap.runs:
        run = rel_path(path.parent, snap.paths.root)
        if progress is None:
            found.append(f"Run `{run}`: progress.json unreadable ({error}).")
            continue
        if str(progress.get("status")) not in RUNNING:
            continue
        updated = state_source.parse_time(progress.get("updated_at"))
        alive = state_source.pid_alive(progress.get("pid"))
        if alive is False:
            found.append(f"Run `{run}` says running but its pid {progress.get('pid')} is gone (stale run).")
        elif updated is None or (snap.now - updated).total_seconds() > RUN_STALE_S:
            found.append(f"Run `{run}` says running but its progress was last updated {_age(updated, snap.now)} "
                         "(stale run).")
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
        budget, elapsed = _num(snap.state.get("budget_hours")), _num(snap.state.get("elapsed_hours"))
        if budget and elapsed is not None and elapsed >= 0.9 * budget and str(snap.state.get("status")) in RUNNING:
            found.append(f"Budget nearly spent: {elapsed:.2f} of {budget:.2f} h.")
    found += _diagnosis(snap)
    return [f"- {w}" for w in found] or ["None."]


def _diagnosis(snap: Snapshot) -> list[str]:
    if snap.diagnosis is None:
        return ["Reward diagnosis: not run for this snapshot."]
    return snap.diagnosis(snap)


def _next_commands(snap: Snapshot, verdict: dict[str, Any]) -> list[str]:
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
            commands.append((resume_command(state), "FIRST: resume the campaign where it stopped"))
        if verdict.get("alive") or verdict.get("hung"):
            commands.append(("vbot status", "one screen: phase, budget, trials, live trial"))
        commands.append(("vbot analyze", "trials sorted by score, parameter importances"))
        best = state.get("best") or {}
        if best.get("checkpoint") and status not in RUNNING:
            checkpoint = str(best["checkpoint"])
            commands.append((f"vbot play --env {state.get('env_id') or 'vbot_navigation_section001'} "
                             f"--policy {checkpoint} --competition", "score the best policy on the competition layout"))
        if state.get("curriculum"):
            commands.append(("vbot curriculum status", "is the current stage ready to advance?"))
        if [t for t in (state.get("trials") or [])[-5:] if str(t.get("state")) == "fail"]:
            commands.append(("vbot diagnose-reward latest", "look for reward pathologies in the latest run"))
    commands.append(("vbot watch --watch", "keep this file current"))
    lines = ["```bash"]
    lines += [f"{cmd:<70} # {why}" for cmd, why in commands]
    lines.append("```")
    return lines
