"""A competition course: its pieces, bounds, spawn area, waypoints (gates) and scoring items.

The env reads the ground height at every scan point every step, so ``height`` is a lookup in a
raster of the exact piece heights (``RASTER_M`` cells, nearest cell: within 1 cm of an edge a point
may read the other side's height), computed once per process and course. ``exact_height`` is the
max over the pieces; ``tests/sim/test_courses.py`` checks it against MuJoCo's geometry with rays.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from vbot_agent.sim.courses.balls import RollingBalls
from vbot_agent.sim.courses.geometry import Ball, Block, Field, Marker, Slope
from vbot_agent.sim.courses.scoring import Item, Scorer, SectionRule

RASTER_M = 0.02  # m per height-raster cell
Rect = tuple[float, float, float, float]  # x0, x1, y0, y1 (m)


def piece_rect(piece) -> Rect:
    if isinstance(piece, Ball):
        return piece.x - piece.radius, piece.x + piece.radius, piece.y - piece.radius, piece.y + piece.radius
    return piece.x0, piece.x1, piece.y0, piece.y1


@dataclass(frozen=True)
class Course:
    """``pieces``: (name, piece) solids; ``markers``: visual-only; ``bounds``: rectangles whose union is
    "on the course" (leaving it ends the episode); ``spawn``: the start rectangle (robots face +y);
    ``waypoints``: gates (x, y) in the order a robot passes them; ``items``/``sections``: scoring."""

    name: str
    pieces: tuple[tuple[str, object], ...]
    bounds: tuple[Rect, ...]
    spawn: Rect
    waypoints: tuple[tuple[float, float], ...]
    items: tuple[Item, ...] = ()
    sections: tuple[SectionRule, ...] = ()
    markers: tuple[tuple[str, Marker], ...] = ()
    balls: RollingBalls | None = None
    finish_item: str | None = None  # the item whose time is the course time
    gate_radius: float = 0.5  # m: a gate is passed when the base comes this close
    mirror_x: bool = False  # symmetric in x: a robot starting at x > 0 walks the gates mirrored in x

    # The navigation env's course interface -------------------------------------------------
    @property
    def course(self) -> np.ndarray:
        """Waypoints [G, 2] (m)."""
        return np.asarray(self.waypoints, dtype=np.float64)

    def build(self, spec: mujoco.MjSpec) -> None:
        for name, piece in self.pieces:
            piece.build(spec, name)
        for name, marker in self.markers:
            marker.build(spec, name)
        for i, (x, y) in enumerate(self.waypoints):
            z = float(self.exact_height(np.array([x]), np.array([y]))[0])
            Marker(x, y, z + 0.01, 0.12, (0.95, 0.8, 0.2, 0.6)).build(spec, f"gate{i}")
        if self.balls is not None:
            self.balls.build(spec)

    def exact_height(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        x, y = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
        h = np.zeros(x.shape)
        for _, piece in self.pieces:
            h = np.maximum(h, piece.height(x, y))
        return h

    def height(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Ground height (m) at points of any matching shapes (raster lookup; 0 off the raster)."""
        grid, x0, y0 = _raster(self)
        nrow, ncol = grid.shape
        # Nearest cell; points off the raster read its border, which lies 1 m outside every piece (0).
        col = np.clip((np.asarray(x) - (x0 - RASTER_M / 2)) * (1.0 / RASTER_M), 0, ncol - 1).astype(np.intp)
        row = np.clip((np.asarray(y) - (y0 - RASTER_M / 2)) * (1.0 / RASTER_M), 0, nrow - 1).astype(np.intp)
        return grid.ravel().take(row * ncol + col)

    def inside(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        out = np.zeros(np.broadcast(x, y).shape, dtype=bool)
        for x0, x1, y0, y1 in self.bounds:
            out |= (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
        return out

    def reset_bodies(self, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        if self.balls is None:
            return np.zeros((k, 0)), np.zeros((k, 0))
        return self.balls.parked(k)

    def scorer(self, num_envs: int) -> Scorer:
        return Scorer(self.items, self.sections, num_envs, self.finish_item)


_RASTERS: dict[str, tuple[np.ndarray, float, float]] = {}


def _raster(course: Course) -> tuple[np.ndarray, float, float]:
    """Exact heights on a RASTER_M grid over the course's pieces (+1 m): (grid [rows y, cols x], x0, y0)."""
    cached = _RASTERS.get(course.name)
    if cached is not None:
        return cached
    rects = [piece_rect(p) for _, p in course.pieces] + list(course.bounds)
    x0 = min(r[0] for r in rects) - 1.0
    x1 = max(r[1] for r in rects) + 1.0
    y0 = min(r[2] for r in rects) - 1.0
    y1 = max(r[3] for r in rects) + 1.0
    xs = x0 + RASTER_M * np.arange(int(np.ceil((x1 - x0) / RASTER_M)) + 1)
    ys = y0 + RASTER_M * np.arange(int(np.ceil((y1 - y0) / RASTER_M)) + 1)
    grid = np.zeros((len(ys), len(xs)))
    for _, piece in course.pieces:  # each piece only over its own rectangle
        px0, px1, py0, py1 = piece_rect(piece)
        c = slice(max(0, int((px0 - x0) / RASTER_M) - 1), int((px1 - x0) / RASTER_M) + 2)
        r = slice(max(0, int((py0 - y0) / RASTER_M) - 1), int((py1 - y0) / RASTER_M) + 2)
        gx, gy = np.meshgrid(xs[c], ys[r])
        grid[r, c] = np.maximum(grid[r, c], piece.height(gx, gy))
    _RASTERS[course.name] = cached = (grid, float(x0), float(y0))
    return cached


def union(name: str, parts: list[Course], spawn: Rect, **extra) -> Course:
    """Courses placed in one frame (the official long course is the section files at the origin)."""
    seen: set[str] = set()
    pieces = []
    for part in parts:
        for piece_name, piece in part.pieces:
            if piece_name not in seen:  # shared platforms appear in two sections
                seen.add(piece_name)
                pieces.append((piece_name, piece))
    markers = [m for part in parts for m in part.markers]
    waypoints = []
    for part in parts:
        waypoints += [w for w in part.waypoints if w not in waypoints]
    return Course(name=name, pieces=tuple(pieces), bounds=tuple(b for p in parts for b in p.bounds), spawn=spawn,
                  waypoints=tuple(waypoints), items=tuple(i for p in parts for i in p.items),
                  sections=tuple(s for p in parts for s in p.sections), markers=tuple(dict(markers).items()),
                  balls=next((p.balls for p in parts if p.balls is not None), None), **extra)


__all__ = ["Ball", "Block", "Course", "Field", "Marker", "Slope", "union"]
