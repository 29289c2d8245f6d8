"""Recording (``vbot play --video/--frames``) runs the policy as numpy arrays extracted by a child
process, so torch never sits in memory beside the GL context: the arrays must act as the torch
policy does, in fp32 and in bf16."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vbot_agent.cli import run
from vbot_agent.errors import UsageError
from vbot_agent.rl.array_policy import load_array_policy, to_bf16
from vbot_agent.rl.checkpoint import load_policy

REPO = Path(__file__).resolve().parents[2]
TINY = ["--num-envs", "8", "--max-env-steps", "128", "--check-point-interval", "2",
        "--set", "ppo.num_steps_per_env=8", "--set", "ppo.num_mini_batches=2",
        "--set", "policy.actor_hidden_dims=[32, 16]", "--set", "policy.critic_hidden_dims=[16]",
        "--set", "eval.enabled=false", "--set", "torch_threads=1"]


def _train(tmp_path, capsys, env: str, *extra: str) -> Path:
    code = run(["train", "--env", env, *TINY, *extra, "--json"])  # into ./runs (the test's tmp_path)
    out = capsys.readouterr()
    assert code == 0, out.err
    return Path(json.loads(out.out)["run_dir"]) / "checkpoints" / "last.pt"


def test_bf16_rounding_is_to_nearest_even():
    x = np.array([1.0, 1.00390625, 1.005859375, -3.14159265, 0.0], np.float32)
    # 1 + 2^-8 is halfway between bf16 neighbours 1 and 1 + 2^-7: ties go to the even one (1.0)
    assert to_bf16(x).tolist() == [1.0, 1.0, 1.0078125, -3.140625, 0.0]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VBOT_WORKSPACE", raising=False)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_the_arrays_act_as_the_torch_policy(tmp_path, capsys, precision):
    path = _train(tmp_path, capsys, "dummy:point_nav", "--set", f"policy.precision={precision}")
    arrays, torch_policy = load_array_policy(path), load_policy(path)
    assert (arrays.precision, arrays.env_id, arrays.iteration) == (precision, "dummy:point_nav", torch_policy.iteration)
    obs = np.random.default_rng(1).normal(0, 3, size=(2000, arrays.obs_dim)).astype(np.float32)
    diff = np.abs(arrays(obs) - torch_policy(obs))
    if precision == "fp32":
        assert diff.max() < 1e-5
    else:  # the same bf16 roundings; a rare input lands on the other side of one rounding step
        assert np.mean(diff < 1e-5) > 0.98 and diff.max() < 0.05


def test_a_damaged_checkpoint_is_one_line(tmp_path):
    bad = tmp_path / "last.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(UsageError, match=r"checkpoint .*last.pt is unreadable: not a torch zip archive"):
        load_array_policy(bad)


def test_frames_run_without_torch_in_the_recording_process(tmp_path, capsys):
    path = _train(tmp_path, capsys, "vbot_navigation_section001")
    sheet = tmp_path / "sheet.png"
    script = ("import sys\nfrom vbot_agent.cli import run\n"
              f"code = run(['play', '--policy', {str(path)!r}, '--episodes', '1', '--frames', {str(sheet)!r}, '--json'])\n"
              "print('TORCH', 'torch' in sys.modules, code)\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=tmp_path,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    assert "TORCH False 0" in proc.stdout, proc.stdout
    assert sheet.is_file() and sheet.stat().st_size > 10_000
