"""Simulation actions: list envs, render a scene, measure env throughput (functions in ``vbot_agent.sim.commands``)."""

from __future__ import annotations

from vbot_agent.actions.registry import Action, Param

ENV_PARAM = Param("env", default="vbot_navigation_section001", help="env id (see `vbot envs`)")

ACTIONS = [
    Action(
        name="envs",
        summary="list the env ids, one line each; --env ID: its start, competition run and scoring items",
        func="vbot_agent.sim.commands:envs",
        render="vbot_agent.sim.commands:render_envs",
        group="simulation",
        params=(Param("env", default=None, help="one env id: where robots start, how `vbot play --competition` "
                                                "runs it and what earns points"),),
    ),
    Action(
        name="view",
        summary="render an env's scene offscreen to a PNG",
        func="vbot_agent.sim.commands:view",
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
        func="vbot_agent.sim.commands:bench_env",
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
