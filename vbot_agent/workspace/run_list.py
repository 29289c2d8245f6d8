"""``vbot runs``: every training run of the workspace, one line each (read-only; the folders and
their liveness come from ``workspace.runs`` and ``workspace.liveness``).

For each ``runs/<env>/<run>/``: its status, env steps (and, for a run that did not finish, the env
steps of its last checkpoint, where ``--resume`` restarts), measured success and fall rates, best
checkpoint and the command that made it. Sources, cheapest first:

- ``progress.json`` (status, steps, pid, last update; written by the trainer every iteration);
- ``final_evaluation.json`` when the run has one, else the last ``Eval / success_rate`` and
  ``Eval / fall_rate`` in its TensorBoard files (deterministic evaluation episodes of a checkpoint,
  per finished episode), else the checkpoint registry's measurement of one of its checkpoints (a
  campaign trial trains without evaluating and is scored afterwards; ``vbot checkpoints`` lists the
  same entry), or a curriculum stage's own evaluations of it, else nothing: training-episode success
  is not a measured success;
- ``experiment_meta.json`` (the command line, the env id).

Status is ``running``, ``finished``, ``stopped`` or ``failed``. A run whose ``progress.json`` says
running is running only if the one liveness rule (``workspace.liveness``, also behind WAKE_UP.md,
``vbot status`` and the TUI) calls it alive: its pid is not gone and it was updated recently; otherwise it is ``stopped`` (killed or hung) and ``vbot train --resume RUN``
continues it.
"""

from __future__ import annotations

import shlex
import time
from pathlib import Path
from typing import Any

from vbot_agent.errors import UsageError
from vbot_agent.tensorboard_tags import eval_tag
from vbot_agent.workspace.read_model import relative, resolve, run_key, run_keys

STATUSES = ("running", "finished", "stopped", "failed")
EVAL_TAGS = {"success_rate": eval_tag("success_rate"), "fall_rate": eval_tag("fall_rate")}
SCORE_TAG = eval_tag("score")  # the trainer's checkpoint score, which picks best.pt


def run_status(progress: dict[str, Any], now: float) -> tuple[str, str | None]:
    """(status, why) of one run from its progress.json, by the one liveness rule (workspace.liveness)."""
    from vbot_agent.workspace.liveness import Verdict, format_age, run_liveness

    status = str(progress.get("status") or "")
    if status != "running":
        return (status, None) if status in STATUSES else ("failed", f"progress.json says {status or 'nothing'!r}")
    verdict = run_liveness(progress, now)
    if verdict.label == Verdict.DEAD:
        return "stopped", f"its process is gone ({verdict.detail})"
    if verdict.label == Verdict.STALE:
        return "stopped", f"no progress for {format_age(verdict.age_s)} (hung or killed)"
    return "running", None


def _command(meta: dict[str, Any]) -> str | None:
    argv = meta.get("command")
    if not isinstance(argv, list) or len(argv) < 2:
        return None
    return "vbot " + shlex.join(str(a) for a in argv[1:])  # argv[0] is the interpreter's script path


def _eval_metrics(run_dir: Path) -> dict[str, Any]:
    """Measured success/fall rates: final_evaluation.json, else the last Eval scalars (env steps too)."""
    from vbot_agent.fileio import read_json

    final = read_json(run_dir / "final_evaluation.json")
    if isinstance(final, dict) and isinstance(final.get("success_rate"), (int, float)):
        return {"success_rate": final.get("success_rate"), "fall_rate": final.get("fall_rate"),
                "measured": "final evaluation"}
    if not any(run_dir.glob("events.out.tfevents.*")):
        return {}
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    acc.Reload()
    tags = set(acc.Tags().get("scalars", []))
    out: dict[str, Any] = {}
    for key, tag in EVAL_TAGS.items():
        if tag in tags and (events := acc.Scalars(tag)):
            out[key] = round(float(events[-1].value), 4)
            out["measured"] = f"last evaluation, at {events[-1].step:,} env steps"
    if SCORE_TAG in tags and (scores := acc.Scalars(SCORE_TAG)):
        # best.pt is the checkpoint of the first evaluation with the highest score (the trainer's rule)
        top = max(scores, key=lambda e: (e.value, -e.step))
        at = {key: {e.step: e.value for e in acc.Scalars(tag)} for key, tag in EVAL_TAGS.items() if tag in tags}
        out["best_evaluation"] = {"env_steps": top.step,
                                  **{key: round(float(v[top.step]), 4) for key, v in at.items() if top.step in v}}
    return out


