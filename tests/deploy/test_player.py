"""examples/onnx_player.py: a torch-free player that reproduces the trainer's episodes in plain MuJoCo."""

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
PLAYER = ROOT / "examples" / "onnx_player.py"


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


@pytest.mark.parametrize("terrain", ["section011", "section012", "section013"])
def test_ray_cast_height_scan_matches_the_terrain(exported, tmp_path, terrain):
    """On the course sections, the player's ray-cast ground height equals the trainer's terrain formulas."""
    from vbot_agent.deploy.sidecar import build_scene_spec
    from vbot_agent.sim.terrain import TERRAINS

    for name in ("sidecar", "onnx", "episodes"):
        shutil.copy(exported["files"][name], tmp_path)
    sidecar = tmp_path / Path(exported["files"]["sidecar"]).name
    scene = tmp_path / json.loads(sidecar.read_text())["files"]["scene"]
    scene.write_text(build_scene_spec(terrain).to_xml())
    player = _player_module().Player(sidecar)
    rng = np.random.default_rng(0)
    ground = TERRAINS[terrain]()
    x0, x1 = ground.x_range
    # Away from step edges by a few mm: there the two may fall on either side of a vertical face.
    xs, ys = rng.uniform(x0, x1, 400), rng.uniform(-1.0, 1.0, 400)
    expected = ground.height(xs, ys)
    measured = np.array([player.ground_height(x, y) for x, y in zip(xs, ys)])
    close = np.abs(measured - expected) < 2e-3
    assert close.mean() > 0.97, (xs[~close], ys[~close], measured[~close], expected[~close])
    assert expected.max() > 0.1  # the samples do climb the course
