"""The functions behind ``vbot envs``, ``vbot view`` and ``vbot bench env``: ``fn(ctx, **params) -> dict``."""

from __future__ import annotations

from typing import Any


def envs(ctx, env: str | None = None) -> dict[str, Any]:
    """Every env id in one line each; with ``env``, that env's start, competition run and scoring items."""
    from vbot_agent.sim.registry import ENV_SPECS, get_spec

    if env is None:
        return {"envs": [{"env_id": s.env_id, "summary": s.summary} for s in ENV_SPECS.values()]}
    spec = get_spec(env)
    out: dict[str, Any] = {"env_id": spec.env_id, "summary": spec.summary, "terrain": spec.terrain}
    if spec.terrain == "flat":
        from vbot_agent.sim.nav_config import SpawnConfig
        from vbot_agent.sim.terrain import (
            ARENA_RADIUS,
            CENTRE_M,
            COMPETITION_ROBOTS,
            INNER_FENCE_M,
            POINTS_PER_ROBOT,
        )

        ring = SpawnConfig().ring_radius
        out["competition"] = {"robots": f"{COMPETITION_ROBOTS} per round",
                              "start": f"a ring {ring[0]:g}-{ring[1]:g} m from the centre",
                              "target": "the centre", "arena_radius_m": ARENA_RADIUS,
                              "points": f"+1 inside the inner fence ({INNER_FENCE_M:g} m), +1 at the centre "
                                        f"({CENTRE_M:g} m); {COMPETITION_ROBOTS * POINTS_PER_ROBOT} per round"}
        return out
    if spec.terrain == "training":
        out["competition"] = None
        return out
    from vbot_agent.sim.courses import COMPETITION_EPISODE_S, COURSES

    course = COURSES[spec.terrain]()
    x0, x1, y0, y1 = course.spawn
    out["competition"] = {"robots": "one per episode", "run_s": COMPETITION_EPISODE_S[spec.terrain],
                          "start": f"x {x0:g}..{x1:g}, y {y0:g}..{y1:g} (facing +y)", "gates": len(course.waypoints)}
    out["sections"] = [{"section": r.name, "max_points": r.max_points} for r in course.sections]
    out["items"] = [{"item": i.name, "section": i.section, "points": i.points, "kind": i.kind,
                     "where": _item_place(i)} for i in course.items]
    return out


def _item_place(item) -> str:
    """Where the robot's base must get for ``item`` (a courses.scoring.Item) to pay."""
    from vbot_agent.sim.courses.scoring import BALL_TOUCHED_POINTS, CELEBRATION_S

    z = "".join(f", base {op} {v:g} m" for op, v in ((">=", item.z_min), ("<=", item.z_max)) if abs(v) != float("inf"))
    if item.kind == "near":
        return f"base within {item.radius:g} m of ({item.x:g}, {item.y:g}){z}"
    x0, x1, y0, y1 = item.rect
    place = f"base in x {x0:g}..{x1:g}, y {y0:g}..{y1:g}{z}"
    if item.kind == "ball_rule":
        from vbot_agent.sim.courses.balls import RollingBalls

        reach = RollingBalls.radius + RollingBalls.touch_margin
        return (f"{place}; {BALL_TOUCHED_POINTS:g} instead when a ball was touched on the way (base within "
                f"{reach:g} m of a ball's centre, whichever of the two moved)")
    if item.kind == "celebration":
        return f"sit still {CELEBRATION_S:g} s on the platform (top {item.platform_z:g} m), {place}"
    return place


def render_envs(result: dict[str, Any]) -> str:
    if "envs" in result:
        width = max(len(e["env_id"]) for e in result["envs"]) + 2
        return "\n".join(f"{e['env_id']:<{width}}{e['summary']}" for e in result["envs"])
    lines = [f"{result['env_id']}: {result['summary']}"]
    comp = result.get("competition")
    if comp is None:
        return "\n".join([*lines, "no competition scoring: a training terrain"])
    shown = {"robots": "{}", "run_s": "{:g} s per competition run (`play --competition` sets the episode to it; "
                                "training uses env.episode_length_s)", "start": "{}", "target": "{}",
             "gates": "{} waypoints, passed in order (the next ones are in the observation)",
             "arena_radius_m": "a disc of radius {:g} m (leaving it ends the episode)", "points": "{}"}
    lines += [f"{key.split('_')[0]:<9}{shown[key].format(value)}" for key, value in comp.items()]
    if result.get("items"):
        lines.append("sections " + ", ".join(f"{s['section']} ({s['max_points']:g} points)" for s in result["sections"]))
        lines.append("items    (each pays once, on entry: not to a robot that starts inside it; a fall or leaving the "
                     "course zeroes its section)")
        width = max(len(i["item"]) for i in result["items"]) + 2
        lines += [f"  {i['item']:<{width}}{i['points']:>4g}  {i['section']}  {i['where']}" for i in result["items"]]
    return "\n".join(lines)


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


def bench_env(ctx, env: str, num_envs: int, threads: int | None, steps: int, rounds: int,
              seed: int) -> dict[str, Any]:
    from vbot_agent.sim.bench import measure_env_throughput

    return measure_env_throughput(env, num_envs, threads, steps, seed=seed, rounds=rounds)