def _registry_metrics(run_dir: Path, root: Path, registry: list[dict[str, Any]]) -> dict[str, Any]:
    """The registry's best-scored measurement of a checkpoint of this run (a campaign trial's score)."""
    entries = [e for e in registry if isinstance(e, dict) and run_keys(root, [e]) == {run_key(run_dir)}
               and isinstance((e.get("metrics") or {}).get("success_rate"), (int, float))]
    if not entries:
        return {}
    entry = max(entries, key=lambda e: float(e.get("score") if isinstance(e.get("score"), (int, float)) else -1e9))
    metrics = entry["metrics"]
    episodes = metrics.get("episodes")
    return {"success_rate": metrics.get("success_rate"), "fall_rate": metrics.get("fall_rate"),
            "best_checkpoint": entry.get("checkpoint"),
            "measured": f"{entry.get('id', 'registry')} evaluation" + (f", {episodes} episodes" if episodes else "")}


def checkpoint_files(run_dir: Path) -> list[str]:
    """The run's checkpoint files by name: the periodic ``model_<iter>.pt`` in iteration order, then
    ``last.pt`` and ``best.pt``."""
    folder = run_dir / "checkpoints"
    if not folder.is_dir():
        return []
    names = [p.name for p in folder.glob("*.pt") if p.is_file()]

    def order(name: str) -> tuple[int, int]:
        stem = name[:-3]
        if stem.startswith("model_") and stem[6:].isdigit():
            return (0, int(stem[6:]))
        return (1, ("last", "best").index(stem) if stem in ("last", "best") else 2)

    return sorted(names, key=order)


