"""`vbot export`: the ONNX and TorchScript graphs compute the checkpoint's policy; the sidecar,
scene and episode starts describe the env the policy was trained in."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

onnxruntime = pytest.importorskip("onnxruntime", reason="the export extra (onnx, onnxruntime) is in the test extra")


def _files(exported) -> dict[str, Path]:
    return {k: Path(v) for k, v in exported["files"].items()}


def _recorded_observations(data, policy_fn, steps=60):
    from vbot_agent.deploy.sidecar import observation_sample
    from vbot_agent.sim.registry import make_env

    env = make_env(data["env_id"], 8, seed=11, config=data["config"]["env"], threads=1)
    try:
        return observation_sample(env, policy_fn, steps)
    finally:
        env.close()


def test_onnx_and_torchscript_agree_with_the_checkpoint_policy(vbot_checkpoint, exported):
    import torch

    from vbot_agent.deploy.policy import deployed_policy, random_observations, torch_actions
    from vbot_agent.rl.checkpoint import InferencePolicy, load_checkpoint

    data = load_checkpoint(vbot_checkpoint)
    reference = InferencePolicy(data)  # the trainer's normaliser + actor, as `vbot play` runs them (fp32 here)
    module = deployed_policy(data)
    session = onnxruntime.InferenceSession(str(_files(exported)["onnx"]))
    scripted = torch.jit.load(str(_files(exported)["torchscript"]))
    random_obs = random_observations(module, 512, seed=5)
    recorded_obs = _recorded_observations(data, reference)
    assert np.abs(recorded_obs).max() > 0.1  # a walking robot's observations, not zeros
    for obs in (random_obs, recorded_obs):
        expected = reference(obs)
        onnx_out = session.run(["actions"], {"obs": obs})[0]
        with torch.no_grad():
            script_out = scripted(torch.as_tensor(obs)).numpy()
        assert onnx_out.shape == (len(obs), 12)
        assert np.abs(onnx_out - expected).max() < 1e-5
        assert np.abs(script_out - expected).max() < 1e-5
        assert np.abs(torch_actions(module, obs) - expected).max() < 1e-6  # folding the normaliser is exact
    assert max(exported["max_abs_diff"].values()) < 1e-5
    # One batch size is not baked in: a single row gives the same action as inside a batch.
    single = session.run(["actions"], {"obs": recorded_obs[:1]})[0]
    assert np.abs(single - reference(recorded_obs[:1])).max() < 1e-5


def test_sidecar_describes_the_env_and_sits_in_the_onnx_metadata(vbot_checkpoint, exported):
    import onnx

    from vbot_agent.deploy.sidecar import config_sha256
    from vbot_agent.rl.checkpoint import load_checkpoint
    from vbot_agent.sim import navigation, observation, robot

    sidecar = json.loads(_files(exported)["sidecar"].read_text())
    data = load_checkpoint(vbot_checkpoint)
    layout = sidecar["observation"]["layout"]
    assert [(b["name"], b["size"]) for b in layout] == list(observation.FLAT.fields)
    assert [b["offset"] for b in layout] == [navigation.OBS_SLICES[b["name"]].start for b in layout]
    assert sidecar["observation"]["dim"] == navigation.OBS_DIM == 63
    assert sidecar["action"]["order"] == sidecar["robot"]["joint_names"] == list(robot.JOINT_NAMES)
    assert sidecar["action"]["filter"]["alpha"] == 0.3 and sidecar["action"]["scale_rad"] == 0.25
    assert sidecar["robot"]["kp_nm_per_rad"] == [80.0] * 12 and sidecar["robot"]["kd_nm_s_per_rad"] == [6.0] * 12
    assert sidecar["robot"]["torque_limits_nm"] == robot.TORQUE_LIMITS.tolist()
    assert sidecar["robot"]["default_joint_pos_rad"] == robot.DEFAULT_POSE.tolist()
    assert sidecar["control"]["rate_hz"] == 100 and sidecar["env_id"] == "vbot_navigation_section001"
    assert sidecar["config_sha256"] == config_sha256(data["config"]) == exported["config_sha256"]
    assert sidecar["checkpoint"]["iteration"] == data["iteration"]
    meta = {p.key: p.value for p in onnx.load(str(_files(exported)["onnx"])).metadata_props}
    embedded = json.loads(meta["vbot_sidecar"])
    assert embedded == {k: v for k, v in sidecar.items() if k != "verification"}
    assert meta["joint_names"].split(",") == list(robot.JOINT_NAMES)


def test_scene_is_the_env_model_and_episode_starts_are_vbot_plays(exported):
    import mujoco

    from vbot_agent.sim.registry import make_env

    scene = mujoco.MjModel.from_xml_path(str(_files(exported)["scene"]))
    env = make_env("vbot_navigation_section001", exported["episodes"], seed=exported["seed"], threads=1)
    try:
        for field in ("body_mass", "body_ipos", "body_inertia", "geom_size", "geom_friction", "actuator_gainprm",
                      "actuator_biasprm", "actuator_forcerange", "dof_damping", "dof_armature", "dof_frictionloss"):
            np.testing.assert_array_equal(getattr(scene, field), getattr(env.model, field), err_msg=field)
        assert scene.opt.timestep == env.model.opt.timestep
        env.reset(seed=exported["seed"])  # what `vbot play --seed S` does first
        starts = json.loads(_files(exported)["episodes"].read_text())["episodes"]
        assert len(starts) == exported["episodes"]
        layout = env.physics.layout
        for i, start in enumerate(starts):
            np.testing.assert_array_equal(start["qpos"], env.physics.state[i, layout.qpos])
            np.testing.assert_array_equal(start["target_xy"], env.target[i])
            assert start["target_yaw"] == env.target_yaw[i]
    finally:
        env.close()


def _vbot(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "vbot_agent.cli", *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd)


def test_bad_export_input_is_one_line_and_exit_2(vbot_checkpoint, tmp_path):
    result = _vbot("export", "--policy", str(vbot_checkpoint), "--onnx", str(tmp_path / "policy.txt"))
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "must end in .onnx" in result.stderr
    result = _vbot("export", "--policy", str(tmp_path / "missing.pt"), "--onnx", str(tmp_path / "p.onnx"))
    assert result.returncode == 2 and "not found" in result.stderr and "Traceback" not in result.stderr
