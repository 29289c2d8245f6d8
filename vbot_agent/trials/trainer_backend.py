"""The real trial backend (the default): ``vbot train`` in a subprocess, ``vbot_agent.rl`` evaluation.

See ``vbot_agent.trials.backend`` for the contract. This module is the only place the campaign
touches the trainer's Python API, and it does so lazily (torch and mujoco load in the trial
subprocess, never in the campaign process).
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def to_overrides(values: Mapping[str, Any]) -> list[str]:
    """``--set`` strings for the trainer: JSON values are valid YAML (lists stay lists)."""
    return [f"{key}={json.dumps(value)}" for key, value in values.items()]


def train_command(spec, train_config_file: Path | None) -> list[str]:
    """``python -m vbot_agent.cli train --env ... --json`` for one trial (cwd: the workspace)."""
    argv = [
        sys.executable, "-m", "vbot_agent.cli", "--workspace", spec.workspace, "train",
        "--env", spec.env_id, "--num-envs", str(spec.num_envs), "--max-env-steps", str(spec.max_env_steps),
        "--seed", str(spec.seed),
    ]
    if train_config_file is not None:
        argv += ["--config", str(train_config_file)]
    if "enabled" not in (spec.train.get("eval") or {}):
        # The trial evaluates the checkpoints itself (the score's episodes); the trainer's own
        # evaluation at each checkpoint would double that cost. A base config that sets
        # eval.enabled explicitly keeps its choice.
        argv += ["--set", "eval.enabled=false"]
    if spec.evaluation.final_episodes:
        # the final score's episodes run in the trainer, on the policy it already holds
        argv += ["--set", f"eval.final_episodes={spec.evaluation.final_episodes}",
                 "--set", f"eval.seed={spec.evaluation.seed}"]
    if "check_point_interval" not in spec.train and spec.evaluation.every_env_steps:
        argv += ["--set", f"check_point_interval={checkpoint_interval(spec)}"]
    for override in to_overrides(spec.values):
        argv += ["--set", override]
    if spec.init_checkpoint and not spec.resume_run_dir:
        argv += ["--checkpoint", spec.init_checkpoint]
    argv.append("--json")
    return resume_argv(argv, spec.resume_run_dir) if spec.resume_run_dir else argv


def resume_argv(argv: list[str], run_dir: str) -> list[str]:
    """A new run's ``vbot train`` argv turned into one that continues ``run_dir``.

    ``vbot train --resume`` takes the run's stored config, so ``--config`` and ``--set`` go.
    """
    tail = argv[-1:] if argv and argv[-1] == "--json" else []
    kept, skip = [], False
    for token in argv[:len(argv) - len(tail)]:
        if skip:
            skip = False
        elif token in ("--config", "--set"):
            skip = True
        else:
            kept.append(token)
    return [*kept, "--resume", str(run_dir), *tail]


def checkpoint_interval(spec) -> int:
    """Iterations between checkpoints so that one lands at every intermediate evaluation."""
    from vbot_agent.rl.config import PPOConfig

    rollout = spec.values.get("ppo.num_steps_per_env",
                              (spec.train.get("ppo") or {}).get("num_steps_per_env", PPOConfig().num_steps_per_env))
    steps_per_iteration = spec.num_envs * int(rollout)
    return max(1, -(-spec.evaluation.every_env_steps // steps_per_iteration))  # ceil: land just past each mark


def evaluate(checkpoint: Path, spec, episodes: int, seed: int) -> dict[str, Any]:
    """Deterministic evaluation episodes of ``checkpoint`` (one per env), as the score's metrics."""
    import torch

    from vbot_agent.rl.checkpoint import load_policy
    from vbot_agent.rl.envs import make_env
    from vbot_agent.rl.evaluate import SMALL_EVAL_EPISODES
    from vbot_agent.rl.evaluate import evaluate as run_episodes

    policy = load_policy(checkpoint)
    cfg = policy.config
    # A few dozen envs step faster on one thread than with a pool's hand-offs (measured ~2x at 10 envs),
    # and they leave the other cores to the trainer running beside the intermediate evaluations.
    threads = 1 if episodes <= SMALL_EVAL_EPISODES else os.cpu_count() or 1
    torch.set_num_threads(1)  # the policy is a small MLP
    env = make_env(cfg.env_id, episodes, seed=seed, env=cfg.env, reward=cfg.reward, threads=threads)
    try:
        result = run_episodes(policy, env, seed=seed)
        episode_time_s = float(env.max_episode_steps * env.control_dt)
    finally:
        env.close()
    return metrics_from_result(result.to_dict(), episode_time_s)


