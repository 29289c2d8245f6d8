"""vbot_agent/deploy/onnx_player.py (copied beside every export): a torch-free player that reproduces the trainer's episodes in plain MuJoCo."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

onnxruntime = pytest.importorskip("onnxruntime", reason="the export extra (onnx, onnxruntime) is in the test extra")

ROOT = Path(__file__).resolve().parents[2]
PLAYER = ROOT / "vbot_agent" / "deploy" / "onnx_player.py"


def _player_module():
    spec = importlib.util.spec_from_file_location("onnx_player", PLAYER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_player_runs_without_torch_or_vbot_agent(exported):
    # Any import of torch or of this package inside the player fails loudly.
    blocker = ("import sys, runpy; sys.modules['torch'] = None; sys.modules['vbot_agent'] = None; "
               f"sys.argv = ['onnx_player.py', {exported['files']['sidecar']!r}, '--episodes', '2', '--json']; "
               f"runpy.run_path({str(PLAYER)!r}, run_name='__main__')")
    result = subprocess.run([sys.executable, "-c", blocker], capture_output=True, text=True, timeout=300, cwd="/")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["episodes"] == 2 and len(summary["per_episode"]) == 2
    assert set(summary) >= {"success_rate", "fall_rate", "mean_final_distance_m", "points"}


def test_player_observations_and_outcomes_match_the_env(exported):
    """Same start states, same ONNX actions: every observation the player feeds the policy equals the
    env's, bit for bit, through whole episodes, and every episode ends at the same step."""
    from vbot_agent.sim.registry import make_env

    files = exported["files"]
    player = _player_module().Player(Path(files["sidecar"]))
    session = onnxruntime.InferenceSession(files["onnx"])
    n = exported["episodes"]
    env = make_env("vbot_navigation_section001", n, seed=exported["seed"], threads=1)
    try:
        obs = env.reset(seed=exported["seed"])  # as `vbot play --seed S` starts
        trace = np.zeros((env.max_episode_steps, n, obs.shape[1]), dtype=np.float32)
        length = np.zeros(n, dtype=np.int64)  # the step each env's first episode ended, per row
        for t in range(env.max_episode_steps):
            trace[t] = obs
            obs, _, terminated, truncated, _ = env.step(session.run(["actions"], {"obs": obs})[0])
            length[((terminated | truncated) & (length == 0))] = t + 1
    finally:
        env.close()
    for i, start in enumerate(player.episodes):
        played = player.run_episode(start, record=True)
        assert played["length"] == length[i]
        np.testing.assert_array_equal(played["observations"], trace[: length[i], i])


def test_a_course_sidecar_is_refused_with_one_clear_line(exported, tmp_path):
    """The player computes the flat arena's observation; a course's blocks (gates, foot contacts, ...)
    are refused by name instead of being fed to the policy wrong."""
    for name in ("sidecar", "onnx", "episodes", "scene"):
        shutil.copy(exported["files"][name], tmp_path)
    sidecar = tmp_path / Path(exported["files"]["sidecar"]).name
    data = json.loads(sidecar.read_text())
    data["observation"]["layout"].append({"name": "next_gates", "offset": data["observation"]["dim"], "size": 4})
    data["env_id"] = "vbot_navigation_section011"
    sidecar.write_text(json.dumps(data))
    with pytest.raises(SystemExit, match="flat arena's observation only; the blocks next_gates of "
                                         "vbot_navigation_section011 are not implemented"):
        _player_module().Player(sidecar)
