"""The one seam between a trial and the trainer.

A backend is a module (named in the settings' ``backend:``; default ``vbot_agent.trials.trainer_backend``,
the real ``vbot train`` + ``vbot_agent.rl.evaluate``) with three functions and an optional fourth:

``train_command(spec: TrialConfig, train_config_file: Path | None) -> list[str]``
    The argv of one training run. The process runs with cwd = the workspace, must write
    ``runs/<env>/<stamp>_PPO/progress.json`` (with its ``pid``; see the trainer's contract) and
    ``checkpoints/{last.pt,model_<iter>.pt}``, and print one JSON object as its last stdout line:
    ``{run_dir, env_steps, iterations, env_steps_per_s, final_reward, success_rate}``.

``evaluate(checkpoint: Path, spec: TrialConfig, episodes: int, seed: int) -> dict``
    Real evaluation episodes of a checkpoint. Returns at least ``score.METRIC_KEYS``
    (success_rate, competition_points, fall_rate, time_to_target_s, episode_time_s) as floats.

``final_evaluation(run_dir: Path, spec: TrialConfig) -> dict | None`` (optional)
    The trainer's own evaluation of its last policy, when the finished run made one as
    ``train_command`` asked (``spec.evaluation.final_episodes`` episodes, ``spec.evaluation.seed``):
    ``{metrics, wall_s}`` (of ``last.pt``); else None, and the trial evaluates ``last.pt`` itself.

``check_overrides(env_id: str, train: dict, assignments: list[dict]) -> None``
    Resolve each ``{dotted key: value}`` assignment on top of the base trainer config ``train``
    through the trainer's own config dataclass; raise UsageError for a key it does not use.

Tests point ``backend:`` at a fake trainer module; nothing fake ships in the package.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from vbot_agent.errors import UsageError

REQUIRED = ("train_command", "evaluate", "check_overrides")
DEFAULT_BACKEND = "vbot_agent.trials.trainer_backend"
# Backend module names written by earlier versions into workspace templates and state files.
RENAMED_BACKENDS = {
    "vbot_agent.campaign.trainer": DEFAULT_BACKEND,
    "vbot_agent.campaign.curriculum": "vbot_agent.curriculum.stage_backend",
    "vbot_agent.curriculum.session": "vbot_agent.curriculum.stage_backend",
}


def load_backend(name: str) -> ModuleType:
    """Import backend module ``name`` and check it has the three required functions."""
    name = RENAMED_BACKENDS.get(name, name)
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        raise UsageError(f"trial backend {name!r} cannot be imported ({exc}); the default is "
                         "vbot_agent.trials.trainer_backend") from None
    missing = [f for f in REQUIRED if not callable(getattr(module, f, None))]
    if missing:
        raise UsageError(f"trial backend {name!r} lacks {', '.join(missing)}; see vbot_agent/trials/backend.py")
    return module
