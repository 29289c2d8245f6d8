"""Terrains: what each env id adds to the scene, and its ground height as a batched function.

The height function lets the env compute the height scan in numpy (no ray casts).
``tests/sim/test_courses.py`` checks every terrain's height against MuJoCo's geometry with ``mj_ray``.

A terrain provides:

- ``build(spec)``: add its geoms (and bodies) to the robot's ``MjSpec``;
- ``height(x, y)``: ground height (m) at points of any matching shapes;
- ``inside(x, y)``: True where a point is on the arena (leaving it ends the episode);
- ``course``: waypoints [G, 2] along the course (m), or None (targets anywhere, section001);
- ``reset_bodies(k, rng)``: (qpos [k, nq_extra], qvel [k, nv_extra]) of the bodies it adds (the
  rolling balls) for ``k`` fresh episodes. A terrain without bodies returns empty arrays and draws
  no random numbers, so section001's episodes are exactly what they were.

The competition's obstacle courses (sections 011-013, the long course) and the procedural training
terrain live in ``vbot_agent.sim.courses``, one module per section.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from vbot_agent.sim.courses import COURSES
from vbot_agent.sim.courses.geometry import GROUP_BODIES, GROUP_MARKINGS
from vbot_agent.sim.courses.training import training_terrain

ARENA_RADIUS = 12.5  # m, section001's disc
# The flat competition's scoring (docs/design.md, "Simulation"): per robot +1 inside the inner fence,
# +1 at the centre, a fall loses that robot's points; a round has 10 robots -> at most 20 points.
INNER_FENCE_M = 0.75
CENTRE_M = 0.3
POINTS_PER_ROBOT = 2
COMPETITION_ROBOTS = 10


def _empty_bodies(k: int) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((k, 0)), np.zeros((k, 0))


@dataclass(frozen=True)
class FlatDisc:
    """Flat ground; the arena is a disc of ``radius`` m drawn on the plane (leaving it ends the episode)."""

    radius: float = ARENA_RADIUS
    course = None

    def build(self, spec: mujoco.MjSpec) -> None:
        """Add visual-only geoms (no collisions) that show the arena and the competition rings."""
        world = spec.worldbody
        _disc(world, "arena", self.radius, 0.001, [0.42, 0.46, 0.52, 1])
        _disc(world, "inner_fence", INNER_FENCE_M, 0.002, [0.95, 0.75, 0.2, 1])
        _disc(world, "centre", CENTRE_M, 0.003, [0.85, 0.25, 0.2, 1])

    def height(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Ground height (m) at points x, y (any matching shapes)."""
        return np.zeros(np.broadcast(x, y).shape)

    def inside(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """True where a point is on the arena."""
        return x * x + y * y <= self.radius * self.radius

    def reset_bodies(self, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return _empty_bodies(k)


def _disc(world, name: str, radius: float, half_height: float, rgba: list[float]) -> None:
    geom = world.add_geom()
    geom.name = name
    geom.type = mujoco.mjtGeom.mjGEOM_CYLINDER
    geom.size = [radius, half_height, 0]
    geom.pos = [0, 0, half_height]  # a few mm thick, drawn on the plane; no contacts
    geom.rgba = rgba
    geom.contype = 0
    geom.conaffinity = 0
    geom.group = GROUP_MARKINGS


TERRAINS = {"flat": FlatDisc, **COURSES, "training": training_terrain}

__all__ = ["ARENA_RADIUS", "CENTRE_M", "COMPETITION_ROBOTS", "GROUP_BODIES", "GROUP_MARKINGS", "INNER_FENCE_M", "POINTS_PER_ROBOT", "TERRAINS", "FlatDisc"]


def build_model(terrain_name: str) -> mujoco.MjModel:
    """Compile VBot with the terrain of ``terrain_name`` added to its scene."""
    from vbot_agent.sim import course_env, robot

    spec = mujoco.MjSpec.from_file(str(robot.ASSET))
    terrain = TERRAINS[terrain_name]()
    terrain.build(spec)
    if getattr(terrain, "course", None) is not None:
        course_env.add_foot_sensors(spec)
    return spec.compile()
