"""Robustness report: a policy's success, falls and points across a grid of perturbations.

Each cell is one ``vbot play``-style evaluation (``episodes`` envs, one episode each, the same
seed, so every cell sees the same spawns and targets) with one perturbation fixed through the
env's domain randomisation (``sim.randomization``): low == high ranges and one variant, so every
episode of the cell meets exactly that perturbation. The ``preset`` row samples the shipped
preset's whole ranges at once, without and with its observation noise; the second is what
"survives the preset's ranges" means.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

PRESET = Path(__file__).resolve().parents[1] / "sim" / "presets" / "domain_randomization.yaml"

# The robot as built: randomisation on, but every range at its nominal value.
NOMINAL: dict[str, Any] = {
    "enabled": True, "variants": 1, "friction": [0.4, 0.4], "link_mass_scale": [1.0, 1.0],
    "base_added_mass_kg": [0.0, 0.0], "base_com_offset_m": [0.0, 0.0, 0.0], "kp_scale": [1.0, 1.0],
    "kd_scale": [1.0, 1.0], "push_velocity_mps": [0.0, 0.0], "push_interval_s": [3.0, 3.0],
    "latency_steps": [0, 0],
}

Cell = tuple[str, str, dict[str, Any]]  # (family, level label, randomisation overrides)


def _fixed(name: str, value: float) -> dict[str, Any]:
    return {name: [value, value]}


def default_grid() -> list[Cell]:
    """Rows: friction low/high, masses -/+, payload, motor strength, pushes of rising strength
    (every 3 s), latency, sensor noise; plus the nominal robot and the preset's ranges (without
    and with its observation noise)."""
    cells: list[Cell] = [("nominal", "as built", {})]
    cells += [("friction", f"mu {mu:g}", _fixed("friction", mu)) for mu in (0.15, 0.3, 0.8, 1.2)]
    cells += [("link mass", f"x{s:g}", _fixed("link_mass_scale", s)) for s in (0.8, 0.9, 1.1, 1.2)]
    cells += [("payload", f"{kg:+g} kg", _fixed("base_added_mass_kg", kg)) for kg in (-1.0, 1.0, 2.0, 4.0)]
    cells += [("motor kp,kd", f"x{s:g}", {**_fixed("kp_scale", s), **_fixed("kd_scale", s)}) for s in (0.7, 0.9, 1.1, 1.3)]
    cells += [("push", f"{v:g} m/s", _fixed("push_velocity_mps", v)) for v in (0.25, 0.5, 1.0, 1.5)]
    cells += [("latency", f"{n} step{'s' if n > 1 else ''}", {"latency_steps": [n, n]}) for n in (1, 2, 3, 4)]
    cells += [("sensor noise", f"x{x:g}", {"noise_scale": x}) for x in (0.5, 1.0)]
    cells += [("preset", "physics only", {"preset": "physics"}), ("preset", "physics + noise", {"preset": "all"})]
    return cells


def quick_grid() -> list[Cell]:
    """Three cells, for tests and smoke runs."""
    return [("nominal", "as built", {}), ("friction", "mu 0.15", _fixed("friction", 0.15)),
            ("latency", "2 steps", {"latency_steps": [2, 2]})]


GRIDS: dict[str, Callable[[], list[Cell]]] = {"default": default_grid, "quick": quick_grid}


def within_preset(overrides: dict[str, Any]) -> bool:
    """True when a cell's fixed values all lie inside the preset's training ranges."""
    from vbot_agent.config import load_yaml

    if overrides.get("preset"):
        return True
    if "noise_scale" in overrides:
        return overrides["noise_scale"] <= 1.0  # the preset trains with the default scale 1
    ranges = load_yaml(PRESET)["env"]["randomization"]
    return all(ranges[key][0] <= value[0] and value[1] <= ranges[key][1]
               for key, value in overrides.items() if key in ranges and len(value) == 2)


def cell_env_options(base_env: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """The env options of one cell: the checkpoint's, noise off, randomisation fixed by ``overrides``.
    Special overrides: ``{"noise_scale": x}`` (observation noise at x times its levels, physics nominal),
    ``{"preset": "physics"}`` (the preset's randomisation ranges, noise off) and ``{"preset": "all"}``
    (the preset's whole ``env:`` section, noise included)."""
    from vbot_agent.config import load_yaml

    options = dict(base_env)
    noise_off = {**options.get("noise", {}), "enabled": False}
    if overrides.get("preset"):
        preset_env = load_yaml(PRESET)["env"]
        options["randomization"] = dict(preset_env["randomization"])
        with_noise = overrides["preset"] == "all"
        options["noise"] = {**options.get("noise", {}), **preset_env.get("noise", {})} if with_noise else noise_off
        return options
    if "noise_scale" in overrides:
        options["noise"] = {**options.get("noise", {}), "enabled": True, "scale": overrides["noise_scale"]}
        options["randomization"] = dict(NOMINAL)
        return options
    options["noise"] = noise_off
    options["randomization"] = {**NOMINAL, **overrides}
    return options


def evaluate_grid(data: dict[str, Any], cells: list[Cell] | Callable[[], list[Cell]], *, episodes: int, seed: int,
                  say: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Evaluate the checkpoint ``data`` on every cell. Returns ``{"env_id", "episodes", "seed", "cells": [...]}``,
    each cell with family, level, success_rate, fall_rate, points_per_robot (0-2), mean_time_to_target_s."""
    from vbot_agent.rl.checkpoint import InferencePolicy
    from vbot_agent.rl.evaluate import run_episodes, summarize_episodes
    from vbot_agent.sim.registry import make_env

    cells = cells() if callable(cells) else cells
    policy = InferencePolicy(data, "cpu")
    env_id, base_env, reward = data["env_id"], dict(data["config"]["env"]), data["config"]["reward"]
    out = []
    for family, level, overrides in cells:
        env = make_env(env_id, episodes, seed=seed, config=cell_env_options(base_env, overrides), reward=reward)
        try:
            summary = summarize_episodes(run_episodes(policy, env, seed=seed))
        finally:
            env.close()
        cell = {"family": family, "level": level, "label": f"{family}: {level}",
                "success_rate": summary.success_rate, "fall_rate": summary.fall_rate,
                "points_per_robot": summary.competition_points / max(1, summary.episodes),
                "mean_time_to_target_s": None if math.isnan(summary.mean_time_to_target_s)
                else summary.mean_time_to_target_s, "within_preset": within_preset(overrides),
                "overrides": overrides}
        say(f"{cell['label']:<28} success {cell['success_rate']:.2f}  falls {cell['fall_rate']:.2f}")
        out.append(cell)
    return {"env_id": env_id, "episodes": episodes, "seed": seed, "cells": out}


def plot_heatmap(result: dict[str, Any], path: Path) -> Path:
    """A PNG heat map of success rate: one row per perturbation family, its levels left to right."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.patches import Rectangle

    families: list[str] = []
    for cell in result["cells"]:
        if cell["family"] not in families:
            families.append(cell["family"])
    rows = {f: [c for c in result["cells"] if c["family"] == f] for f in families}
    width = max(len(r) for r in rows.values())
    grid = np.full((len(families), width), np.nan)
    for i, family in enumerate(families):
        for j, cell in enumerate(rows[family]):
            grid[i, j] = cell["success_rate"]
    fig, ax = plt.subplots(figsize=(1.9 * width + 2.2, 0.62 * len(families) + 1.4))
    image = ax.imshow(np.ma.masked_invalid(grid), cmap="RdYlGn", vmin=0.0, vmax=1.0, aspect="auto")
    for i, family in enumerate(families):
        for j, cell in enumerate(rows[family]):
            ax.text(j, i, f"{cell['level']}\n{cell['success_rate']:.0%} ok, {cell['fall_rate']:.0%} fall",
                    ha="center", va="center", fontsize=7.5)
            if cell.get("within_preset"):
                # inset, so that an outline never reads as a neighbour's border
                ax.add_patch(Rectangle((j - 0.45, i - 0.42), 0.9, 0.84, fill=False, linewidth=1.8, edgecolor="black"))
    ax.set_yticks(range(len(families)), families)
    ax.set_xticks([])
    ax.set_xlabel("outlined: inside the randomisation preset's training ranges", fontsize=8)
    source = Path(result.get("policy", "policy"))
    name = f"{source.parent.parent.name}/{source.stem}" if source.parent.name == "checkpoints" else source.stem
    ax.set_title(f"success rate under perturbation: {name} ({result['episodes']} episodes per cell)", fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.03, pad=0.02, label="success rate")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return path
