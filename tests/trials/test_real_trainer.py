"""One small campaign with the real trainer (`vbot train`) and the real evaluation, on the tiny
dummy:point_nav env: the seam the fake trainer stands in for in the other tests."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from campaign_kit import REPO, SEARCH_SPACE


@pytest.mark.slow
def test_real_trainer_campaign(tmp_path):
    from vbot_agent.workspace.init import init_workspace

    root = tmp_path / "ws"
    init_workspace(root)
    config = {
        "env_id": "dummy:point_nav", "mode": "hp", "budget_hours": 0.5, "hp_trials": 1, "trial_steps": 12000,
        "num_envs": 16, "seed": 3,
        "search_space": {"params": {k: v for k, v in SEARCH_SPACE["params"].items() if k.startswith("ppo.")}},
        "train": {"check_point_interval": 4, "eval": {"episodes": 4}},
        "evaluation": {"episodes": 4, "final_episodes": 8, "every_env_steps": 1500},
        "timeouts": {"heartbeat_s": 1, "grace_s": 10, "stall_s": 120},
    }
    (root / "real.yaml").write_text(yaml.safe_dump(config))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("VBOT_WORKSPACE", None)
    proc = subprocess.run([sys.executable, "-m", "vbot_agent.cli", "--workspace", str(root), "automl",
                           "--config", "real.yaml", "--json"], cwd=root, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["status"] == "complete" and result["trials"] == {"complete": 1}
    state = yaml.safe_load((root / "starter_kit_schedule/progress/automl_state.yaml").read_text())
    trial = state["trials"][0]
    assert 0.0 <= trial["metrics"]["success_rate"] <= 1.0 and trial["metrics"]["episodes"] == 8
    assert trial["checkpoint"].endswith("checkpoints/last.pt") and os.path.isfile(trial["checkpoint"])
    assert trial["intermediate"], "no intermediate evaluation reached the pruner"
    registry = yaml.safe_load((root / "starter_kit_schedule/checkpoints/registry.yaml").read_text())
    assert registry["checkpoints"][0]["score"] == trial["score"]
    # The final score's episodes ran in the trainer (final_evaluation.json), and they are the same
    # episodes the trial would have run on last.pt itself.
    from vbot_agent.trials import trainer_backend as trainer
    from vbot_agent.trials.trial import load_trial_config

    run_dir = Path(trial["checkpoint"]).parent.parent
    final = json.loads((run_dir / "final_evaluation.json").read_text())
    assert final["episodes"] == 8 and final["seed"] == 12345
    spec = load_trial_config(next((root / "starter_kit_log").glob("*/configs/trial_0000.yaml")))
    own = trainer.final_evaluation(run_dir, spec)
    assert own["metrics"] == trial["metrics"]
    again = trainer.evaluate(trial["checkpoint"], spec, 8, 12345)
    for key in ("episodes", "success_rate", "fall_rate", "competition_points"):
        assert again[key] == trial["metrics"][key], key
    assert again["mean_return"] == pytest.approx(trial["metrics"]["mean_return"], rel=1e-4)
