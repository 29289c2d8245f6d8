"""The functions behind ``vbot export`` and ``vbot robustness`` (declared in
``vbot_agent.actions.deploy_actions``). Each takes ``(ctx, **params)`` and returns a JSON-able dict."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from vbot_agent.errors import UsageError, VbotError

# Torch and onnxruntime must agree to this (max abs difference of actions); measured ~1e-6.
AGREEMENT_TOLERANCE = 1e-5


def _load_vbot_checkpoint(ctx, policy: str, env: str | None = None):
    from vbot_agent.rl.checkpoint import load_checkpoint
    from vbot_agent.rl.commands import runs_root
    from vbot_agent.rl.envs import check_env_id
    from vbot_agent.rl.run_dir import resolve_policy_path
    from vbot_agent.sim.registry import ENV_IDS

    if env is not None:
        check_env_id(env)
    path = resolve_policy_path(runs_root(ctx), policy, env if policy in ("latest", "best") else None)
    data = load_checkpoint(path)
    if data["env_id"] not in ENV_IDS:
        raise UsageError(f"checkpoint {path} is for {data['env_id']}; export and robustness support VBot envs "
                         f"({', '.join(ENV_IDS)})")
    from vbot_agent.rl.envs import check_compatible
    from vbot_agent.sim.navigation import OBS_DIM
    from vbot_agent.sim.robot import NUM_JOINTS

    check_compatible(data, path, env_id=data["env_id"], obs_dim=OBS_DIM, action_dim=NUM_JOINTS, same_env_id=True)
    return path, data


def export(ctx, *, policy: str = "latest", env: str | None = None, onnx: str = "policy.onnx", torchscript: str | None = None,
           episodes: int = 32, seed: int = 0) -> dict[str, Any]:
    """ONNX (+ TorchScript) of a checkpoint's policy, its sidecar, scene and episode starts."""
    try:
        import onnx as _onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        raise UsageError("vbot export needs onnx and onnxruntime: pip install 'vbot-agent[export]'") from None
    import numpy as np

    from vbot_agent.deploy import policy as deployed
    from vbot_agent.deploy.sidecar import (
        build_scene_spec,
        build_sidecar,
        episode_starts,
        observation_sample,
        onnx_metadata,
    )
    from vbot_agent.fileio import atomic_write_text
    from vbot_agent.sim.registry import get_spec, make_env

    onnx_path = Path(onnx)
    if onnx_path.suffix != ".onnx":
        raise UsageError(f"--onnx {onnx}: the file name must end in .onnx")
    if torchscript is not None and not torchscript.endswith(".pt"):
        raise UsageError(f"--torchscript {torchscript}: the file name must end in .pt")
    onnx_path.parent.mkdir(parents=True, exist_ok=True)
    ckpt_path, data = _load_vbot_checkpoint(ctx, policy, env)
    stem = onnx_path.with_suffix("")
    sidecar_path, scene_path = stem.with_suffix(".json"), Path(f"{stem}.scene.xml")
    episodes_path = Path(f"{stem}.episodes.json")

    sidecar = build_sidecar(data, checkpoint_path=ckpt_path.resolve(), onnx_name=onnx_path.name,
                            scene_name=scene_path.name, episodes_name=episodes_path.name)
    module = deployed.deployed_policy(data)
    onnx_seconds = deployed.export_onnx(module, onnx_path, data["obs_dim"], onnx_metadata(sidecar))

    # Agreement on random observations and on observations recorded while the policy walks.
    random_obs = deployed.random_observations(module, 1024, seed)
    env = make_env(data["env_id"], 16, seed=seed, config=data["config"]["env"], reward=data["config"]["reward"],
                   threads=1)
    try:
        recorded_obs = observation_sample(env, lambda o: deployed.torch_actions(module, o), steps=100)
    finally:
        env.close()
    differences = {}
    for name, obs in (("random", random_obs), ("recorded", recorded_obs)):
        differences[name] = float(np.abs(deployed.torch_actions(module, obs) - deployed.onnx_actions(onnx_path, obs)).max())
    if max(differences.values()) > AGREEMENT_TOLERANCE:
        raise VbotError(f"exported ONNX disagrees with torch by {max(differences.values()):.2e} "
                        f"(tolerance {AGREEMENT_TOLERANCE:g}); {onnx_path} is not trustworthy")
    sidecar["verification"] = {"torch_vs_onnxruntime_max_abs_diff": differences,
                               "observations": {"random": len(random_obs), "recorded": len(recorded_obs)}}

    player_path = onnx_path.parent / PLAYER.name
    files = {"onnx": str(onnx_path), "sidecar": str(sidecar_path), "scene": str(scene_path),
             "episodes": str(episodes_path), "player": str(player_path)}
    torchscript_seconds = None
    if torchscript is not None:
        torchscript_seconds = deployed.export_torchscript(module, Path(torchscript), data["obs_dim"])
        files["torchscript"] = torchscript
    atomic_write_text(scene_path, build_scene_spec(get_spec(data["env_id"]).terrain).to_xml())
    atomic_write_text(episodes_path, json.dumps(episode_starts(data, episodes, seed)) + "\n")
    atomic_write_text(sidecar_path, json.dumps(sidecar, indent=2) + "\n")
    atomic_write_text(player_path, PLAYER.read_text())
    return {
        "policy": str(ckpt_path), "env_id": data["env_id"], "files": files,
        "onnx_bytes": onnx_path.stat().st_size, "onnx_export_s": round(onnx_seconds, 3),
        "torchscript_export_s": None if torchscript_seconds is None else round(torchscript_seconds, 3),
        "max_abs_diff": differences, "config_sha256": sidecar["config_sha256"],
        "episodes": episodes, "seed": seed, "deploy": deploy_facts(sidecar),
    }


