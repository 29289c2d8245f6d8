"""Terrains: what each env id adds to the scene, and its ground height as a batched function.

The height function lets the env compute the height scan in numpy (no ray casts): one observation
layout for every section, all zeros on flat ground, so a policy can be warm-started across stages.
``tests/sim/test_terrain.py`` checks every terrain's ``height`` against MuJoCo's geometry with
``mj_ray``.

A terrain provides:

- ``build(spec)``: add its geoms (and bodies) to the robot's ``MjSpec``;
- ``height(x, y)``: ground height (m) at points of any matching shapes;
- ``inside(x, y)``: True where a point is on the arena (leaving it ends the episode);
- ``course``: checkpoints [K, 2] along the course (m), or None (targets anywhere, section001);
- ``reset_bodies(k, rng)``: (qpos [k, nq_extra], qvel [k, nv_extra]) of the bodies it adds (the
  rolling balls) for ``k`` fresh episodes. A terrain without bodies returns empty arrays and draws
  no random numbers, so section001's episodes are exactly what they were.

Sections 011-013 are straight courses along +x, centred on the origin, ``LANE_HALF_WIDTH`` m to
each side of the centre line. Their obstacles are axis-aligned boxes, tilted boxes (ramps) and one
height field: primitive geoms only, so contacts stay cheap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import mujoco
import numpy as np

ARENA_RADIUS = 12.5  # m, section001's disc
LANE_HALF_WIDTH = 1.5  # m, sections 011-013
GROUP_MARKINGS = 1  # visual-only geoms (arena, rings, lane): no contacts
GROUP_BODIES = 2  # moving terrain bodies (balls): not part of the height function
TERRAIN_RGBA = [0.55, 0.52, 0.47, 1]


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
        _disc(world, "inner_fence", 0.75, 0.002, [0.95, 0.75, 0.2, 1])
        _disc(world, "centre", 0.3, 0.003, [0.85, 0.25, 0.2, 1])

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


# ---------------------------------------------------------------------------------------- pieces
# Each piece covers a rectangle [x0, x1] x [y0, y1]; ``height`` is its top there and -inf elsewhere,
# and a course's ground is the highest of its pieces and the plane (0).


@dataclass(frozen=True)
class Box:
    """A block standing on the ground, ``top`` m high (a step, a platform, a wall)."""

    x0: float
    x1: float
    y0: float
    y1: float
    top: float
    rgba: tuple[float, ...] = tuple(TERRAIN_RGBA)

    def build(self, world, name: str) -> None:
        _solid(world, name, mujoco.mjtGeom.mjGEOM_BOX,
               size=[(self.x1 - self.x0) / 2, (self.y1 - self.y0) / 2, self.top / 2],
               pos=[(self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2, self.top / 2], rgba=self.rgba)

    def height(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        on = (x >= self.x0) & (x <= self.x1) & (y >= self.y0) & (y <= self.y1)
        return np.where(on, self.top, -np.inf)


@dataclass(frozen=True)
class Ramp:
    """A slope whose top rises linearly from ``h0`` at ``x0`` to ``h1`` at ``x1`` (either may be higher).

    Built as a tilted box whose top face is the slope; it is thick enough to reach below the
    ground, and its ends poke only below the ground or into the platform at its high end (a ramp
    must lead onto a platform of the same height, or start from the ground).
    """

    x0: float
    x1: float
    y0: float
    y1: float
    h0: float
    h1: float
    rgba: tuple[float, ...] = (0.62, 0.5, 0.38, 1)

    @property
    def angle_deg(self) -> float:
        return math.degrees(math.atan2(abs(self.h1 - self.h0), self.x1 - self.x0))

    def build(self, world, name: str) -> None:
        theta = math.atan2(self.h1 - self.h0, self.x1 - self.x0)
        length = math.hypot(self.x1 - self.x0, self.h1 - self.h0)
        thickness = max(self.h0, self.h1) / math.cos(theta) + 0.05
        normal = np.array([-math.sin(theta), 0.0, math.cos(theta)])
        top_mid = np.array([(self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2, (self.h0 + self.h1) / 2])
        centre = top_mid - normal * thickness / 2
        # Rotating by -theta about +y turns the box's x axis to (cos theta, 0, sin theta): up the slope.
        quat = [math.cos(-theta / 2), 0.0, math.sin(-theta / 2), 0.0]
        _solid(world, name, mujoco.mjtGeom.mjGEOM_BOX, size=[length / 2, (self.y1 - self.y0) / 2, thickness / 2],
               pos=centre.tolist(), quat=quat, rgba=self.rgba)

    def height(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        on = (x >= self.x0) & (x <= self.x1) & (y >= self.y0) & (y <= self.y1)
        frac = (x - self.x0) / (self.x1 - self.x0)
        return np.where(on, self.h0 + frac * (self.h1 - self.h0), -np.inf)


@dataclass(frozen=True)
class Bumps:
    """A height field of smooth random bumps up to ``amplitude`` m, fading to 0 at its border.

    ``spacing`` m between grid points. MuJoCo draws the field as two triangles per grid cell; the
    numpy height interpolates bilinearly, which differs by < 1 mm for these smooth bumps.
    """

    x0: float
    x1: float
    y0: float
    y1: float
    amplitude: float = 0.06
    spacing: float = 0.05
    seed: int = 11
    name: str = "bumps"

    def grid(self) -> np.ndarray:
        """Elevations [nrow (along y), ncol (along x)] in m, max exactly ``amplitude``."""
        ncol = round((self.x1 - self.x0) / self.spacing) + 1
        nrow = round((self.y1 - self.y0) / self.spacing) + 1
        gx = np.linspace(0.0, 1.0, ncol)
        gy = np.linspace(0.0, 1.0, nrow)
        rng = np.random.default_rng(self.seed)
        z = np.zeros((nrow, ncol))
        # A sum of Gaussian bumps, ~0.35 m wide, at random places.
        count = max(4, int(1.2 * (self.x1 - self.x0) * (self.y1 - self.y0)))
        cx = rng.uniform(0, 1, count)
        cy = rng.uniform(0, 1, count)
        wx = 0.35 / (self.x1 - self.x0)
        wy = 0.35 / (self.y1 - self.y0)
        for bx, by in zip(cx, cy):
            z += np.exp(-(((gx[None, :] - bx) / wx) ** 2 + ((gy[:, None] - by) / wy) ** 2))
        # Fade to zero over the outer 10% so the field meets the ground without a step.
        fade = np.minimum(np.clip(np.minimum(gx, 1 - gx) / 0.1, 0, 1)[None, :],
                          np.clip(np.minimum(gy, 1 - gy) / 0.1, 0, 1)[:, None])
        z = z * fade
        return z / z.max() * self.amplitude

    def add_to(self, spec: mujoco.MjSpec, name: str) -> None:
        z = self.grid()
        nrow, ncol = z.shape
        rx, ry = (self.x1 - self.x0) / 2, (self.y1 - self.y0) / 2
        # MuJoCo normalises elevation data to [0, 1] and scales it by size[2]; rows run along y.
        spec.add_hfield(name=name, size=[rx, ry, self.amplitude, 0.05], nrow=nrow, ncol=ncol,
                        userdata=(z / self.amplitude).ravel().tolist())
        geom = spec.worldbody.add_geom()
        geom.name = name
        geom.type = mujoco.mjtGeom.mjGEOM_HFIELD
        geom.hfieldname = name
        geom.pos = [(self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2, 0.0]
        geom.rgba = [0.5, 0.56, 0.44, 1]

    def height(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        z = self._grid_cached
        nrow, ncol = z.shape
        on = (x >= self.x0) & (x <= self.x1) & (y >= self.y0) & (y <= self.y1)
        u = np.clip((x - self.x0) / (self.x1 - self.x0), 0, 1) * (ncol - 1)
        v = np.clip((y - self.y0) / (self.y1 - self.y0), 0, 1) * (nrow - 1)
        c0 = np.minimum(np.floor(u).astype(np.int64), ncol - 2)
        r0 = np.minimum(np.floor(v).astype(np.int64), nrow - 2)
        fu, fv = u - c0, v - r0
        h = ((1 - fu) * (1 - fv) * z[r0, c0] + fu * (1 - fv) * z[r0, c0 + 1]
             + (1 - fu) * fv * z[r0 + 1, c0] + fu * fv * z[r0 + 1, c0 + 1])
        return np.where(on, h, -np.inf)

    @property
    def _grid_cached(self) -> np.ndarray:
        cached = _GRID_CACHE.get(self)
        if cached is None:
            cached = _GRID_CACHE[self] = self.grid()
        return cached


_GRID_CACHE: dict[Bumps, np.ndarray] = {}


def _solid(world, name: str, kind, *, size, pos, rgba, quat=None) -> None:
    geom = world.add_geom()
    geom.name = name
    geom.type = kind
    geom.size = size
    geom.pos = pos
    if quat is not None:
        geom.quat = quat
    geom.rgba = list(rgba)
    geom.friction = [1.0, 0.005, 0.0001]  # the floor's


@dataclass(frozen=True)
class Balls:
    """Balls that roll across the lane between ``x0`` and ``x1``, kept in by the lane's side walls.

    Each episode they start at random places across the lane, rolling sideways at
    ``speed`` m/s (random sign). They are obstacles the height scan does not see.
    """

    xs: tuple[float, ...]
    radius: float = 0.12
    mass: float = 1.5
    speed: tuple[float, float] = (0.8, 1.6)

    def add_to(self, spec: mujoco.MjSpec) -> None:
        for i, x in enumerate(self.xs):
            body = spec.worldbody.add_body()
            body.name = f"ball{i}"
            body.pos = [x, 0.0, self.radius]
            body.add_freejoint()
            geom = body.add_geom()
            geom.name = f"ball{i}"
            geom.type = mujoco.mjtGeom.mjGEOM_SPHERE
            geom.size = [self.radius, 0, 0]
            geom.mass = self.mass
            geom.rgba = [0.9, 0.45, 0.1, 1]
            geom.group = GROUP_BODIES
            geom.condim = 6  # rolling friction, so balls roll rather than slide forever
            geom.friction = [0.8, 0.005, 0.0005]
            geom.solref = [0.02, 0.3]  # under-damped: balls bounce off the walls

    def reset_bodies(self, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        n = len(self.xs)
        qpos = np.zeros((k, n, 7))
        qvel = np.zeros((k, n, 6))
        limit = LANE_HALF_WIDTH - self.radius - 0.05
        qpos[:, :, 0] = np.asarray(self.xs)
        qpos[:, :, 1] = rng.uniform(-limit, limit, (k, n))
        qpos[:, :, 2] = self.radius
        qpos[:, :, 3] = 1.0  # identity quaternion
        vy = rng.uniform(*self.speed, (k, n)) * rng.choice([-1.0, 1.0], (k, n))
        qvel[:, :, 1] = vy
        qvel[:, :, 3] = -vy / self.radius  # rolling without slipping: v_y = -omega_x r
        return qpos.reshape(k, -1), qvel.reshape(k, -1)


@dataclass(frozen=True)
class Course:
    """A straight course along +x: pieces on the ground, checkpoints for spawns and targets.

    ``x_range``: the arena's extent along x (m); across, it is the lane, ``LANE_HALF_WIDTH`` each side.
    """

    name: str
    x_range: tuple[float, float]
    pieces: tuple = ()
    bumps: tuple[Bumps, ...] = ()
    balls: Balls | None = None
    checkpoints: tuple[tuple[float, float], ...] = ()
    walls: tuple[tuple[float, float], ...] = ()  # x ranges with side walls (to keep balls in)
    wall_height: float = 0.3
    _all: tuple = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        w = LANE_HALF_WIDTH
        walls = tuple(
            Box(x0, x1, y0, y1, self.wall_height, rgba=(0.35, 0.38, 0.42, 1))
            for x0, x1 in self.walls for y0, y1 in ((w, w + 0.1), (-w - 0.1, -w))
        )
        object.__setattr__(self, "_all", tuple(self.pieces) + walls + tuple(self.bumps))

    @property
    def course(self) -> np.ndarray:
        return np.asarray(self.checkpoints, dtype=np.float64)

    def build(self, spec: mujoco.MjSpec) -> None:
        world = spec.worldbody
        x0, x1 = self.x_range
        lane = world.add_geom()
        lane.name = "lane"
        lane.type = mujoco.mjtGeom.mjGEOM_BOX
        lane.size = [(x1 - x0) / 2, LANE_HALF_WIDTH, 0.001]
        lane.pos = [(x0 + x1) / 2, 0, 0.001]
        lane.rgba = [0.42, 0.46, 0.52, 1]
        lane.contype = lane.conaffinity = 0
        lane.group = GROUP_MARKINGS
        for i, piece in enumerate(self._all):
            if isinstance(piece, Bumps):
                piece.add_to(spec, f"{self.name}_{piece.name}{i}")
            else:
                piece.build(world, f"{self.name}_{type(piece).__name__.lower()}{i}")
        for i, (cx, cy) in enumerate(self.checkpoints):
            mark = world.add_geom()
            mark.name = f"checkpoint{i}"
            mark.type = mujoco.mjtGeom.mjGEOM_CYLINDER
            mark.size = [0.3, 0.002, 0]
            mark.pos = [cx, cy, float(self.height(np.array(cx), np.array(cy))) + 0.003]
            mark.rgba = [0.85, 0.25, 0.2, 1]
            mark.contype = mark.conaffinity = 0
            mark.group = GROUP_MARKINGS
        if self.balls is not None:
            self.balls.add_to(spec)

    def height(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        x, y = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
        h = np.zeros(x.shape)
        for piece in self._all:
            h = np.maximum(h, piece.height(x, y))
        return h

    def inside(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return (x >= self.x_range[0]) & (x <= self.x_range[1]) & (np.abs(y) <= LANE_HALF_WIDTH)

    def reset_bodies(self, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        if self.balls is None:
            return _empty_bodies(k)
        return self.balls.reset_bodies(k, rng)


W = LANE_HALF_WIDTH
RAMP_15 = 0.4 / math.tan(math.radians(15))  # m run of a 0.4 m rise at 15 degrees


def section011() -> Course:
    """Bumps, a 15 degree ramp, a raised platform 0.4 m high. Spawn -7.5, target on the platform."""
    ramp_x0 = 0.5
    ramp_x1 = ramp_x0 + RAMP_15
    return Course(
        name="s011",
        x_range=(-9.0, 8.0),
        bumps=(Bumps(-6.0, -1.0, -W, W, amplitude=0.06),),
        pieces=(
            Ramp(ramp_x0, ramp_x1, -W, W, 0.0, 0.4),
            Box(ramp_x1, 8.0, -W, W, 0.4),
        ),
        checkpoints=((-7.5, 0.0), (-3.5, 0.0), (-0.2, 0.0), (3.5, 0.0), (6.5, 0.0)),
    )


def section012() -> Course:
    """Stairs up (3 x 0.10 m, then 2 x 0.15 m) to a 0.6 m platform and down (2 x 0.15 m, 3 x 0.10 m)."""
    tread = 0.35
    up = [0.10, 0.10, 0.10, 0.15, 0.15]
    x_up = -3.5
    boxes = []
    h = 0.0
    x = x_up
    for rise in up:  # each step is a block from the ground to its tread
        h += rise
        boxes.append(Box(x, x + tread, -W, W, round(h, 3)))
        x += tread
    platform = Box(x, x + 2.0, -W, W, round(h, 3))
    x += 2.0
    for rise in reversed(up):
        h -= rise
        if h <= 1e-9:
            break
        boxes.append(Box(x, x + tread, -W, W, round(h, 3)))
        x += tread
    return Course(  # the last riser goes down to the ground
        name="s012",
        x_range=(-9.0, 9.0),
        pieces=(*boxes, platform),
        checkpoints=((-7.5, 0.0), (-4.5, 0.0), (-0.75 + 0.05, 0.0), (x + 1.0, 0.0), (7.5, 0.0)),
    )


def section013() -> Course:
    """A 0.20 m high step, balls rolling across the lane, a 25 degree ramp up to a 0.4 m platform."""
    ramp_rise, ramp_deg = 0.4, 25.0
    ramp_x0 = 3.6
    ramp_x1 = ramp_x0 + ramp_rise / math.tan(math.radians(ramp_deg))
    return Course(
        name="s013",
        x_range=(-9.0, 9.0),
        pieces=(
            Box(-5.5, -3.5, -W, W, 0.20),  # the high step: up, a landing, down
            Ramp(ramp_x0, ramp_x1, -W, W, 0.0, ramp_rise),
            Box(ramp_x1, 9.0, -W, W, ramp_rise),
        ),
        walls=((-2.5, 3.2),),
        balls=Balls(xs=(-1.2, 0.4, 2.0)),
        checkpoints=((-7.5, 0.0), (-4.5, 0.0), (-2.8, 0.0), (3.0, 0.0), (6.5, 0.0)),
    )


TERRAINS = {"flat": FlatDisc, "section011": section011, "section012": section012, "section013": section013}
