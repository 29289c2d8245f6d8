"""Terrains: what each env id adds to the scene, and its ground height as a batched function.

The height function lets the env compute the height scan in numpy (no ray casts): one observation
layout for every section, all zeros on flat ground, so a policy can be warm-started across stages.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

ARENA_RADIUS = 12.5  # m, section001's disc


@dataclass(frozen=True)
class FlatDisc:
    """Flat ground; the arena is a disc of ``radius`` m drawn on the plane (leaving it ends the episode)."""

    radius: float = ARENA_RADIUS

    def build(self, spec: mujoco.MjSpec) -> None:
        """Add visual-only geoms (no collisions) that show the arena and the competition rings."""
        world = spec.worldbody
        _disc(world, "arena", self.radius, 0.001, [0.42, 0.46, 0.52, 1])
        _disc(world, "inner_fence", 0.75, 0.002, [0.95, 0.75, 0.2, 1])
        _disc(world, "centre", 0.3, 0.003, [0.85, 0.25, 0.2, 1])

    def height(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Ground height (m) at points x, y (any matching shapes)."""
        return np.zeros(np.broadcast(x, y).shape)

    def inside(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """True where a point is on the arena."""
        return x * x + y * y <= self.radius * self.radius


def _disc(world, name: str, radius: float, half_height: float, rgba: list[float]) -> None:
    geom = world.add_geom()
    geom.name = name
    geom.type = mujoco.mjtGeom.mjGEOM_CYLINDER
    geom.size = [radius, half_height, 0]
    geom.pos = [0, 0, half_height]  # a few mm thick, drawn on the plane; no contacts
    geom.rgba = rgba
    geom.contype = 0
    geom.conaffinity = 0
    geom.group = 1


TERRAINS = {"flat": FlatDisc}