def final_evaluation(run_dir: Path, spec) -> dict[str, Any] | None:
    """The run's ``final_evaluation.json`` as score metrics, if it has the episodes and seed asked for."""
    from vbot_agent.fileio import read_json
    from vbot_agent.rl.run_dir import FINAL_EVALUATION

    try:
        record = read_json(Path(run_dir) / FINAL_EVALUATION)
    except ValueError:
        return None
    if (not record or record.get("episodes") != spec.evaluation.final_episodes
            or record.get("seed") != spec.evaluation.seed or record.get("episode_time_s") is None):
        return None
    return {"metrics": metrics_from_result(record["result"], record["episode_time_s"]),
            "wall_s": float(record["wall_s"])}


def metrics_from_result(result: Mapping[str, Any], episode_time_s: float) -> dict[str, Any]:
    """The score's metrics from ``vbot_agent.rl.evaluate.EvalResult.to_dict()``.

    ``competition_points`` becomes points per robot (EvalResult sums over episodes) and
    ``max_points`` the most one robot can score (2 on the flat arena, the section total on a course);
    ``time_to_target_s`` becomes the mean over all episodes with an unreached target counting the
    full episode time (EvalResult averages successful episodes only, which would reward failing).
    Unmeasured values stay None, so the score refuses them.
    """
    episodes = int(result["episodes"])
    success = result.get("success_rate")
    mean_time_success = result.get("mean_time_to_target_s")
    if success is None:
        time_all = None
    elif success == 0:
        time_all = episode_time_s
    elif mean_time_success is None or not math.isfinite(mean_time_success):
        time_all = None
    else:
        time_all = success * mean_time_success + (1.0 - success) * episode_time_s
    points = result.get("competition_points")
    most = result.get("max_competition_points")
    return {
        "episodes": episodes,
        "success_rate": success,
        "fall_rate": result.get("fall_rate"),
        "competition_points": None if points is None or episodes == 0 else points / episodes,
        **({"max_points": most / episodes} if isinstance(most, (int, float)) and most > 0 and episodes else {}),
        "time_to_target_s": time_all,
        "episode_time_s": episode_time_s,
        "mean_return": result.get("mean_return"),
        "mean_final_distance": result.get("mean_final_distance"),
        # a course's scoring items (mean points per episode): which of them the points came from
        **({"points_by_item": dict(result["points_by_item"])} if result.get("points_by_item") else {}),
    }


def check_overrides(env_id: str, train: Mapping[str, Any], assignments: Sequence[Mapping[str, Any]]) -> None:
    """Resolve each assignment through ``vbot_agent.rl.config.resolve_train_config``.

    That applies the keys to ``TrainConfig`` (unknown PPO/policy keys are refused with the valid
    ones) and validates env options and reward terms against the env's own schema.
    """
    from vbot_agent.rl.config import resolve_train_config

    for assignment in assignments:
        resolve_train_config(base={**train, "env_id": env_id}, overrides=to_overrides(assignment))


def measure_throughput(env_id: str, num_envs: int, train: Mapping[str, Any]) -> float:
    """Training env steps/s of ``env_id`` with ``num_envs`` envs and the base config ``train`` on this
    machine: ``vbot bench train`` (a warm-up and 3 timed iterations) in a subprocess, so the campaign
    process stays free of torch."""
    import subprocess
    import tempfile

    from vbot_agent.errors import VbotError
    from vbot_agent.fileio import atomic_write_yaml

    with tempfile.TemporaryDirectory(prefix="vbot-throughput-") as tmp:
        argv = [sys.executable, "-m", "vbot_agent.cli", "bench", "train", "--env", env_id,
                "--num-envs", str(num_envs), "--iterations", "3", "--json"]
        if train:
            config = Path(tmp) / "train.yaml"
            atomic_write_yaml(config, dict(train))
            argv[-1:-1] = ["--config", str(config)]
        done = subprocess.run(argv, capture_output=True, text=True, cwd=tmp)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise VbotError(f"measuring training throughput failed (`vbot bench train` exit {done.returncode}): {last}")
    return float(json.loads(done.stdout)["train_env_steps_per_s"])
