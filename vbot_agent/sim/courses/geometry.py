"""Geometry pieces of the competition courses: primitive geoms and height fields.

Frame (the official course files): +y is the direction of travel, x across, +z up; metres, degrees.
Every piece has ``build(spec, name)`` (adds its geoms to the robot's ``MjSpec``) and
``height(x, y)``: the top of the piece at points of any matching shapes, -inf where the piece is
absent. A course's ground is the highest of its pieces and the plane (0). Pieces that hover (the
bridge slats, the red packets' markers) report their top too: the height scan sees the highest
surface, so under the bridge it sees the deck (documented limit).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import mujoco
import numpy as np

GROUP_MARKINGS = 1  # visual-only geoms (zones, packets, gates): no contacts
GROUP_BODIES = 2  # moving bodies (balls): not part of the height function
ROCK = (0.55, 0.52, 0.47, 1.0)
WALL = (0.35, 0.38, 0.42, 1.0)
FRICTION = [1.0, 0.005, 0.0001]  # the floor's


def _inside(x: np.ndarray, y: np.ndarray, x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
    return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)


def add_geom(spec: mujoco.MjSpec, name: str, kind, *, size, pos, rgba, quat=None, collide: bool = True):
    geom = spec.worldbody.add_geom()
    geom.name = name
    geom.type = kind
    geom.size = list(size)
    geom.pos = list(pos)
    if quat is not None:
        geom.quat = list(quat)
    geom.rgba = list(rgba)
    if collide:
        geom.friction = FRICTION
    else:
        geom.contype = geom.conaffinity = 0
        geom.group = GROUP_MARKINGS
    return geom


@dataclass(frozen=True)
class Block:
    """An axis-aligned solid box from ``bottom`` to ``top`` over [x0, x1] x [y0, y1] (a step, a wall)."""

    x0: float
    x1: float
    y0: float
    y1: float
    top: float
    bottom: float = 0.0
    rgba: tuple[float, ...] = ROCK

    def build(self, spec: mujoco.MjSpec, name: str) -> None:
        add_geom(spec, name, mujoco.mjtGeom.mjGEOM_BOX,
                 size=[(self.x1 - self.x0) / 2, (self.y1 - self.y0) / 2, (self.top - self.bottom) / 2],
                 pos=[(self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2, (self.top + self.bottom) / 2],
                 rgba=self.rgba)

    def height(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.where(_inside(x, y, self.x0, self.x1, self.y0, self.y1), self.top, -np.inf)


@dataclass(frozen=True)
class Slope:
    """A plane rising linearly along y from ``z0`` at ``y0`` to ``z1`` at ``y1`` (a ramp, a valley side).

    Built as a tilted box whose top face is the slope, ``thickness`` m thick under it (enough to
    meet the ground or the piece below; its corners poke only into neighbouring solids).
    """

    x0: float
    x1: float
    y0: float
    y1: float
    z0: float
    z1: float
    thickness: float = 0.6
    rgba: tuple[float, ...] = (0.62, 0.5, 0.38, 1.0)

    @property
    def angle_deg(self) -> float:
        return math.degrees(math.atan2(abs(self.z1 - self.z0), self.y1 - self.y0))

    def build(self, spec: mujoco.MjSpec, name: str) -> None:
        theta = math.atan2(self.z1 - self.z0, self.y1 - self.y0)  # pitch up along +y
        length = math.hypot(self.y1 - self.y0, self.z1 - self.z0)
        normal = np.array([0.0, -math.sin(theta), math.cos(theta)])
        top_mid = np.array([(self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2, (self.z0 + self.z1) / 2])
        centre = top_mid - normal * self.thickness / 2
        # Rotating by theta about +x turns the box's y axis to (0, cos theta, sin theta): up the slope.
        quat = [math.cos(theta / 2), math.sin(theta / 2), 0.0, 0.0]
        add_geom(spec, name, mujoco.mjtGeom.mjGEOM_BOX,
                 size=[(self.x1 - self.x0) / 2, length / 2, self.thickness / 2], pos=centre.tolist(),
                 quat=quat, rgba=self.rgba)

    def height(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        frac = (y - self.y0) / (self.y1 - self.y0)
        return np.where(_inside(x, y, self.x0, self.x1, self.y0, self.y1), self.z0 + frac * (self.z1 - self.z0),
                        -np.inf)


@dataclass(frozen=True)
class Ball:
    """A static sphere (a riverbed stone, a gold ball); its height is the upper cap."""

    x: float
    y: float
    z: float
    radius: float
    rgba: tuple[float, ...] = (0.5, 0.5, 0.48, 1.0)

    def build(self, spec: mujoco.MjSpec, name: str) -> None:
        add_geom(spec, name, mujoco.mjtGeom.mjGEOM_SPHERE, size=[self.radius, 0, 0], pos=[self.x, self.y, self.z],
                 rgba=self.rgba)

    def height(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        d2 = (x - self.x) ** 2 + (y - self.y) ** 2
        cap = self.z + np.sqrt(np.clip(self.radius ** 2 - d2, 0.0, None))
        return np.where(d2 <= self.radius ** 2, cap, -np.inf)


@dataclass(frozen=True)
class Field:
    """A MuJoCo height field over [x0, x1] x [y0, y1]: ground ``base`` m high plus ``grid`` (m).

    ``make_grid(nrow, ncol, rng) -> [nrow (along y), ncol (along x)]`` elevations in m, drawn from
    ``seed``; ``spacing`` m between grid points. A box fills the space from the plane up to ``base``
    so the field stands on something solid. The numpy height interpolates bilinearly; MuJoCo draws
    two triangles per cell, which differs by a few mm where the field is rough.
    """

    x0: float
    x1: float
    y0: float
    y1: float
    base: float
    make_grid: Callable[[int, int, np.random.Generator], np.ndarray]
    seed: int
    spacing: float = 0.05
    rgba: tuple[float, ...] = (0.5, 0.56, 0.44, 1.0)

    def grid(self) -> np.ndarray:
        cached = _GRIDS.get(self)
        if cached is None:
            ncol = round((self.x1 - self.x0) / self.spacing) + 1
            nrow = round((self.y1 - self.y0) / self.spacing) + 1
            cached = _GRIDS[self] = np.asarray(self.make_grid(nrow, ncol, np.random.default_rng(self.seed)), float)
        return cached

    def build(self, spec: mujoco.MjSpec, name: str) -> None:
        z = self.grid()
        nrow, ncol = z.shape
        top = max(float(z.max()), 1e-3)
        # MuJoCo normalises elevation data to [0, 1] and scales it by size[2]; rows run along y.
        spec.add_hfield(name=name, size=[(self.x1 - self.x0) / 2, (self.y1 - self.y0) / 2, top, 0.1],
                        nrow=nrow, ncol=ncol, userdata=(z / top).ravel().tolist())
        geom = spec.worldbody.add_geom()
        geom.name = name
        geom.type = mujoco.mjtGeom.mjGEOM_HFIELD
        geom.hfieldname = name
        geom.pos = [(self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2, self.base]
        geom.rgba = list(self.rgba)
        geom.friction = FRICTION
        if self.base > 0.1:  # the solid under the field (its own 0.1 m base covers the rest)
            Block(self.x0, self.x1, self.y0, self.y1, top=self.base - 0.05, rgba=ROCK).build(spec, f"{name}_under")

    def height(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        z = self.grid()
        nrow, ncol = z.shape
        u = np.clip((x - self.x0) / (self.x1 - self.x0), 0, 1) * (ncol - 1)
        v = np.clip((y - self.y0) / (self.y1 - self.y0), 0, 1) * (nrow - 1)
        c0 = np.minimum(np.floor(u).astype(np.int64), ncol - 2)
        r0 = np.minimum(np.floor(v).astype(np.int64), nrow - 2)
        fu, fv = u - c0, v - r0
        h = ((1 - fu) * (1 - fv) * z[r0, c0] + fu * (1 - fv) * z[r0, c0 + 1]
             + (1 - fu) * fv * z[r0 + 1, c0] + fu * fv * z[r0 + 1, c0 + 1])
        return np.where(_inside(x, y, self.x0, self.x1, self.y0, self.y1), self.base + h, -np.inf)


_GRIDS: dict[Field, np.ndarray] = {}


@dataclass(frozen=True)
class Marker:
    """A visual-only disc or sphere (a zone, a red packet, a gate); no contacts, not in the height."""

    x: float
    y: float
    z: float
    radius: float
    rgba: tuple[float, ...]
    disc: bool = True

    def build(self, spec: mujoco.MjSpec, name: str) -> None:
        if self.disc:
            add_geom(spec, name, mujoco.mjtGeom.mjGEOM_CYLINDER, size=[self.radius, 0.004, 0],
                     pos=[self.x, self.y, self.z + 0.005], rgba=self.rgba, collide=False)
        else:
            add_geom(spec, name, mujoco.mjtGeom.mjGEOM_SPHERE, size=[self.radius, 0, 0],
                     pos=[self.x, self.y, self.z], rgba=self.rgba, collide=False)

    def height(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.full(np.broadcast(x, y).shape, -np.inf)


@dataclass(frozen=True)
class Post:
    """A vertical cylinder from ``bottom`` to ``top`` (a bridge post, a cone's collider)."""

    x: float
    y: float
    radius: float
    top: float
    bottom: float = 0.0
    rgba: tuple[float, ...] = WALL

    @property
    def x0(self) -> float:
        return self.x - self.radius

    @property
    def x1(self) -> float:
        return self.x + self.radius

    @property
    def y0(self) -> float:
        return self.y - self.radius

    @property
    def y1(self) -> float:
        return self.y + self.radius

    def build(self, spec: mujoco.MjSpec, name: str) -> None:
        add_geom(spec, name, mujoco.mjtGeom.mjGEOM_CYLINDER, size=[self.radius, (self.top - self.bottom) / 2, 0],
                 pos=[self.x, self.y, (self.top + self.bottom) / 2], rgba=self.rgba)

    def height(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.where((x - self.x) ** 2 + (y - self.y) ** 2 <= self.radius ** 2, self.top, -np.inf)
