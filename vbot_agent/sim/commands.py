"""The functions behind ``vbot envs``, ``vbot view`` and ``vbot bench env``: ``fn(ctx, **params) -> dict``."""

from __future__ import annotations

from typing import Any


def envs(ctx) -> dict[str, Any]:
    from vbot_agent.sim.registry import ENV_SPECS

    return {"envs": [{"env_id": s.env_id, "summary": s.summary} for s in ENV_SPECS.values()]}


def render_envs(result: dict[str, Any]) -> str:
    width = max(len(e["env_id"]) for e in result["envs"]) + 2
    return "\n".join(f"{e['env_id']:<{width}}{e['summary']}" for e in result["envs"])


def view(ctx, env: str, image: str, width: int, height: int, seed: int, camera: str,
         settle_s: float, config: str | None) -> dict[str, Any]:
    import numpy as np

    from vbot_agent.config import load_yaml
    from vbot_agent.sim.registry import make_env
    from vbot_agent.sim.render import SceneRenderer, save_png

    options = load_yaml(config) if config else {}
    unknown = set(options) - {"env", "reward"}
    if unknown:
        from vbot_agent.errors import UsageError

        raise UsageError(f"{config}: `vbot view` reads only the env: and reward: sections, not {sorted(unknown)}")
    sim = make_env(env, 1, seed=seed, threads=1, config=options.get("env"), reward=options.get("reward"))
    sim.reset()
    for _ in range(round(settle_s / sim.control_dt)):  # let the robot settle on its feet
        sim.step(np.zeros((1, sim.action_dim)))
    renderer = SceneRenderer(sim, width=width, height=height)
    if camera == "overview":
        renderer.set_view(distance=30.0, elevation=-60.0, azimuth=90.0, lookat=[0.0, 0.0, 0.0])
    picture = renderer.render(0, track=camera == "chase")
    renderer.close()
    sim.close()
    path = save_png(picture, image)
    return {"env": env, "image": str(path), "width": width, "height": height, "camera": camera}


def bench_env(ctx, env: str, num_envs: int, threads: int | None, steps: int, rounds: int,
              seed: int) -> dict[str, Any]:
    from vbot_agent.sim.bench import measure_env_throughput

    return measure_env_throughput(env, num_envs, threads, steps, seed=seed, rounds=rounds)