PLAYER = Path(__file__).with_name("onnx_player.py")


def deploy_facts(sidecar: dict[str, Any]) -> dict[str, Any]:
    """What a deployer reads first, from the sidecar (which has the rest)."""
    action, training = sidecar["action"], sidecar.get("training_randomization") or {}
    return {"observation_dim": sidecar["observation"]["dim"], "control_rate_hz": sidecar["control"]["rate_hz"],
            "action_dim": action["dim"], "action_clip": action["clip"], "action_scale_rad": action["scale_rad"],
            "action_filter": action["filter"], "trained_with_randomization": bool(training.get("enabled"))}


def render_export(result: dict[str, Any]) -> str:
    d, files = result["deploy"], result["files"]
    diff = max(result["max_abs_diff"].values())
    lines = [f"exported {result['policy']} ({result['env_id']})",
             f"  observation {d['observation_dim']} values, raw (the normaliser is folded into the graph); "
             f"control {d['control_rate_hz']} Hz",
             f"  action {d['action_dim']} values: clip to {d['action_clip']}, exponential filter alpha "
             f"{d['action_filter'].get('alpha')}, joint target = default pose + {d['action_scale_rad']} rad x filtered",
             f"  torch vs onnxruntime: max difference {diff:.1e}; ONNX {result['onnx_bytes']:,} bytes in "
             f"{result['onnx_export_s']:.2f} s",
             "  trained with domain randomisation" if d["trained_with_randomization"] else
             "  trained WITHOUT domain randomisation: check it with `vbot robustness` before another simulator or a "
             "robot (`vbot train --config domain_randomization` trains with it)"]
    lines += [f"  {name:<11} {path}" for name, path in files.items()]
    lines.append(f"play it without torch: python {files['player']} {files['sidecar']}")
    return "\n".join(lines)


def robustness(ctx, *, policy: str = "latest", env: str | None = None, episodes: int = 32, seed: int = 0, json_out: str | None = None,
               plot: str | None = None, grid: str = "default") -> dict[str, Any]:
    """Success, falls and points of a checkpoint over a grid of perturbations (see ``deploy.robustness``)."""
    from vbot_agent.deploy.robustness import GRIDS, evaluate_grid, plot_heatmap
    from vbot_agent.fileio import atomic_write_text

    if plot is not None and not plot.endswith(".png"):
        raise UsageError(f"--plot {plot}: the file name must end in .png")
    if grid not in GRIDS:
        raise UsageError(f"--grid {grid!r}: valid grids are {', '.join(GRIDS)}")
    path, data = _load_vbot_checkpoint(ctx, policy, env)
    start = time.perf_counter()
    result = evaluate_grid(data, GRIDS[grid], episodes=episodes, seed=seed, say=ctx.say)
    result.update({"policy": str(path), "grid": grid, "wall_s": round(time.perf_counter() - start, 1)})
    if plot is not None:
        result["plot"] = str(plot_heatmap(result, Path(plot)))
    if json_out is not None:
        atomic_write_text(json_out, json.dumps(result, indent=2) + "\n")
        result["json"] = json_out
    return result


def render_robustness(result: dict[str, Any]) -> str:
    lines = [f"{'perturbation':<28}{'success':>9}{'falls':>8}{'points':>9}"]
    for cell in result["cells"]:
        lines.append(f"{cell['label']:<28}{cell['success_rate']:>9.2f}{cell['fall_rate']:>8.2f}"
                     f"{cell['points_per_robot']:>9.2f}")
    for key in ("plot", "json"):
        if key in result:
            lines.append(f"{key}: {result[key]}")
    return "\n".join(lines)
