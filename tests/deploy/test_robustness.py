"""`vbot robustness`: one evaluation per grid cell, each with exactly its perturbation; JSON and a heat map."""

from __future__ import annotations

import json

import numpy as np
import pytest


def test_cells_fix_exactly_their_perturbation():
    from vbot_agent.deploy.robustness import cell_env_options, default_grid
    from vbot_agent.sim.randomization import robot_ids
    from vbot_agent.sim.registry import make_env

    cells = {f"{family}: {level}": overrides for family, level, overrides in default_grid()}
    assert len(cells) == 29 and "preset: physics + noise" in cells
    options = cell_env_options({"noise": {"enabled": True}}, cells["friction: mu 0.15"])
    assert options["noise"]["enabled"] is False  # perturbation cells measure one thing at a time
    env = make_env("vbot_navigation_section001", 3, threads=1, config=options)
    try:
        (model,) = env.randomizer.variant_models
        feet = robot_ids(model)["feet"]
        np.testing.assert_array_equal(model.geom_friction[feet, 0], 0.15)
        np.testing.assert_array_equal(model.actuator_gainprm[:, 0], env.model.actuator_gainprm[:, 0])
        np.testing.assert_array_equal(model.body_mass, env.model.body_mass)
        assert env.randomizer.config.latency_steps == (0, 0) and not env.randomizer.config.pushes
    finally:
        env.close()
    from vbot_agent.deploy.robustness import within_preset

    inside = {label for label, overrides in cells.items() if within_preset(overrides)}
    assert {"friction: mu 0.3", "friction: mu 1.2", "push: 0.5 m/s", "latency: 2 steps", "sensor noise: x1",
            "preset: physics + noise"} <= inside
    assert not {"friction: mu 0.15", "push: 1 m/s", "latency: 3 steps", "payload: +2 kg"} & inside
    preset = cell_env_options({}, cells["preset: physics + noise"])
    assert preset["randomization"]["variants"] == 64 and preset["noise"]["enabled"] is True
    assert cell_env_options({}, cells["preset: physics only"])["noise"]["enabled"] is False
    noisy = cell_env_options({}, cells["sensor noise: x0.5"])
    assert noisy["noise"] == {"enabled": True, "scale": 0.5} and noisy["randomization"]["friction"] == [0.4, 0.4]


@pytest.mark.slow
def test_robustness_writes_json_and_a_heat_map(vbot_checkpoint, tmp_path, capsys):
    from vbot_agent.actions.context import Context
    from vbot_agent.deploy.commands import render_robustness, robustness

    plot, out = tmp_path / "grid.png", tmp_path / "grid.json"
    result = robustness(Context(), policy=str(vbot_checkpoint), episodes=3, seed=0, json_out=str(out),
                        plot=str(plot), grid="quick")
    assert [c["label"] for c in result["cells"]] == ["nominal: as built", "friction: mu 0.15", "latency: 2 steps"]
    for cell in result["cells"]:
        assert 0.0 <= cell["success_rate"] <= 1.0 and 0.0 <= cell["fall_rate"] <= 1.0
        assert 0.0 <= cell["points_per_robot"] <= 2.0
    assert json.loads(out.read_text())["cells"] == result["cells"]
    import imageio.v3 as iio

    picture = iio.imread(plot)
    assert picture.ndim == 3 and picture.shape[0] > 150 and picture.std() > 10
    assert "friction: mu 0.15" in render_robustness(result)
