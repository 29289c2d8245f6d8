"""A deterministic fixture workspace for the TUI tests, snapshots and benchmark.

Writes the formats the other pieces produce: the campaign state (``automl_state.yaml``), run folders
(``progress.json``, ``experiment_meta.json``, ``checkpoints/*.pt``, TensorBoard events), ``WAKE_UP.md``
and ``skills/<name>/SKILL.md``. Every time is relative to ``FROZEN_NOW``; pass ``clock=frozen_clock``
to the app so ages and liveness never depend on the wall clock.
"""

from __future__ import annotations

import json
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

FROZEN = datetime(2026, 11, 23, 10, 0, 0, tzinfo=timezone.utc)
FROZEN_NOW = FROZEN.timestamp()
ENV_ID = "vbot_navigation_section001"
BEST_RUN = "2026-11-23_08-00-00_PPO"
LIVE_RUN = "2026-11-23_09-30-00_PPO"


def frozen_clock() -> float:
    return FROZEN_NOW


def iso(delta_s: float = 0.0) -> str:
    return (FROZEN + timedelta(seconds=delta_s)).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_trials(n: int) -> list[dict]:
    trials = []
    for number in range(n):
        state = "running" if number == n - 1 else "fail" if number % 7 == 5 else "pruned" if number % 4 == 3 \
            else "complete"
        success = round(0.1 + 0.8 * ((number * 37) % 100) / 100, 3)
        metrics = {} if state in ("fail", "running") else {
            "success_rate": success, "fall_rate": round(0.3 - 0.25 * success, 3),
            "competition_points": round(20 * success, 1), "time_to_target_s": round(14 - 6 * success, 2)}
        trials.append({
            "number": number, "state": state,
            "params": {"learning_rate": round(3e-4 * (1 + (number % 5) / 4), 6), "entropy_coef": 0.005 * (1 + number % 3)},
            "reward_scales": {"progress": 1.0, "arrival": 10.0, "alive": 0.05 * (number % 3)},
            "metrics": metrics,
            "score": None if state in ("fail", "running") else round(0.5 * success + 0.05 * metrics["competition_points"]
                                                                     - 0.3 * metrics["fall_rate"], 4),
            "run_dir": f"runs/{ENV_ID}/{BEST_RUN if number == 2 else f'2026-11-23_0{number % 10}-00-00_PPO'}",
            "checkpoint": None,
            "started_at": iso(-3600 * 3 + number * 60), "finished_at": None if state == "running" else iso(-3600 * 3 + number * 60 + 50),
            "error": "CUDA out of memory (exit 1)" if state == "fail" else None,
        })
    return trials


def make_state(n_trials: int = 12) -> dict:
    trials = make_trials(n_trials)
    done = [t for t in trials if t["score"] is not None]
    best_trial = max(done, key=lambda t: t["score"]) if done else None
    if best_trial is not None:  # the best trial owns the run folder with TensorBoard logs
        for t in trials:
            if t["run_dir"].endswith(BEST_RUN) and t is not best_trial:
                t["run_dir"] = f"runs/{ENV_ID}/2026-11-23_07-00-00_PPO"
        best_trial["run_dir"] = f"runs/{ENV_ID}/{BEST_RUN}"
    return {
        "schema_version": 1, "automl_id": "automl_20261123_070000", "status": "running", "mode": "stage",
        "phase": "search", "stage": None, "env_id": ENV_ID, "budget_hours": 8.0, "elapsed_hours": 3.0,
        "started_at": iso(-3 * 3600), "updated_at": iso(-20), "heartbeat": iso(-20),
        "pid": 4242, "host": "trainer-01", "storage": "sqlite:///automl.db", "study_name": "automl_20261123_070000",
        "settings": {"mode": "stage", "env_id": ENV_ID, "budget_hours": 8.0},
        "score_formula": "0.5*success_rate + 0.05*competition_points - 0.3*fall_rate",
        "trials": trials,
        "best": None if best_trial is None else {
            "trial": best_trial["number"], "score": best_trial["score"], "params": best_trial["params"],
            "reward_scales": best_trial["reward_scales"], "run_dir": best_trial["run_dir"],
            "checkpoint": f"runs/{ENV_ID}/{BEST_RUN}/checkpoints/best.pt", "metrics": best_trial["metrics"]},
        "final": None, "live": None, "curriculum": None, "message": None,
    }


