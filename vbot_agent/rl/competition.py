"""The competition's rules for `vbot play --competition` on the obstacle courses (sections 011-013
and the long course): the start layout, the time per run, and points per item, section and total.

Cheap to import (no mujoco); the course facts come from ``vbot_agent.sim.courses``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vbot_agent.errors import UsageError

SECTION_MAX = {"section011": 20, "section012": 60, "section013": 25}


def course_terrain(env_id: str) -> str | None:
    """The course terrain of a VBot env id with competition points, else None."""
    from vbot_agent.sim.courses import COMPETITION_EPISODE_S
    from vbot_agent.sim.registry import ENV_SPECS

    spec = ENV_SPECS.get(env_id)
    return spec.terrain if spec is not None and spec.terrain in COMPETITION_EPISODE_S else None


def course_competition_options(env_id: str, env_options: dict[str, Any]) -> dict[str, Any]:
    """Env options of a competition run on a course: spawn on the start area facing +y (the
    first gate), the run time entrants used (120 s, 60 s, 120 s, 180 s for the long course)."""
    from vbot_agent.sim.courses import COMPETITION_EPISODE_S

    terrain = course_terrain(env_id)
    if terrain is None:
        raise UsageError(f"--competition: {env_id} is not a competition course")
    spawn = {**dict(env_options.get("spawn") or {}), "layout": "course", "course_start": "start",
             "target_bearing": [0.0, 0.0]}
    return {**env_options, "spawn": spawn, "episode_length_s": COMPETITION_EPISODE_S[terrain]}


def summarize_course_points(ep: dict[str, np.ndarray]) -> dict[str, Any]:
    """Per item mean points, per section and total mean and best, falls and course time (s)."""
    def stats(values) -> dict[str, float]:
        values = np.asarray(values, dtype=np.float64)
        return {"mean": round(float(values.mean()), 3), "best": round(float(values.max()), 3)}

    items = items_of(ep)
    sections = {k[len("points/"):]: {**stats(v), "max": SECTION_MAX[k[len("points/"):]]} for k, v in ep.items()
                if k.startswith("points/") and k[len("points/"):] in SECTION_MAX}
    times = np.asarray(ep.get("course_time_s", []), dtype=np.float64)
    finished = times[np.isfinite(times)]
    return {
        "episodes": len(ep["points"]),
        "points": {**stats(ep["points"]), "max": sum(s["max"] for s in sections.values())},
        "sections": sections,
        "items": items,
        "fall_rate": round(float(np.mean(ep["fall"])), 3),
        "finished_rate": round(len(finished) / max(len(times), 1), 3),
        # finished the course (its last celebration) and never fell
        "completed_rate": round(float(np.mean(np.isfinite(times) & ~np.asarray(ep["fall"], dtype=bool)))
                                if len(times) else 0.0, 3),
        # None when no episode finished (JSON has no NaN)
        "course_time_s": {"mean": round(float(finished.mean()), 2) if len(finished) else None,
                          "best": round(float(finished.min()), 2) if len(finished) else None},
    }


def items_of(ep: dict[str, np.ndarray]) -> dict[str, float]:
    """Mean points per episode of each scoring item of a course (``points/<item>`` keys; the
    ``points/<section>`` totals are left out), rounded to 3 places; {} on the flat arena."""
    return {k[len("points/"):]: round(float(np.mean(v)), 3) for k, v in ep.items()
            if k.startswith("points/") and k[len("points/"):] not in SECTION_MAX and len(v)}
