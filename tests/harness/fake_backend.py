"""A fast fake trial backend for the campaign tests (never used by the product).

``train_command`` runs ``fake_trainer.py``, which writes the trainer's files (progress.json,
checkpoints, the JSON summary) in milliseconds; ``evaluate`` reads the quality the fake wrote into
the checkpoint. Keys are checked by the real trainer's config (``vbot_agent.trials.trainer_backend``).
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path

from vbot_agent.trials.trainer_backend import (
    check_overrides,  # noqa: F401  (the real key check)
    resume_argv,
    to_overrides,
)

FAKE_TRAINER = Path(__file__).with_name("fake_trainer.py")


def train_command(spec, train_config_file):
    argv = [sys.executable, str(FAKE_TRAINER), "--env", spec.env_id, "--num-envs", str(spec.num_envs),
            "--max-env-steps", str(spec.max_env_steps), "--seed", str(spec.seed)]
    if train_config_file is not None:
        argv += ["--config", str(train_config_file)]
    for override in to_overrides(spec.values):
        argv += ["--set", override]
    if spec.init_checkpoint and not spec.resume_run_dir:
        argv += ["--checkpoint", spec.init_checkpoint]
    argv.append("--json")
    return resume_argv(argv, spec.resume_run_dir) if spec.resume_run_dir else argv


def evaluate(checkpoint, spec, episodes, seed):
    time.sleep(float(os.environ.get("FAKE_EVAL_S", "0")))
    quality = json.loads(Path(checkpoint).read_text())["quality"]
    if quality is None:
        quality = math.nan
    return {
        "episodes": episodes,
        "success_rate": quality,
        "competition_points": 2.0 * quality * 0.9,
        "fall_rate": 0.3 * (1.0 - quality),
        "time_to_target_s": 20.0 * (1.0 - 0.5 * quality),
        "episode_time_s": 20.0,
    }


def measure_throughput(env_id, num_envs, train):
    """The fake trainer's rate: FAKE_STEPS_PER_S (default 1M env steps/s, it writes files only)."""
    return float(os.environ.get("FAKE_STEPS_PER_S", "1000000"))