def describe_run(run_dir: Path, root: Path, now: float, registry: list[dict[str, Any]] | None = None,
                 stages: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """One run as ``vbot runs`` lists it; unreadable files are reported in ``error``, never skipped."""
    from vbot_agent.fileio import read_json

    row: dict[str, Any] = {"run": relative(root, run_dir), "env_id": run_dir.parent.name, "status": "failed",
                           "why": None, "env_steps": None, "max_env_steps": None, "success_rate": None,
                           "fall_rate": None, "measured": None, "best_checkpoint": None, "best_evaluation": None,
                           "resumes_at": None,
                           "checkpoints": checkpoint_files(run_dir), "command": None,
                           "updated_at": None, "error": None}
    try:
        progress = read_json(run_dir / "progress.json")
        meta = read_json(run_dir / "experiment_meta.json") or {}
    except (OSError, ValueError) as exc:
        row.update(error=f"{type(exc).__name__}: {exc}", why="unreadable run files")
        return row
    if not isinstance(progress, dict):
        row.update(why="no progress.json: the run died before its first iteration")
    else:
        status, why = run_status(progress, now)
        row.update(status=status, why=why or progress.get("message"), env_steps=progress.get("env_steps"),
                   max_env_steps=progress.get("max_env_steps"), updated_at=progress.get("updated_at"))
        saved = progress.get("checkpoint_env_steps")
        if status != "finished" and isinstance(saved, int) and saved != row["env_steps"]:
            row["resumes_at"] = saved  # `--resume` restarts at last.pt; the steps after it are trained again
    if isinstance(meta, dict):
        row.update(env_id=meta.get("env_id") or row["env_id"], command=_command(meta))
    best = run_dir / "checkpoints" / "best.pt"
    if best.is_file():
        row["best_checkpoint"] = relative(root, best)
    try:
        row.update(_eval_metrics(run_dir))
    except Exception as exc:  # a torn event file: say so in the row, keep listing the others
        row["error"] = f"TensorBoard data unreadable: {type(exc).__name__}: {exc}"
    if row["measured"] is None and stages:
        row.update(_stage_metrics(run_dir, stages))
    if row["measured"] is None and registry:
        measured = _registry_metrics(run_dir, root, registry)
        if measured and row["best_checkpoint"]:
            measured.pop("best_checkpoint")
        row.update(measured)
    return row


def _stage_metrics(run_dir: Path, stages: list[dict[str, Any]]) -> dict[str, Any]:
    """A curriculum stage's evaluations of this run (the stage trains with evaluation off and
    evaluates its checkpoints itself; `vbot curriculum status` shows the same records)."""
    for rec in stages:
        if not isinstance(rec, dict) or not rec.get("run_dir") or run_key(Path(rec["run_dir"])) != run_key(run_dir):
            continue
        evaluations = [e for e in rec.get("evaluations") or [] if isinstance(e, dict)]
        if not evaluations:
            return {}
        last, best = evaluations[-1], rec.get("metrics") or {}
        out = {"success_rate": last.get("success_rate"), "fall_rate": last.get("fall_rate"),
               "measured": f"curriculum stage {rec.get('name')!r}: last evaluation, at {last['env_steps']:,} env steps"}
        if rec.get("best_checkpoint"):
            out["best_checkpoint"] = rec["best_checkpoint"]
            out["best_evaluation"] = {"env_steps": rec.get("best_env_steps"), "success_rate": best.get("success_rate"),
                                      "fall_rate": best.get("fall_rate")}
        return out
    return {}


def _curriculum_stages(paths) -> list[dict[str, Any]]:
    """The stage records of the workspace's curriculum, if its state holds one; [] otherwise."""
    from vbot_agent.workspace.state import load_state

    try:
        state = load_state(paths.state_file) if paths.state_file.exists() else {}
    except (OSError, ValueError, UsageError):  # `vbot status` reports a broken state; the runs still list
        return []
    return list(((state or {}).get("curriculum") or {}).get("stages") or [])


def curriculum_best_checkpoint(run_dir: Path) -> Path | None:
    """The best checkpoint a curriculum stage kept of ``run_dir`` (a ``runs/<env>/<run>`` folder of
    the workspace whose state holds the curriculum), as ``vbot runs`` names it; None otherwise."""
    from vbot_agent.workspace import Paths

    run_dir = Path(run_dir).resolve()
    if len(run_dir.parents) < 3:  # not a runs/<env>/<run> folder
        return None
    root = run_dir.parents[2]
    best = _stage_metrics(run_dir, _curriculum_stages(Paths(root))).get("best_checkpoint")
    found = resolve(root, best) if best else None
    return found if found is not None and found.is_file() else None


def list_runs(runs_root: Path, root: Path, env: str | None = None, now: float | None = None) -> dict[str, Any]:
    """Every run under ``runs_root`` (newest first), optionally of one env id."""
    from vbot_agent.workspace import Paths
    from vbot_agent.workspace.checkpoints import load_registry

    now = time.time() if now is None else now
    folders = [p for p in runs_root.glob("*/*") if p.is_dir()] if runs_root.is_dir() else []
    try:
        registry = load_registry(Paths(root).registry_file).get("checkpoints") or []
    except (OSError, ValueError, UsageError):  # no workspace, or a registry `vbot checkpoints` reports as broken
        registry = []
    stages = _curriculum_stages(Paths(root))
    rows = [describe_run(p, root, now, registry, stages) for p in sorted(folders, key=lambda p: p.name, reverse=True)]
    if env is not None:
        known = sorted({r["env_id"] for r in rows})
        rows = [r for r in rows if r["env_id"] == env]
        if not rows and known:
            from vbot_agent.errors import suggest

            raise UsageError(f"no run of env {env!r}{suggest(env, known)}; runs exist for {', '.join(known)}")
    return {"runs_dir": str(runs_root), "runs": rows}


def render_runs(result: dict[str, Any]) -> str:
    rows = result["runs"]
    if not rows:
        return f"no runs under {result['runs_dir']}; start one with `vbot train`"
    lines = []
    for r in rows:
        steps = f"{r['env_steps']:,}" if isinstance(r["env_steps"], int) else "-"
        if isinstance(r["max_env_steps"], int):
            steps += f" (budget {r['max_env_steps']:,})"
        if isinstance(r.get("resumes_at"), int):
            steps += f", last checkpoint at {r['resumes_at']:,} (where --resume restarts)"
        success = f"{r['success_rate']:.2f}" if isinstance(r["success_rate"], (int, float)) else "-"
        falls = f"{r['fall_rate']:.2f}" if isinstance(r["fall_rate"], (int, float)) else "-"
        lines.append(f"{r['run']}  {r['status'].upper()}" + (f" ({r['why']})" if r.get("why") else ""))
        lines.append(f"    env {r['env_id']}  steps {steps}  success {success}  falls {falls}"
                     + (f"  ({r['measured']})" if r.get("measured") else "  (not evaluated yet)"))
        best = r.get("best_evaluation") or {}
        lines.append(f"    best {r['best_checkpoint'] or '-'}" + (
            f"  (its evaluation at {best['env_steps']:,} env steps: success {best.get('success_rate', float('nan')):.2f}"
            f", falls {best.get('fall_rate', float('nan')):.2f})" if best and r["best_checkpoint"] else ""))
        files = r.get("checkpoints") or []
        if files:
            periodic = [f for f in files if f.startswith("model_")]
            shown = ([f"{periodic[0]} .. {periodic[-1]}"] if len(periodic) > 2 else periodic) + files[len(periodic):]
            span = ", ".join(shown)
            lines.append(f"    checkpoints: {len(files)} in {r['run']}/checkpoints/ ({span}); "
                         "`vbot play --policy FILE` measures one")
        lines.append(f"    made by: {r['command'] or '-'}")
        if r.get("error"):
            lines.append(f"    error: {r['error']}")
    return "\n".join(lines)


def runs_action(ctx, env: str | None = None) -> dict[str, Any]:
    """``vbot runs``: the workspace's ``runs/``, or ``./runs`` outside a workspace (where `vbot train` writes)."""
    from vbot_agent.workspace import Paths

    try:
        root = ctx.workspace()
    except UsageError:
        if ctx.workspace_override:
            raise
        root = ctx.cwd
    return list_runs(Paths(root).runs, root, env)
