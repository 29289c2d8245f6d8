"""The words and numbers of WAKE_UP.md: value formatting, its tables and the run history behind trends."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vbot_agent.fileio import atomic_write_text
from vbot_agent.sim.registry import has_competition
from vbot_agent.workspace.state import stage_status_word


@dataclass
class RunHistory:
    """Recent samples (time, env_steps, reward, success_rate) of each run, for trends."""

    samples: dict[str, list[list[float]]] = field(default_factory=dict)
    keep: int = 20

    def add(self, run: str, progress: dict[str, Any], when: float) -> None:
        sample = [when, num(progress.get("env_steps")), num(progress.get("reward")),
                  num(progress.get("success_rate"))]
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
        parts = [f"reward {arrow(last[2] - first[2])} {last[2] - first[2]:+.3g}"]
        if first[3] is not None and last[3] is not None:
            parts.append(f"success {arrow(last[3] - first[3])} {100 * (last[3] - first[3]):+.1f} pts")
        span = (last[1] or 0) - (first[1] or 0)
        return ", ".join(parts) + f" over {steps(span)} steps"

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
        atomic_write_text(path, json.dumps({"samples": self.samples}))


def num(value: Any) -> float | None:
    try:
        return float(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def arrow(delta: float) -> str:
    return "up" if delta > 1e-9 else "down" if delta < -1e-9 else "flat"


def steps(value: Any) -> str:
    number = num(value)
    if number is None:
        return "?"
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(number) >= size:
            return f"{number / size:.3g}{unit}"
    return f"{number:.0f}"


def age(moment: float | None, now: float) -> str:
    """How long before ``now`` the unix time ``moment`` was, in words."""
    if moment is None:
        return "never"
    seconds = now - moment
    if seconds < 0:
        return "in the future (clock skew?)"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit} ago"
    return f"{seconds:.0f} s ago"


def fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def rate(value: Any) -> str:
    number = num(value)
    return "-" if number is None else f"{number:,.0f}"


def pct(value: Any) -> str:
    number = num(value)
    return "-" if number is None else f"{100 * number:.0f}%"


def cell(value: Any) -> str:
    return fmt(value).replace("|", "/").replace("\n", " ")


def stages_table(cur: dict[str, Any]) -> list[str]:
    """A curriculum's stages: status, steps, the best evaluation and its checkpoint (Markdown)."""
    stages = [s for s in cur.get("stages") or [] if isinstance(s, dict)]
    lines = ["Each stage against its plan (`vbot curriculum status` shows the promotion bars and what failed). "
             "Points are the best evaluation's mean per episode in the stage's own spawns, not the competition's "
             "layout (`vbot play --competition` scores that):", "",
             "| # | stage | env | status | env steps | best success | fall | points | best checkpoint |",
             "|---|---|---|---|---|---|---|---|---|"]
    for i, stage in enumerate(stages):
        metrics = stage.get("metrics") or {}
        status = stage_status_word({**cur, "stages": stages}, i)
        done = f"{stage['env_steps']:,}" if isinstance(stage.get("env_steps"), int) else "-"
        best = f"`{stage['best_checkpoint']}`" if stage.get("best_checkpoint") else "-"
        points, most = metrics.get("competition_points"), metrics.get("max_points")
        scored = (f"{points:.2f} of {most:g}" if isinstance(points, (int, float)) and isinstance(most, (int, float))
                  and has_competition(str(stage.get("env_id"))) else "-")  # the training terrain scores none
        lines.append(f"| {i + 1} | {cell(stage.get('name'))} | {cell(stage.get('env_id'))} | {status} | {done} "
                     f"| {pct(metrics.get('success_rate'))} | {pct(metrics.get('fall_rate'))} | {scored} | {best} |")
    return lines


def trials_table(trials: list[Any], last: int) -> list[str]:
    """The ``last`` trials of a campaign: state, score and measured metrics (Markdown)."""
    if not trials:
        return ["No trials yet."]
    shown = trials[-last:]
    lines = [
        f"The last {len(shown)} of {len(trials)} trials:",
        "",
        "| # | state | score | success | fall | points per robot | time to target (s) | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for trial in shown:
        metrics = trial.get("metrics") or {}
        note = trial.get("error") or ""
        lines.append(
            f"| {cell(trial.get('number'))} | {cell(trial.get('state'))} | {cell(trial.get('score'))} "
            f"| {pct(metrics.get('success_rate'))} | {pct(metrics.get('fall_rate'))} "
            f"| {cell(metrics.get('competition_points'))} | {cell(metrics.get('time_to_target_s'))} "
            f"| {cell(str(note)[:80]) if note else ''} |"
        )
    return lines
