"""The campaign actions' functions (``fn(ctx, **params) -> dict``) and their terminal renderers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vbot_agent.errors import UsageError, VbotError
from vbot_agent.trials.outcomes import TrialOutcome
from vbot_agent.workspace import Paths
from vbot_agent.workspace.lock import is_locked


def init(ctx, dir: str | None = None) -> dict[str, Any]:
    from vbot_agent.workspace.init import init_workspace

    root = Path(dir).expanduser() if dir else ctx.cwd
    if not root.is_absolute():
        root = ctx.cwd / root
    return init_workspace(root)


def automl(ctx, mode=None, env=None, budget_hours=None, hp_trials=None, trial_steps=None, final_steps=None,
           config=None, seed=None, resume=False, storage=None, dry_run=False, recalibrate=False) -> dict[str, Any]:
    from vbot_agent.automl import campaign
    from vbot_agent.automl.settings import resolve_settings

    root = ctx.workspace()
    if resume:
        extra = {"--mode": mode, "--env": env, "--hp-trials": hp_trials, "--trial-steps": trial_steps,
                 "--final-steps": final_steps, "--config": config, "--seed": seed}
        given = [flag for flag, value in extra.items() if value is not None]
        if given:
            raise UsageError(f"--resume takes the campaign's settings from its state; drop {', '.join(given)} "
                             "(only --budget-hours may change on resume, and --storage may give the password "
                             "of the campaign's storage)")
        if dry_run or recalibrate:
            raise UsageError(f"{'--dry-run' if dry_run else '--recalibrate'} plans a new campaign; a resumed one "
                             "keeps the plan in its state")
        if budget_hours is not None and budget_hours <= 0:
            raise UsageError("--budget-hours must be > 0")
        return _stopping_gracefully(ctx, lambda: campaign.resume(root, budget_hours=budget_hours, say=ctx.say,
                                                                 storage=storage))
    config_file = _config_file(root, config, ctx.cwd)
    flags = {"mode": mode, "env_id": env, "budget_hours": budget_hours, "hp_trials": hp_trials,
             "trial_steps": trial_steps, "final_steps": final_steps, "seed": seed, "storage": storage}
    settings = resolve_settings(config_file, flags)
    ctx.say(f"settings from {config_file}")
    # Refused before the throughput measurement a plan may need, for a dry run too. A live campaign
    # or curriculum holds the lock: a real start meets the lock's own refusal in campaign.start.
    paths = Paths(root)
    if is_locked(paths.automl_lock):
        if dry_run:
            raise UsageError("a campaign here would be refused: another campaign or curriculum is running on this "
                             "workspace (`vbot status`); plan in another workspace (`vbot init DIR`)")
    elif refusal := campaign.start_refusal(paths):
        raise UsageError(("a campaign here would be refused: " if dry_run else "") + refusal)
    settings, plan = _planned(root, settings, ctx.say, recalibrate, dry_run)
    if dry_run:
        return {"dry_run": True, "plan": plan.to_dict() if plan else None, "settings": _plan_fields(settings)}
    return _stopping_gracefully(ctx, lambda: campaign.start(root, settings, say=ctx.say))


def _planned(root: Path, settings, say, recalibrate: bool = False, dry_run: bool = False):
    """Settings with their ``auto`` trial counts and lengths planned for the budget (and the plan,
    printed before anything runs); unchanged settings and None when nothing is ``auto``, except for
    a dry run, which estimates the given counts and lengths and warns about them the same way."""
    from dataclasses import replace

    from vbot_agent.automl.budget import (
        apply_plan,
        loaded_measurement_warning,
        needs_plan,
        plan_campaign,
        render_plan,
        training_throughput,
    )
    from vbot_agent.trials.backend import load_backend

    if not needs_plan(settings) and not dry_run:
        if recalibrate:
            raise UsageError("--recalibrate measures the training rate for a plan, but this campaign's trial "
                             "count and lengths are all given; leave one `auto` or drop --recalibrate")
        return settings, None
    rate, source, load = training_throughput(Paths(root).progress / "throughput.yaml",
                                             load_backend(settings.backend), settings, say=say,
                                             recalibrate=recalibrate)
    plan = plan_campaign(settings, rate, source, known_good=len(settings.space().known_good))
    loaded = loaded_measurement_warning(load)
    if loaded:
        plan = replace(plan, warnings=(*plan.warnings, loaded))
    if plan.estimate_hours > settings.budget_hours:
        plan = replace(plan, warnings=(*plan.warnings, f"the estimate ({plan.estimate_hours:.2f} h) is over the "
                                       f"{settings.budget_hours:g} h budget: the budget will cut the campaign short"))
    say(render_plan(plan, settings))
    return (apply_plan(settings, plan) if needs_plan(settings) else settings), plan


def _plan_fields(settings) -> dict[str, Any]:
    return {k: getattr(settings, k) for k in ("env_id", "mode", "budget_hours", "hp_trials", "trial_steps",
                                               "final_steps", "num_envs")}


def _stopping_gracefully(ctx, run):
    """A campaign stopped by SIGINT/SIGTERM says how to resume, then exits 130 like any interrupt."""
    from vbot_agent.automl.campaign import CampaignStopped

    try:
        return run()
    except CampaignStopped as exc:
        ctx.say(str(exc))
        raise KeyboardInterrupt from None


def _config_file(root: Path, config: str | None, cwd: Path) -> Path:
    from vbot_agent.workspace.init import TEMPLATE_DIR

    if config:
        path = Path(config).expanduser()
        return path if path.is_absolute() else cwd / path
    in_workspace = Paths(root).templates / "automl.yaml"
    return in_workspace if in_workspace.is_file() else TEMPLATE_DIR / "automl.yaml"


def automl_worker(ctx, storage: str, study: str) -> dict[str, Any]:
    from vbot_agent.automl.campaign import run_worker

    return _stopping_gracefully(ctx, lambda: run_worker(ctx.workspace(), storage, study, say=ctx.say))


def trial(ctx, config: str) -> dict[str, Any]:
    from vbot_agent.trials.trial import load_trial_config, run_trial

    path = Path(config)
    cfg = load_trial_config(path if path.is_absolute() else ctx.cwd / path)
    result = run_trial(cfg)
    if result["status"] != TrialOutcome.COMPLETE:
        raise VbotError(f"trial {result['name']} {result['status']}: {result.get('error')}; "
                        f"details in {Path(cfg.out_dir) / 'result.json'}")
    return result


NO_CAMPAIGN_NEXT = "vbot automl --mode stage --env vbot_navigation_section001 --budget-hours 8"
PROBE_FIRST = "vbot train --env vbot_navigation_section001 --max-env-steps 2000000"


def status(ctx) -> dict[str, Any]:
    from vbot_agent.automl.status import campaign_status

    root = ctx.workspace()
    state_file = Paths(root).state_file
    if not state_file.exists():  # a fresh workspace: nothing is wrong, there is just no campaign yet
        return {"status": "none", "workspace": str(root), "state_file": str(state_file), "next": NO_CAMPAIGN_NEXT,
                "message": f"no campaign in this workspace yet (no {state_file.relative_to(root)}); probe first "
                           f"with `{PROBE_FIRST}`, then start one with `{NO_CAMPAIGN_NEXT}`; `vbot runs` lists "
                           "single training runs"}
    return campaign_status(root)


def render_status(result: dict[str, Any]) -> str:
    from vbot_agent.automl.status import render_status as render

    if result["status"] == "none":
        return f"no campaign in {result['workspace']} yet\nnote      {result['message']}\nnext      {result['next']}"
    return render(result)


def analyze(ctx, plot: str | None = None, top: int = 3) -> dict[str, Any]:
    from vbot_agent.automl.analyze import analyze as run

    if plot and not Path(plot).is_absolute():
        plot = str(ctx.cwd / plot)
    return run(ctx.workspace(), plot=plot, top=top)


def render_analyze(result: dict[str, Any]) -> str:
    from vbot_agent.automl.analyze import render_analysis

    return render_analysis(result)


ADD_EVALUATION = {"final_episodes": 32, "seed": 12345}  # without a workspace template: the template's defaults


def checkpoints(ctx, best: bool = False, env: str | None = None, add: str | None = None,
                episodes: int | None = None) -> dict[str, Any]:
    from vbot_agent.workspace.read_model import (
        curriculum_stage_notes,
        env_best_notes,
        read_workspace,
        unregistered_notes,
    )

    paths = Paths(ctx.workspace())
    added = add_checkpoint(ctx, paths, add, episodes) if add else None
    view = read_workspace(paths.root)
    if view.best_error:
        raise UsageError(view.best_error)
    # --best: the workspace's one notion of best (as `vbot status`, WAKE_UP.md and the TUI), per env,
    # since scores of different envs do not compare (one entry when one env is registered or given)
    entries = view.env_bests if best else list(view.registered)
    entries = [c for c in entries if env is None or c.get("env_id") == env]
    entries.sort(key=lambda c: -(c.get("score") if isinstance(c.get("score"), (int, float)) else float("-inf")))
    unregistered = [note for note, run in zip(unregistered_notes(view), view.unregistered)
                    if env is None or (run.progress.get("env_id") or run.env_folder) == env]
    unregistered += curriculum_stage_notes(view, env)
    others = len([c for c in view.registered if c.get("env_id") != env]) if env is not None else 0
    # a best that others of its env equal was picked by the tie rule, not by measurement: say so
    ties = {c.get("id"): sum(1 for o in view.registered if o.get("id") != c.get("id")
                             and o.get("env_id") == c.get("env_id") and o.get("score") == c.get("score"))
            for c in entries} if best else {}
    return {"registry": str(paths.registry_file), "checkpoints": entries, "added": added, "unregistered": unregistered,
            "env_bests": env_best_notes(view) if env is None else [], "env": env, "other_envs": others,
            "tied": {k: n for k, n in ties.items() if n}}


def add_checkpoint(ctx, paths: Paths, target: str, episodes: int | None) -> dict[str, Any]:
    """Evaluate ``target`` (a run folder: a curriculum stage's kept best, else best.pt, else last.pt; or a .pt file) as a campaign
    evaluates a trial: the workspace template's ``evaluation.final_episodes`` (or ``episodes``) and
    seed, in the run's own env options (its training layout); score it by the campaign's formula and
    register it."""
    import socket

    from vbot_agent.config import load_yaml
    from vbot_agent.rl.run_dir import resolve_policy_path
    from vbot_agent.trials.score import ScoreWeights, compute_score
    from vbot_agent.trials.trainer_backend import evaluate
    from vbot_agent.workspace.checkpoints import register
    from vbot_agent.workspace.read_model import relative

    given = Path(target).expanduser()
    checkpoint = resolve_policy_path(paths.runs, str(given if given.is_absolute() else ctx.cwd / given)).resolve()
    run_dir = checkpoint.parent.parent
    template = paths.templates / "automl.yaml"
    evaluation = {**ADD_EVALUATION, **((load_yaml(template) or {}).get("evaluation") or {} if template.is_file() else {})}
    episodes = episodes or int(evaluation["final_episodes"])
    seed = int(evaluation["seed"])
    metrics = evaluate(checkpoint, None, episodes, seed)
    entry = {"id": f"run/{run_dir.parent.name}/{run_dir.name}/{checkpoint.stem}", "automl_id": None, "trial": None,
             "env_id": run_dir.parent.name, "checkpoint": relative(paths.root, checkpoint), "run_dir": relative(paths.root, run_dir),
             "score": compute_score(metrics, ScoreWeights()), "metrics": metrics, "params": None, "reward_scales": None,
             "host": socket.gethostname(),
             "evaluation": {"episodes": episodes, "seed": seed, "layout": "the run's training env options"}}
    register(paths.registry_file, entry)
    return entry


def render_checkpoints(result: dict[str, Any]) -> str:
    lines = []
    if result.get("added"):
        a = result["added"]
        lines.append(f"registered {a['checkpoint']} as {a['id']}: score {a['score']:.4f} on "
                     f"{a['evaluation']['episodes']} evaluation episodes (seed {a['evaluation']['seed']}) in the run's "
                     "training layout, as a campaign scores its trials; `vbot play --competition` scores the ring; "
                     "WAKE_UP.md shows it once `vbot watch` rewrites it (`--snapshot`, or while `--watch` runs)")
    if not result["checkpoints"]:
        what = (f"no checkpoint of {result['env']} registered ({result['other_envs']} of other envs)"
                if result.get("env") and result.get("other_envs") else "no checkpoints registered yet")
        lines.append(f"{what} ({result['registry']}); a campaign registers each complete trial's, a curriculum each "
                     "promoted stage's, `vbot checkpoints --add RUN` a training run's (`vbot runs` lists them all)")
    else:
        lines.append(f"{'score':>8}  {'success':>7}  {'falls':>6}  checkpoint")
    several_envs = len({c.get("env_id") for c in result["checkpoints"]}) > 1
    shown_env = None
    for c in sorted(result["checkpoints"], key=lambda c: str(c.get("env_id"))) if several_envs else result["checkpoints"]:
        if several_envs and c.get("env_id") != shown_env:  # scores rank checkpoints of one env: one block each
            shown_env = c.get("env_id")
            lines.append(f"{shown_env}:")
        m = c.get("metrics") or {}
        score = f"{c['score']:.4f}" if isinstance(c.get("score"), (int, float)) else "-"
        success = f"{m['success_rate']:.3f}" if isinstance(m.get("success_rate"), (int, float)) else "-"
        falls = f"{m['fall_rate']:.3f}" if isinstance(m.get("fall_rate"), (int, float)) else "-"
        lines.append(f"{score:>8}  {success:>7}  {falls:>6}  {c.get('checkpoint')}  ({c.get('id')})")
        if (result.get("tied") or {}).get(c.get("id")):
            n = result["tied"][c["id"]]
            lines.append(f"          tied with {n} other registered checkpoint{'s' * (n != 1)} at this score: a tie "
                         "goes to the newest registration, so this pick says nothing about which is better")
    lines += [*(result.get("env_bests") or []), *(result.get("unregistered") or [])]
    return "\n".join(lines)


def render_automl(result: dict[str, Any]) -> str:
    if result.get("dry_run"):
        s = result["settings"]
        return (f"dry run: nothing started. `vbot automl` with these flags would run mode {s['mode']} on "
                f"{s['env_id']}: {s['hp_trials']} trial{'s' * (s['hp_trials'] != 1)} x {s['trial_steps']:,} env steps"
                + (f", final {s['final_steps']:,} env steps" if s["mode"] == "stage" else "")
                + f", {s['num_envs']} envs, budget {s['budget_hours']:g} h")
    counts = ", ".join(f"{n} {k}" for k, n in sorted(result["trials"].items())) or "none"
    lines = [f"campaign {result['automl_id']}: {result['status']} (phase {result['phase']}, mode {result['mode']})",
             f"budget: {result['elapsed_hours']:.3f} h of {result['budget_hours']:g} h; trials: {counts}"]
    best = result.get("best")
    if best:
        lines.append(f"best: trial {best['trial']}, score {best['score']:.4f}, checkpoint {best.get('checkpoint')}")
    if result.get("message"):
        lines.append(result["message"])
    lines.append(f"report: {result['report']}")
    return "\n".join(lines)
