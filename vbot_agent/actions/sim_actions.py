"""Simulation actions: list envs, render a scene, measure env throughput."""

from __future__ import annotations

from typing import Any

from vbot_agent.actions.context import Context
from vbot_agent.actions.registry import Action, Param

ENV_PARAM = Param("env", default="vbot_navigation_section001", help="env id (see `vbot envs`)")


def envs(ctx: Context) -> dict[str, Any]:
    from vbot_agent.sim.registry import ENV_SPECS

    return {"envs": [{"env_id": s.env_id, "summary": s.summary} for s in ENV_SPECS.values()]}


def render_envs(result: dict[str, Any]) -> str:
    width = max(len(e["env_id"]) for e in result["envs"]) + 2
    return "\n".join(f"{e['env_id']:<{width}}{e['summary']}" for e in result["envs"])


def view(ctx: Context, env: str, image: str, width: int, height: int, seed: int, camera: str,
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
        bounds = getattr(sim.terrain, "bounds", None)
        if bounds:  # a course: look at its middle from behind the start, far enough to see it all
            x0, x1 = min(r[0] for r in bounds), max(r[1] for r in bounds)
            y0, y1 = min(r[2] for r in bounds), max(r[3] for r in bounds)
            z = float(sim.terrain.height(np.array((x0 + x1) / 2), np.array((y0 + y1) / 2)))
            renderer.set_view(distance=1.1 * max(x1 - x0, y1 - y0) + 4.0, elevation=-40.0, azimuth=-125.0,
                              lookat=[(x0 + x1) / 2, (y0 + y1) / 2, z])
        else:
            renderer.set_view(distance=30.0, elevation=-60.0, azimuth=90.0, lookat=[0.0, 0.0, 0.0])
    picture = renderer.render(0, track=camera == "chase")
    renderer.close()
    sim.close()
    path = save_png(picture, image)
    return {"env": env, "image": str(path), "width": width, "height": height, "camera": camera}


def bench_env(ctx: Context, env: str, num_envs: int, threads: int | None, steps: int, rounds: int,
              seed: int) -> dict[str, Any]:
    from vbot_agent.sim.bench import measure_env_throughput

    return measure_env_throughput(env, num_envs, threads, steps, seed=seed, rounds=rounds)


ACTIONS = [
    Action(
        name="envs",
        summary="list the env ids, one line each",
        func=f"{__name__}:envs",
        render=f"{__name__}:render_envs",
        group="simulation",
    ),
    Action(
        name="view",
        summary="render an env's scene offscreen to a PNG",
        func=f"{__name__}:view",
        group="simulation",
        params=(
            ENV_PARAM,
            Param("image", type="path", default="vbot_view.png", help="PNG file to write", inside_workspace=True),
            Param("width", type="int", default=960, min=64, max=4096, help="pixels"),
            Param("height", type="int", default=720, min=64, max=4096, help="pixels"),
            Param("seed", type="int", default=0, help="spawn and target seed"),
            Param("camera", default="chase", choices=("chase", "overview"), help="follow the robot or show the arena"),
            Param("settle_s", type="float", default=0.5, min=0.0, max=10.0, help="seconds of standing before the shot"),
            Param("config", type="path", default=None, help="YAML with env:/reward: sections (e.g. the competition layout)",
                  inside_workspace=True),
        ),
    ),
    Action(
        name="bench env",
        summary="measure env steps/s against physics-only steps/s in one run",
        func=f"{__name__}:bench_env",
        group="benchmarks",
        long_running=True,
        params=(
            ENV_PARAM,
            Param("num_envs", type="int", default=1024, min=1, help="parallel envs"),
            Param("threads", type="int", default=None, min=1, help="physics threads (default: all cores)"),
            Param("steps", type="int", default=300, min=10, help="control steps per round"),
            Param("rounds", type="int", default=3, min=1, help="alternating env/physics rounds; the best counts"),
            Param("seed", type="int", default=0),
        ),
    ),
]
