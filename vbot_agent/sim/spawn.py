"""Where robots start on the flat arena, and which spawn layouts an env accepts."""

from __future__ import annotations

import math

import numpy as np

from vbot_agent.errors import UsageError


def resolve_layout(layout: str, has_course: bool, env_id: str) -> str:
    """The spawn layout an env uses: ``auto`` becomes ``course`` on a course, ``random`` on the arena."""
    if layout == "auto":
        return "course" if has_course else "random"
    if layout == "course" and not has_course:
        raise UsageError(f"env.spawn.layout 'course' needs a terrain section; {env_id} has no course")
    if layout in ("competition", "random") and has_course:
        raise UsageError(f"env.spawn.layout {layout!r} is for the flat arena; {env_id} spawns along "
                         "its course (layout 'course' or 'auto')")
    return layout


def arena_spawns(layout: str, s, rng: np.random.Generator, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Spawn points and targets [k, 2] (m) on the flat arena for ``SpawnConfig`` ``s``.

    ``competition``: on the ring, target the centre; ``random``: a target near the centre and a
    spawn ``target_distance`` away from it. The draws' order is fixed (resume and seeds rely on it).
    """
    if layout == "competition":
        angle = rng.uniform(-math.pi, math.pi, k)
        radius = rng.uniform(*s.ring_radius, k)
        target = np.zeros((k, 2))
        spawn = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
        return spawn, target
    area = s.target_area_radius * np.sqrt(rng.uniform(0, 1, k))
    area_angle = rng.uniform(-math.pi, math.pi, k)
    target = np.stack([area * np.cos(area_angle), area * np.sin(area_angle)], axis=1)
    dist = rng.uniform(*s.target_distance, k)
    angle = rng.uniform(-math.pi, math.pi, k)
    spawn = target + np.stack([dist * np.cos(angle), dist * np.sin(angle)], axis=1)
    return spawn, target
