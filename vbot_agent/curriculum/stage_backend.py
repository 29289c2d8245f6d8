"""The trial backend of curriculum stages: the plan's own backend plus the stage's warm-start or
resume flags, read from ``launch.yaml`` in the trial folder (see ``vbot_agent.trials.backend``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vbot_agent.config import load_yaml
from vbot_agent.trials.backend import DEFAULT_BACKEND, load_backend
from vbot_agent.trials.trainer_backend import resume_argv

LAUNCH_FILE = "launch.yaml"  # {base_backend, checkpoint, lr_multiplier, reset_optimizer, freeze_normalizer, resume_run_dir}


def _launch(spec) -> dict[str, Any]:
    return load_yaml(Path(spec.out_dir) / LAUNCH_FILE)


def train_command(spec, train_config_file):
    """The plan backend's ``vbot train`` argv with the stage's ``--checkpoint ...`` or ``--resume RUN``."""
    launch = _launch(spec)
    argv = list(load_backend(launch["base_backend"]).train_command(spec, train_config_file))
    if launch.get("resume_run_dir"):
        return resume_argv(argv, launch["resume_run_dir"])
    tail = argv[-1:] if argv and argv[-1] == "--json" else []
    argv = argv[: len(argv) - len(tail)]
    if launch.get("checkpoint"):
        argv += ["--checkpoint", launch["checkpoint"]]
        if launch.get("reset_optimizer"):
            argv.append("--reset-optimizer")
        if launch.get("lr_multiplier", 1.0) != 1.0:
            argv += ["--lr-multiplier", repr(float(launch["lr_multiplier"]))]
        if launch.get("freeze_normalizer"):
            argv.append("--freeze-normalizer")
    return [*argv, *tail]


def evaluate(checkpoint, spec, episodes, seed):
    return load_backend(_launch(spec)["base_backend"]).evaluate(checkpoint, spec, episodes, seed)


def final_evaluation(run_dir, spec):
    own = getattr(load_backend(_launch(spec)["base_backend"]), "final_evaluation", None)
    return own(run_dir, spec) if own else None


def check_overrides(env_id, train, assignments):
    return load_backend(DEFAULT_BACKEND).check_overrides(env_id, train, assignments)
