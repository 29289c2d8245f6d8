"""``vbot analyze``: the trial table by score, parameter importances, learning curves of the top trials."""

from __future__ import annotations

import textwrap
import warnings
from pathlib import Path
from typing import Any

from vbot_agent.errors import UsageError, VbotError
from vbot_agent.workspace import Paths
from vbot_agent.workspace.search_health import state_warnings
from vbot_agent.workspace.state import TrialState, load_state

TOP = 3


def analyze(root: Path, *, plot: str | None = None, top: int = TOP) -> dict[str, Any]:
    """Read the state (and the study for importances); optionally write a PNG figure to ``plot``."""
    paths = Paths(root)
    state = load_state(paths.state_file)
    trials = state["trials"]
    ranked = sorted(trials, key=lambda t: (t.get("score") is None, -(t.get("score") or 0.0), t["number"]))
    table = [{"number": t["number"], "state": t["state"], "score": t.get("score"),
              **{k: (t.get("metrics") or {}).get(k) for k in ("success_rate", "competition_points", "fall_rate",
                                                                "time_to_target_s")},
              "params": {**t.get("params", {}), **{f"reward.scales.{k}": v for k, v in t.get("reward_scales", {}).items()}}}
             for t in ranked]
    importances, why = _importances(state)
    every = state["settings"].get("evaluation", {}).get("every_env_steps") or 0
    curves = []
    for t in [t for t in ranked if t["state"] == TrialState.COMPLETE][:top]:
        points = [{"env_steps": p["step"] * every, "score": p["score"]} for p in t.get("intermediate") or []]
        points.append({"env_steps": state["settings"].get("trial_steps"), "score": t["score"], "final": True})
        curves.append({"number": t["number"], "points": points})
    result = {"automl_id": state["automl_id"], "status": state["status"], "score_formula": state["score_formula"],
              "trials": table, "importances": importances, "importances_note": why, "curves": curves,
              "best": state["best"], "search_warnings": state_warnings(state), "plot": None}
    if plot:
        result["plot"] = str(write_plot(Path(plot), result, state))
    return result


def _importances(state: dict[str, Any]) -> tuple[dict[str, float] | None, str | None]:
    complete = [t for t in state["trials"] if t["state"] == TrialState.COMPLETE]
    if len(complete) < 2:
        return None, f"needs at least 2 complete trials (have {len(complete)})"
    if len({t["score"] for t in complete}) < 2:
        return None, "every complete trial has the same score, so no parameter explains anything yet"
    import optuna

    from vbot_agent.automl.settings import is_redacted, settings_from_dict, without_password
    from vbot_agent.automl.study import load_study, open_storage

    settings = settings_from_dict(state["settings"], "state")
    url = settings.storage or state["storage"]
    url = without_password(url) if is_redacted(url) else url  # libpq: PGPASSWORD or ~/.pgpass
    try:  # the table and curves come from the state; only importances need the study's storage
        study = load_study(open_storage(url, settings), state["study_name"])
    except VbotError as exc:
        return None, f"the study is not readable here ({exc})"
    try:
        with warnings.catch_warnings():  # optuna warns instead of failing on degenerate inputs; checked above
            warnings.simplefilter("ignore", UserWarning)
            values = optuna.importance.get_param_importances(study)
    except (RuntimeError, ValueError) as exc:
        return None, f"optuna could not compute importances: {exc}"
    return {k: float(v) for k, v in values.items()}, None


