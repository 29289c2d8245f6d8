"""``starter_kit_log/<automl_id>/``: per-trial summaries, index.yaml and report.md.

All written atomically; all derived from the state (or the trial's record), so rewriting them is
always safe.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vbot_agent.fileio import atomic_write_text, atomic_write_yaml


def log_dir(root: Path, automl_id: str) -> Path:
    return Path(root) / "starter_kit_log" / automl_id


def write_summary(log: Path, name: str, record: Mapping[str, Any]) -> Path:
    path = log / "experiments" / name / "summary.yaml"
    atomic_write_yaml(path, dict(record))
    return path


def write_index(log: Path, state: Mapping[str, Any]) -> None:
    entries = []
    for t in state["trials"]:
        name = trial_name(t["number"])
        entries.append({"number": t["number"], "state": t["state"], "score": t.get("score"),
                        "run_dir": t.get("run_dir"), "summary": f"experiments/{name}/summary.yaml"})
    final = state.get("final")
    atomic_write_yaml(log / "index.yaml", {
        "automl_id": state["automl_id"], "status": state["status"], "mode": state["mode"],
        "score_formula": state["score_formula"], "trials": entries,
        "final": None if not final else {"state": final.get("state"), "score": final.get("score"),
                                         "run_dir": final.get("run_dir"), "summary": "experiments/final/summary.yaml"},
        "best": state.get("best"),
    })


def trial_name(number: int) -> str:
    return f"trial_{number:04d}"


def _fmt(value: Any, digits: int = 4) -> str:
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return "-" if value is None else str(value)


def write_report(log: Path, state: Mapping[str, Any]) -> None:
    """report.md: settings, score formula, best, final, the trial table sorted by score."""
    lines = [
        f"# Campaign {state['automl_id']}",
        "",
        f"- status: **{state['status']}**, phase {state['phase']}, mode {state['mode']}, env `{state['env_id']}`",
        f"- budget: {state['elapsed_hours']:.3f} h used of {state['budget_hours']:g} h",
        f"- started {state['started_at']}, updated {state['updated_at']}",
        f"- storage `{state['storage']}`, study `{state['study_name']}`",
        "",
        "## Score",
        "",
        "Every term is measured by evaluation episodes of the trial's checkpoint (no constant terms):",
        "",
        f"    {state['score_formula']}",
        "",
    ]
    best = state.get("best")
    lines += ["## Best", ""]
    if best:
        lines += [f"- trial {best['trial']}: score {_fmt(best['score'])}, checkpoint `{best.get('checkpoint')}`",
                  f"- params: `{best.get('params')}`", f"- reward scales: `{best.get('reward_scales')}`",
                  f"- metrics: `{_short_metrics(best.get('metrics'))}`", ""]
    else:
        lines += ["No complete trial yet.", ""]
    final = state.get("final")
    if final:
        lines += ["## Final training", "", f"- state {final.get('state')}, score {_fmt(final.get('score'))}, "
                  f"run `{final.get('run_dir')}`", ""]
    lines += ["## Trials (by score)", "", "| trial | state | score | success | points per robot | falls | time s | error |",
              "|---|---|---|---|---|---|---|---|"]
    ranked = sorted(state["trials"], key=lambda t: (t.get("score") is None, -(t.get("score") or 0.0), t["number"]))
    for t in ranked:
        m = t.get("metrics") or {}
        error = (t.get("error") or "").replace("|", "/")[:80]
        lines.append(f"| {t['number']} | {t['state']} | {_fmt(t.get('score'))} | {_fmt(m.get('success_rate'), 3)} | "
                     f"{_fmt(m.get('competition_points'), 3)} | {_fmt(m.get('fall_rate'), 3)} | "
                     f"{_fmt(m.get('time_to_target_s'), 3)} | {error} |")
    if state["status"] in ("stopped", "running"):
        lines += ["", "Resume with `vbot automl --resume`."]
    atomic_write_text(log / "report.md", "\n".join(lines) + "\n")


def _short_metrics(metrics: Mapping[str, Any] | None) -> dict[str, Any]:
    if not metrics:
        return {}
    keys = ("success_rate", "competition_points", "fall_rate", "time_to_target_s")
    return {k: round(metrics[k], 4) if isinstance(metrics.get(k), float) else metrics.get(k) for k in keys}
