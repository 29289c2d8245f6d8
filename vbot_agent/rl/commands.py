"""The functions behind ``vbot train``, ``vbot play`` and ``vbot bench train`` (declared in
``vbot_agent.actions.train_actions``). Each takes ``(ctx, **params)`` and returns a JSON-able dict.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from vbot_agent import tensorboard_tags as tags
from vbot_agent.errors import Interrupted, UsageError

# Flags that may change when a run is resumed (anything else would make it a different run).
RESUMABLE_FLAGS = ("max_env_steps", "check_point_interval", "device")


def runs_root(ctx) -> Path:
    """``<workspace>/runs``; ``./runs`` when no workspace is found (an explicit bad --workspace is an error)."""
    from vbot_agent.workspace import Paths

    if ctx.workspace_override or os.environ.get("VBOT_WORKSPACE"):
        return Paths(ctx.workspace()).runs
    try:
        return Paths(ctx.workspace()).runs
    except UsageError:
        return ctx.cwd / "runs"


def train(ctx, *, env: str | None = None, num_envs: int | None = None, max_env_steps: int | None = None,
          check_point_interval: int | None = None, seed: int | None = None, device: str | None = None,
          config: str | None = None, overrides: list[str] | None = None, resume: str | None = None,
          checkpoint: str | None = None, reset_optimizer: bool = False, lr_multiplier: float | None = None,
          freeze_normalizer: bool = False, dry_run: bool = False) -> dict[str, Any]:
    """Train PPO; see ``vbot train --help``. Returns the run summary (the documented ``--json`` keys)."""
    from vbot_agent.fileio import atomic_write_json
    from vbot_agent.rl.checkpoint import load_checkpoint
    from vbot_agent.rl.config import resolve_train_config, warm_network
    from vbot_agent.rl.run_dir import META_FILE, create_run_dir, experiment_meta, resolve_policy_path
    from vbot_agent.rl.runner import OnPolicyRunner, WarmStart

    overrides = list(overrides or [])
    flags = {"env_id": env, "num_envs": num_envs, "max_env_steps": max_env_steps,
             "check_point_interval": check_point_interval, "seed": seed, "device": device}
    if resume is not None and checkpoint is not None:
        raise UsageError("--resume continues a run, --checkpoint warm-starts a new one: give only one")
    if checkpoint is None and (reset_optimizer or freeze_normalizer or lr_multiplier is not None):
        raise UsageError("--reset-optimizer, --lr-multiplier and --freeze-normalizer need --checkpoint PATH")
    _check_device(device)
    root = runs_root(ctx)
    # The command as `vbot train` words (however it was invoked: CLI, `vbot ask --run`, MCP, a trial),
    # so `vbot runs` can show a command that makes this run again; a direct call records its argv.
    command = list(ctx.command) if ctx.command else list(sys.argv)

    if resume is not None:
        run_dir, ckpt, cfg, started_at = _prepare_resume(root, resume, env, flags, config, overrides)
        if dry_run:
            return {**_dry_run(cfg, None), "resumes": str(run_dir), "at_env_steps": int(ckpt["env_steps"])}
        runner = OnPolicyRunner(cfg, run_dir, resume=ckpt, started_at=started_at)
        meta_path = run_dir / META_FILE
        meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
        meta.setdefault("resumes", []).append({"at_env_steps": runner.env_steps, "command": command,
                                               "max_env_steps": cfg.max_env_steps})
        atomic_write_json(meta_path, meta)
    else:
        from vbot_agent.rl.checkpoint import run_config

        if config in ("latest", "best"):  # a name resolves as for --checkpoint: the newest run, the registry's best
            config = str(resolve_policy_path(root, config, env, "--config"))
        base = run_config(config) if config is not None else None  # --config RUN: that run's whole config
        cfg = resolve_train_config(base=base, config_file=None if base is not None else config, overrides=overrides,
                                   flags=flags)
        warm = None
        if checkpoint is not None:  # a name resolves against the env being trained (its newest run, its best)
            checkpoint = str(resolve_policy_path(root, checkpoint, cfg.env_id, "--checkpoint"))
            if lr_multiplier is not None:
                cfg = replace(cfg, ppo=replace(cfg.ppo, learning_rate=cfg.ppo.learning_rate * lr_multiplier))
            warm = WarmStart(load_checkpoint(checkpoint), checkpoint, reset_optimizer, freeze_normalizer)
            cfg = warm_network(cfg, warm.checkpoint.get("config") or {}, checkpoint)
        changed = env_changes(warm, cfg) if warm is not None else []
        if changed:  # a warm start keeps the network, not the env options it was trained with
            ctx.say("env options differ from the checkpoint's (its -> this run's): " + "; ".join(changed))
        if dry_run:
            return {**_dry_run(cfg, warm), "env_changes": changed}
        run_dir = create_run_dir(root, cfg.env_id)
        try:
            runner = OnPolicyRunner(cfg, run_dir, warm_start=warm)
        except UsageError:
            shutil.rmtree(run_dir)  # the folder we just made is empty: do not leave a dead run behind
            raise
        from vbot_agent.config import to_dict

        env_info = {"obs_dim": runner.env.obs_dim, "action_dim": runner.env.action_dim,
                    "control_dt": runner.env.control_dt, "max_episode_steps": runner.env.max_episode_steps}
        meta = experiment_meta(to_dict(cfg), command=command, env_info=env_info)
        meta["compute"] = {"device": cfg.device, "precision": runner.precision.precision,
                           "precision_choice": runner.precision.to_dict()}
        if warm is not None:
            meta["warm_start"] = {"checkpoint": str(Path(checkpoint).resolve()), "reset_optimizer": reset_optimizer,
                                  "lr_multiplier": lr_multiplier, "freeze_normalizer": freeze_normalizer}
        atomic_write_json(run_dir / META_FILE, meta)

    ctx.say(f"run folder: {run_dir}")
    result = _train_with_progress(ctx, runner)
    from vbot_agent.rl.evaluate import CHECKPOINT_SCORE_FORMULA

    summary = {**asdict(result), "best_checkpoint_score_formula": CHECKPOINT_SCORE_FORMULA}
    if result.status == "stopped":
        raise Interrupted(f"at {result.env_steps:,} of {cfg.max_env_steps:,} env steps, checkpoints/last.pt saved; "
                          f"continue with: {resume_command(run_dir)}", result=summary)
    return summary


def _dry_run(cfg, warm) -> dict[str, Any]:
    """What ``vbot train`` would train, resolved and checked (the env built once, a warm start's sizes
    matched against it), without a run folder or a step of training."""
    from vbot_agent.config import to_dict
    from vbot_agent.rl.envs import check_compatible, make_env

    env = make_env(cfg.env_id, 1, seed=cfg.seed, env=cfg.env, reward=cfg.reward)
    try:
        if warm is not None:
            check_compatible(warm.checkpoint, warm.path, env_id=cfg.env_id, obs_dim=env.obs_dim,
                             action_dim=env.action_dim, same_env_id=False)
    finally:
        env.close()
    fits = None if warm is None else (f"checked: its observations ({env.obs_dim}) and actions ({env.action_dim}) "
                                      f"fit this env; its network is kept ({_sizes(cfg.policy)}); "
                                      f"{_noise_note(warm, cfg.policy)}; {_optimizer_note(warm)}")
    return {"dry_run": True, "env_id": cfg.env_id, "num_envs": cfg.num_envs, "max_env_steps": cfg.max_env_steps,
            "learning_rate": cfg.ppo.learning_rate, "schedule": cfg.ppo.schedule,
            "warm_start": None if warm is None else str(Path(warm.path).resolve()), "warm_start_check": fits,
            "config": to_dict(cfg)}


def _noise_note(warm, policy) -> str:
    """The checkpoint's action noise (std per joint) and what this run's noise bound does to it."""
    log_std = warm.checkpoint["ppo"]["model"].get("log_std")
    if log_std is None:
        return "its action noise is not in the checkpoint"
    std = [math.exp(float(v)) for v in log_std.flatten()]
    mean, top = sum(std) / len(std), max(std)
    bound = policy.max_noise_std
    if bound is None:
        what = "policy.max_noise_std is null, so it is kept" + ("" if policy.final_noise_std else " and may grow")
    elif top > bound:
        what = f"policy.max_noise_std {bound:g} caps every joint's std at {bound:g} at load and after every update"
    else:
        what = f"under policy.max_noise_std {bound:g}, so it is kept (and capped there after every update)"
    final, start = policy.final_noise_std, policy.start_noise_cap
    if final is not None and final < start:
        what += (f"; policy.final_noise_std {final:g} then lowers the cap linearly from {start:g} to {final:g} "
                 "over the run")
    elif final is not None:
        what += f"; policy.final_noise_std {final:g} is not below the starting cap {start:g}, so the cap stays"
    return f"its action noise std is {mean:.2f} on average (at most {top:.2f}); {what}"


def _optimizer_note(warm) -> str:
    if warm.reset_optimizer:
        return "the optimiser starts fresh (--reset-optimizer)"
    if "optimizer" not in warm.checkpoint["ppo"]:
        raise UsageError(f"{warm.path} holds no optimiser state; add --reset-optimizer")
    return "its Adam state is kept (--reset-optimizer starts it fresh)"


def _sizes(policy) -> str:
    return (f"actor {'-'.join(map(str, policy.actor_hidden_dims))}, "
            f"critic {'-'.join(map(str, policy.critic_hidden_dims))}")


def env_changes(warm, cfg) -> list[str]:
    """The env options (dotted keys) in which this run differs from the one the warm-start checkpoint
    trained with, as "key old -> new" (the same env id only: another env's options do not compare)."""
    from vbot_agent.config import flatten, to_dict

    trained = warm.checkpoint.get("config") or {}
    if trained.get("env_id") != cfg.env_id or not isinstance(trained.get("env"), dict):
        return []
    before, after = flatten(trained["env"]), flatten(to_dict(cfg.env))
    return [f"env.{k} {before[k]} -> {after[k]}" for k in sorted(before) if k in after and before[k] != after[k]]


def resume_command(run_dir: Path) -> str:
    """The exact command that continues ``run_dir`` (relative to the current folder when inside it)."""
    import shlex

    path = Path(run_dir).resolve()
    try:
        shown = str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        shown = str(path)
    return f"vbot train --resume {shlex.quote(shown)}"


def render_train(result: dict[str, Any]) -> str:
    """``vbot train``'s summary as key: value lines, and what its score means."""
    import textwrap

    from vbot_agent.textout import render_default

    if result.get("dry_run"):  # what would train: the headline, then the whole resolved config
        head = {k: v for k, v in result.items() if k not in ("dry_run", "config")}
        return ("dry run: nothing trained, no run folder made; this is what would train\n" + render_default(head)
                + "\n\nconfig:\n" + render_default(result["config"]))
    shown = {k: v for k, v in result.items() if k != "best_checkpoint_score_formula"}
    for key in ("env_steps_per_s", "final_reward", "success_rate", "best_checkpoint_score"):
        if isinstance(shown.get(key), float):
            shown[key] = round(shown[key], 4 if key != "env_steps_per_s" else 1)
    note = (f"best_checkpoint_score = {result['best_checkpoint_score_formula']}. Campaign trials are ranked "
            "by a different score, which also weighs competition points and time to target (`vbot analyze` "
            "prints its formula).")
    return render_default(shown) + "\n\n" + textwrap.fill(note, width=100)


def _check_device(device: str | None) -> None:
    if device is None or device == "cpu":
        return
    import torch

    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError(f"--device {device}: CUDA is not available on this machine; use --device cpu")


def _prepare_resume(root: Path, resume: str, env: str | None, flags: dict[str, Any], config: str | None,
                    overrides: list[str]):
    from vbot_agent.rl.checkpoint import load_checkpoint
    from vbot_agent.rl.config import config_from_checkpoint
    from vbot_agent.rl.run_dir import CHECKPOINT_DIR, PROGRESS_FILE, find_latest_run

    if config is not None or overrides:
        raise UsageError("--resume continues a run with its own config; --config/--set start a new run")
    run_dir = find_latest_run(root, env) if resume == "latest" else Path(resume)
    if not run_dir.is_dir():
        raise UsageError(f"--resume {resume}: run folder {run_dir} does not exist")
    run_dir = run_dir.resolve()  # the summary and progress.json name it the same way as a new run's
    last = run_dir / CHECKPOINT_DIR / "last.pt"
    if not last.is_file():
        raise UsageError(f"--resume {resume}: {last} not found (the run never reached a checkpoint)")
    ckpt = load_checkpoint(last)
    cfg = config_from_checkpoint(ckpt["config"])
    for key, value in flags.items():
        if value is None or getattr(cfg, key) == value:
            continue
        if key not in RESUMABLE_FLAGS:
            raise UsageError(f"--resume: cannot change --{key.replace('_', '-')} ({getattr(cfg, key)} in the run)")
        cfg = replace(cfg, **{key: value})
    if ckpt["env_steps"] >= cfg.max_env_steps:
        raise UsageError(f"--resume: the run already has {ckpt['env_steps']:,} env steps; "
                         f"raise --max-env-steps above that to continue it")
    progress = run_dir / PROGRESS_FILE
    started_at = json.loads(progress.read_text()).get("started_at") if progress.is_file() else None
    return run_dir, ckpt, cfg, started_at


def _train_with_progress(ctx, runner):
    from vbot_agent.rl.loop import train as run_training
    from vbot_agent.rl.progress import PlainProgress, RichProgress

    cfg = runner.cfg
    if ctx.interactive:
        reporter: Any = RichProgress(cfg.max_env_steps, runner.env_steps)
    else:
        reporter = PlainProgress(ctx.say, cfg.max_env_steps, cfg.log_interval_s, cfg.steps_per_iteration)
    with reporter:
        return run_training(runner, reporter)


def play(ctx, *, env: str | None = None, policy: str = "latest", episodes: int = 32, competition: bool = False,
         video: str | None = None, frames: str | None = None, robot: int = 0, seed: int = 0,
         device: str = "cpu") -> dict[str, Any]:
    """Deterministic evaluation episodes of a checkpoint (see ``vbot play --help``)."""
    from vbot_agent.rl.envs import check_compatible, check_env_id, make_env
    from vbot_agent.rl.evaluate import run_episodes, summarize_episodes
    from vbot_agent.rl.run_dir import resolve_policy_path
    from vbot_agent.sim.terrain import COMPETITION_ROBOTS, POINTS_PER_ROBOT

    _check_device(device)
    if env is not None:
        check_env_id(env)
    path = resolve_policy_path(runs_root(ctx), policy, env if policy in ("latest", "best") else None)
    if device == "cpu":
        # The policy runs as numpy arrays extracted by a child process (vbot_agent.rl.array_policy), so
        # torch (~220 MB) is never loaded beside a recording's software GL context; every play on the
        # CPU runs it, with or without recording, so the same command always gives the same numbers.
        from vbot_agent.rl.array_policy import load_array_policy

        pol = load_array_policy(path)
    else:
        from vbot_agent.rl.checkpoint import InferencePolicy, load_checkpoint

        pol = InferencePolicy(load_checkpoint(path), device)
    sizes = {"env_id": pol.env_id, "obs_dim": pol.obs_dim, "action_dim": pol.action_dim}
    env_id = env or pol.env_id
    env_options, reward_options = dict(pol.config.env), dict(pol.config.reward)
    if env_id != pol.env_id:
        from vbot_agent.rl.envs import resolve_env_options

        env_options, reward_options = resolve_env_options(env_id, {}, {})
    num_envs, rounds = episodes, 1
    from vbot_agent.rl.competition import course_competition_options, course_terrain, summarize_course_points

    on_course = competition and course_terrain(env_id) is not None
    if on_course:  # one robot per episode, from the start area, for the run time of the section
        env_options = course_competition_options(env_id, env_options)
    elif competition:
        env_options = _competition_options(env_id, env_options)
        num_envs, rounds = COMPETITION_ROBOTS, max(1, math.ceil(episodes / COMPETITION_ROBOTS))
    if robot >= num_envs:
        raise UsageError(f"--robot {robot}: the first round has robots 0-{num_envs - 1}")
    recorders = _recorders(ctx, video, frames, path, pol, robot)
    results = []
    try:
        for r in range(rounds):
            batch = make_env(env_id, num_envs, seed=seed + r, env=env_options, reward=reward_options)
            try:
                check_compatible(sizes, path, env_id=env_id, obs_dim=batch.obs_dim, action_dim=batch.action_dim,
                                 same_env_id=False)
                on_step = _bind_recorders(recorders, batch) if r == 0 else None
                episodes_r = run_episodes(pol, batch, seed=seed + r, on_step=on_step)
                results.append((summarize_episodes(episodes_r), episodes_r))
            finally:
                batch.close()
    except BaseException:  # failed or interrupted: no half-written video is left behind
        for recorder in recorders.values():
            recorder.discard()
        raise
    episodes_data = {k: _concat([ep[k] for _, ep in results]) for k in results[0][1]}
    summary = summarize_episodes(episodes_data)
    out: dict[str, Any] = {
        "policy": str(path), "env_id": env_id, "episodes": summary.episodes,
        "success_rate": summary.to_dict()["success_rate"], "fall_rate": summary.to_dict()["fall_rate"],
        "mean_return": summary.to_dict()["mean_return"],
        "mean_time_to_target_s": summary.to_dict()["mean_time_to_target_s"],
        "mean_final_distance_m": summary.to_dict()["mean_final_distance"],
    }
    if on_course:
        out["competition"] = summarize_course_points(episodes_data)
    elif competition:
        per_round = [res.competition_points for res, _ in results]
        out["competition_points"] = float(sum(per_round) / len(per_round))
        out["competition_max_points"] = COMPETITION_ROBOTS * POINTS_PER_ROBOT
        out["competition_rounds"] = len(per_round)
        out["competition_points_per_round"] = [float(points) for points in per_round]
    first = results[0][1]
    if "success" in first and "row" in first:  # robots of the first round that missed: record one with --robot
        out["robots_missed"] = sorted(int(r) for r, ok in zip(first["row"], first["success"]) if not ok)
    for key, recorder in recorders.items():
        started = time.perf_counter()
        out[key] = recorder.close()
        if key == "frames":  # the sheet renders its frames here, at the end
            out["frames_render_s"] = round(time.perf_counter() - started, 2)
    return out


def _recorders(ctx, video: str | None, frames: str | None, policy_path: Path, pol, robot: int = 0) -> dict[str, Any]:
    """The recorders asked for, by result key; their file names are checked before anything runs."""
    from vbot_agent.rl.recording import VideoRecorder
    from vbot_agent.rl.sheet_recorder import ContactSheetRecorder

    recorders: dict[str, Any] = {}
    if video:
        recorders["video"] = VideoRecorder(video, stream=ctx.stderr, row=robot)
    if frames:
        title = f"{_short_path(policy_path)}  (iteration {pol.iteration}, {pol.env_steps:,} env steps)"
        recorders["frames"] = ContactSheetRecorder(frames, title=title, row=robot)
    return recorders


def _bind_recorders(recorders: dict[str, Any], env):
    """Attach every recorder to ``env``; one ``on_step`` that feeds them all, or None without any."""
    if not recorders:
        return None
    for recorder in recorders.values():
        recorder.bind(env)
    hooks = [recorder.on_step for recorder in recorders.values()]

    def on_step(terminated, truncated) -> None:
        for hook in hooks:
            hook(terminated, truncated)

    return on_step


def _short_path(path: Path) -> str:
    """``<env>/<run>/checkpoints/best.pt``: enough to tell runs apart on the sheet's title."""
    parts = Path(path).resolve().parts
    return "/".join(parts[-4:]) if len(parts) >= 4 else str(path)




def _concat(parts):
    import numpy as np

    return np.concatenate([np.asarray(p) for p in parts])


def _competition_options(env_id: str, env_options: dict[str, Any]) -> dict[str, Any]:
    """The env options of the competition layout (10 robots on a 10-12 m ring, target the centre)."""
    from vbot_agent.sim.registry import ENV_SPECS, has_competition

    spawn = env_options.get("spawn")
    if not isinstance(spawn, dict) or "layout" not in spawn or (env_id in ENV_SPECS and not has_competition(env_id)):
        raise UsageError(f"--competition: {env_id} has no competition scoring (the flat ring, the sections and "
                         "the long course have); play it without --competition")
    return {**env_options, "spawn": {**spawn, "layout": "competition"}}


def bench_train(ctx, *, env: str = "vbot_navigation_section001", num_envs: int | None = None,
                iterations: int = 5, config: str | None = None,
                overrides: list[str] | None = None) -> dict[str, Any]:
    """End-to-end training steps/s vs physics-only steps/s of the same env, in one process."""
    import tempfile

    import numpy as np

    from vbot_agent.rl.config import resolve_train_config
    from vbot_agent.rl.runner import OnPolicyRunner

    cfg = resolve_train_config(config_file=config, overrides=list(overrides or []),
                               flags={"env_id": env, "num_envs": num_envs})
    cfg = replace(cfg, eval=replace(cfg.eval, enabled=False),
                  max_env_steps=cfg.steps_per_iteration * (iterations + 1), check_point_interval=10**9)
    # Physics-only blocks (one rollout's worth of env steps, random actions) and training
    # iterations alternate, so both see the same background load on a shared machine.
    with tempfile.TemporaryDirectory(prefix="vbot-bench-") as tmp:
        runner = OnPolicyRunner(cfg, Path(tmp))
        try:
            rng = np.random.default_rng(0)
            shape = (cfg.ppo.num_steps_per_env, cfg.num_envs, runner.env.action_dim)
            runner.run_iteration()  # warm-up (allocations, thread pools)
            physics_time = train_time = 0.0
            stats = []
            for _ in range(iterations):
                actions = rng.uniform(-1, 1, shape).astype(np.float32)
                state, obs = runner.env.get_state(), runner.obs
                t0 = time.perf_counter()
                for a in actions:
                    runner.env.step(a)
                physics_time += time.perf_counter() - t0
                runner.env.set_state(state)  # training continues from where it was
                runner.obs = obs
                t0 = time.perf_counter()
                stats.append(runner.run_iteration())
                train_time += time.perf_counter() - t0
        finally:
            runner.close()
    steps = iterations * cfg.steps_per_iteration
    train_rate, physics = steps / train_time, steps / physics_time
    collect = sum(s.scalars[tags.COLLECTION_TIME_S] for s in stats)
    learn = sum(s.scalars[tags.LEARN_TIME_S] for s in stats)
    return {
        "env_id": cfg.env_id, "num_envs": cfg.num_envs, "cpu_count": os.cpu_count(),
        "device": cfg.device, "iterations": iterations, "steps_per_iteration": cfg.steps_per_iteration,
        "train_env_steps_per_s": round(train_rate, 1), "physics_steps_per_s": round(physics, 1),
        "ratio": round(train_rate / physics, 3),
        "collection_share": round(collect / (collect + learn), 3),
        "precision": runner.precision.precision, "precision_reason": runner.precision.reason,
    }