def write_plot(path: Path, result: dict[str, Any], state: dict[str, Any]) -> Path:
    """Three panels: score by trial (best so far), learning curves of the top trials, importances."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    if path.suffix.lower() != ".png":
        raise UsageError(f"--plot {path}: give a .png file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    ax = axes[0]
    colours = {TrialState.COMPLETE: "tab:blue", TrialState.PRUNED: "tab:orange", TrialState.FAIL: "tab:red",
               TrialState.RUNNING: "tab:gray", TrialState.WAITING: "tab:gray"}
    trials = sorted(state["trials"], key=lambda t: t["number"])
    for word, colour in colours.items():
        pts = [(t["number"], t["score"]) for t in trials if t["state"] == word and t.get("score") is not None]
        if pts:
            ax.scatter(*zip(*pts), color=colour, label=word, zorder=3)
    stopped = [(t["number"], t["intermediate"][-1]["score"]) for t in trials
               if t["state"] == TrialState.PRUNED and t.get("score") is None and t.get("intermediate")]
    if stopped:
        ax.scatter(*zip(*stopped), facecolors="none", edgecolors="tab:orange", zorder=3,
                   label="pruned (last intermediate score)")
    failed = [t["number"] for t in trials if t["state"] == TrialState.FAIL and t.get("score") is None]
    if failed:
        shown = [t["score"] for t in trials if t.get("score") is not None] + [y for _, y in stopped]
        bottom = min(shown or [0.0])
        ax.scatter(failed, [bottom] * len(failed), marker="x", color="tab:red", label="fail (no score)", zorder=3)
    best_x, best_y, best = [], [], None
    for t in trials:
        if t["state"] == TrialState.COMPLETE and t.get("score") is not None:
            best = t["score"] if best is None else max(best, t["score"])
        if best is not None:
            best_x.append(t["number"])
            best_y.append(best)
    if best_x:
        ax.step(best_x, best_y, where="post", color="black", lw=1, label="best so far")
    ax.set(title=f"score by trial ({state['automl_id']})", xlabel="trial", ylabel="score")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ax = axes[1]
    for curve in result["curves"]:
        xs = [p["env_steps"] for p in curve["points"]]
        ys = [p["score"] for p in curve["points"]]
        ax.plot(xs, ys, marker="o", label=f"trial {curve['number']}")
    ax.set(title=f"learning curves of the top {len(result['curves'])}", xlabel="env steps",
           ylabel="evaluation score")
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x / 1e6:g}M" if x >= 1e6 else f"{x / 1e3:g}k"))
    if result["curves"]:
        ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ax = axes[2]
    if result["importances"]:
        names = list(result["importances"])[::-1]
        ax.barh(names, [result["importances"][n] for n in names], color="tab:green")
        ax.set(title="parameter importance (optuna)", xlabel="importance")
        ax.tick_params(axis="y", labelsize=8)
    else:
        note = "\n".join(textwrap.wrap(f"parameter importances: {result['importances_note']}", 44))
        ax.text(0.5, 0.5, note, ha="center", va="center", fontsize=9, transform=ax.transAxes)
        ax.set_axis_off()
    fig.text(0.01, 0.01, state["score_formula"], fontsize=8)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def render_analysis(r: dict[str, Any]) -> str:
    lines = [f"campaign {r['automl_id']} ({r['status']}); {r['score_formula']}", "",
             f"{'trial':>5}  {'state':<9} {'score':>8} {'success':>8} {'pts/robot':>9} {'falls':>6} {'time s':>7}"]
    for t in r["trials"]:
        def f(v, w=7, d=3):
            return f"{v:>{w}.{d}f}" if isinstance(v, (int, float)) else f"{'-':>{w}}"
        lines.append(f"{t['number']:>5}  {t['state']:<9} {f(t['score'], 8, 4)} {f(t['success_rate'], 8)} "
                     f"{f(t['competition_points'], 9)} {f(t['fall_rate'], 6)} {f(t['time_to_target_s'], 7, 1)}")
    lines.append("")
    if r["importances"]:
        lines.append("parameter importances:")
        lines += [f"  {k:<32} {v:.3f}" for k, v in r["importances"].items()]
    else:
        lines.append(f"parameter importances: {r['importances_note']}")
    lines += [f"warning: {w}" for w in r.get("search_warnings") or []]
    if r["plot"]:
        lines.append(f"figure: {r['plot']}")
    return "\n".join(lines)