def write_events(run_dir: Path, scalars: dict[str, list[float]], steps_per_point: int = 100_000) -> None:
    """TensorBoard event file with ``scalars`` (tag -> values), fixed wall times."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(str(run_dir))
    length = max(len(v) for v in scalars.values())
    for i in range(length):
        values = [summary_pb2.Summary.Value(tag=tag, simple_value=vals[i]) for tag, vals in scalars.items()
                  if i < len(vals)]
        writer.add_event(event_pb2.Event(wall_time=FROZEN_NOW - 3600 + i, step=(i + 1) * steps_per_point,
                                         summary=summary_pb2.Summary(value=values)))
    writer.close()


def write_run(root: Path, name: str, *, status: str, env_steps: int, max_env_steps: int, updated_delta_s: float,
              tensorboard: bool, checkpoints: tuple[str, ...] = ()) -> Path:
    run_dir = root / "runs" / ENV_ID / name
    (run_dir / "checkpoints").mkdir(parents=True)
    for ckpt in checkpoints:
        (run_dir / "checkpoints" / ckpt).write_bytes(b"")
    progress = {"env_id": ENV_ID, "iteration": env_steps // 24576, "env_steps": env_steps,
                "max_env_steps": max_env_steps, "env_steps_per_s": 41234.5, "reward": 12.5, "success_rate": 0.42,
                "distance_to_target": 1.8, "started_at": iso(-7200), "updated_at": iso(updated_delta_s), "pid": 5151, "host": "trainer-01",
                "status": status, "run_dir": str(run_dir), "best_checkpoint_score": None, "message": None}
    (run_dir / "progress.json").write_text(json.dumps(progress, indent=2))
    meta = {"created_at": iso(-7200), "command": ["vbot", "train", "--env", ENV_ID], "seed": 7, "env_id": ENV_ID}
    (run_dir / "experiment_meta.json").write_text(json.dumps(meta, indent=2))
    if tensorboard:
        curve = [round(-5 + 20 * (1 - 0.85 ** i), 3) for i in range(30)]
        write_events(run_dir, {
            "Reward / Total reward (mean)": curve,
            "metrics / success_rate": [min(1.0, 0.03 * i) for i in range(30)],
            "Reward Instant / progress (mean)": [0.8] * 30,
            "Reward Instant / arrival (mean)": [0.35] * 30,
            "Reward Instant / alive (mean)": [0.05] * 30,
            "Reward Instant / torque (mean)": [-0.12] * 30,
            "Reward Instant / fall (mean)": [-0.4] * 30,
        })
    return run_dir


SKILL_A = """\
---
name: training-pipeline
description: Train one PPO policy for VBot navigation, watch it learn and evaluate its checkpoints.
metadata:
  actions: |
    envs
    train --env vbot_navigation_section001 --max-env-steps 1000000
    bench env --num-envs 64
  triggers: |
    train a policy
  related: reward-tuning
---
# Training pipeline

Run **one** training job and watch it.

```bash
vbot train --env vbot_navigation_section001
```

1. Check the env list with `vbot envs`.
2. Train, then evaluate the best checkpoint.
"""

SKILL_B = """\
---
name: reward-tuning
description: Read the reward-term breakdown of a run and fix a lazy or exploiting policy.
metadata:
  actions: |
    envs
  triggers: |
    reward hacking
---
# Reward tuning

Look at the terms of the best run first.
"""

WAKE_UP = """\
# WAKE UP — campaign automl_20261123_070000

**Status:** running (heartbeat 20 s ago), budget 3.0 / 8.0 h.

## Next command

```bash
vbot automl --resume
```
"""


def register_trial(root: Path, state: dict, record: dict) -> None:
    """Register ``record`` (a trial or the state's best) like the campaign does, with the real writer."""
    from vbot_agent.workspace import Paths
    from vbot_agent.workspace.checkpoints import register

    number = record.get("trial", record.get("number"))
    register(Paths(root).registry_file, {
        "id": f"{state['automl_id']}/trial_{number}", "automl_id": state["automl_id"], "trial": number,
        "env_id": state["env_id"], "checkpoint": record.get("checkpoint"), "run_dir": record.get("run_dir"),
        "score": record["score"], "metrics": record["metrics"], "params": record["params"],
        "reward_scales": record["reward_scales"], "host": state["host"]})


def make_workspace(root: Path, n_trials: int = 12, *, tensorboard: bool = True, skills: bool = True,
                   wake_up: bool = True) -> Path:
    """Create the fixture workspace at ``root`` (which must not exist yet) and return it."""
    progress = root / "starter_kit_schedule" / "progress"
    progress.mkdir(parents=True)
    state = make_state(n_trials)
    (progress / "automl_state.yaml").write_text(yaml.safe_dump(state, sort_keys=False))
    if state["best"] is not None:  # the campaign registers every complete trial; the best is enough here
        register_trial(root, state, state["best"])
    write_run(root, BEST_RUN, status="finished", env_steps=3_000_000, max_env_steps=3_000_000, updated_delta_s=-3600,
              tensorboard=tensorboard, checkpoints=("best.pt", "last.pt", "model_100.pt"))
    write_run(root, LIVE_RUN, status="running", env_steps=3_200_000, max_env_steps=10_000_000, updated_delta_s=-5,
              tensorboard=False, checkpoints=("last.pt",))
    if wake_up:
        (root / "WAKE_UP.md").write_text(WAKE_UP)
    if skills:
        for name, text in (("training-pipeline", SKILL_A), ("reward-tuning", SKILL_B)):
            (root / "skills" / name).mkdir(parents=True)
            (root / "skills" / name / "SKILL.md").write_text(textwrap.dedent(text))
    return root


def make_empty_workspace(root: Path) -> Path:
    """A workspace with nothing in it yet (``vbot init`` just ran)."""
    (root / "starter_kit_schedule" / "progress").mkdir(parents=True)
    return root


def make_corrupt_workspace(root: Path) -> Path:
    """A workspace whose state file has merge-conflict markers (docs/design.md, "Failures we design against")."""
    progress = root / "starter_kit_schedule" / "progress"
    progress.mkdir(parents=True)
    (progress / "automl_state.yaml").write_text("schema_version: 1\n<<<<<<< HEAD\nstatus: running\n=======\n"
                                                 "status: stopped\n>>>>>>> other\n")
    return root
