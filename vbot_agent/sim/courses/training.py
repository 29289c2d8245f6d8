"""The procedural training terrain: tiles of rising difficulty, and the rule that moves robots between levels.

One MuJoCo height field (cheap contacts, one geom) holds a grid of tiles: ``TYPES`` across x (one
column each), ``NUM_LEVELS`` along y (one row per level, difficulty d = level / (levels - 1)). Each
tile is ``TILE_X`` x ``TILE_Y`` m: 1.5 m of flat start, the obstacle, a flat end with the last gate.

- ``stairs``: 5 steps up, a 0.6 m landing, 5 down; rise 0.02 + 0.13 d m (0.15 at the top level, the
  left flight of section 012), tread 0.30 - 0.10 d m (0.20, the competition's);
- ``bumps``: smooth lumps ~0.5 m across up to 0.02 + 0.26 d m (0.28: the pothole field's envelope);
- ``ramp``: up at 5 + 17 d degrees (22: past the 15 and 21.8 degree ramps), a landing, down again;
- ``steps``: 0.4 m blocks of random height up to 0.02 + 0.18 d m (the random terrain's 0.15 and
  the 0.2 m ramp rise).

Level rule (legged_gym's, with a fall counted as a failure): at the end of an episode a robot that
reached its tile's last gate without falling moves up one level (from the top level: to a random
level); one that fell or covered less than half the way to the last gate moves down one level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vbot_agent.sim.courses.course import Course
from vbot_agent.sim.courses.geometry import Field

TYPES = ("stairs", "bumps", "ramp", "steps")
NUM_LEVELS = 10
TILE_X, TILE_Y = 4.0, 6.0  # m
SPACING = 0.05  # m per height-field cell
BASE_Z = 0.005  # m, the tiles' flat ground
START_Y, GATES_Y = 0.75, (2.25, 3.75, 5.25)  # m from the tile's start edge


def _tile(kind: str, level: int, rows: int, cols: int, rng: np.random.Generator) -> np.ndarray:
    """Elevations [rows (y), cols (x)] of one tile (m); the first and last 1.5 m are flat at 0
    except where the obstacle's landing continues (never: every obstacle comes back to 0)."""
    d = level / (NUM_LEVELS - 1)
    y = np.arange(rows) * SPACING - 1.5  # m from the obstacle's start
    z = np.zeros((rows, cols))
    if kind == "stairs":
        rise, tread = 0.02 + 0.13 * d, 0.30 - 0.10 * d
        up = np.clip(np.floor(y / tread) + 1, 0, 5)
        down = np.clip(5 - np.floor((y - 5 * tread - 0.6) / tread), 0, 5)
        z += (np.minimum(up, down) * rise)[:, None] * (y >= 0)[:, None]
    elif kind == "ramp":
        slope = math.tan(math.radians(5 + 17 * d))
        run = 1.2
        profile = np.clip(np.minimum(y, 2 * run + 0.6 - y), 0, run) * slope
        z += profile[:, None]
    elif kind == "bumps":
        from vbot_agent.sim.courses.fields import _smooth_noise

        amp = 0.02 + 0.26 * d
        noise = _smooth_noise(rows, cols, rng, 10)
        z += ((noise - noise.min()) / max(np.ptp(noise), 1e-9) * amp) * ((y >= 0) & (y <= 3.0))[:, None]
    elif kind == "steps":
        cell = round(0.4 / SPACING)
        blocks = rng.uniform(0, 0.02 + 0.18 * d, (rows // cell + 1, cols // cell + 1))
        z += blocks[np.arange(rows) // cell][:, np.arange(cols) // cell] * ((y >= 0) & (y <= 3.0))[:, None]
    return z


def _terrain_grid(nrow: int, ncol: int, rng: np.random.Generator) -> np.ndarray:
    rows, cols = round(TILE_Y / SPACING), round(TILE_X / SPACING)
    z = np.zeros((nrow, ncol))
    for level in range(NUM_LEVELS):
        for t, kind in enumerate(TYPES):
            z[level * rows:(level + 1) * rows, t * cols:(t + 1) * cols] = _tile(kind, level, rows, cols, rng)
    z[0, 0] = 0.0  # min exactly 0 (MuJoCo normalises the field to its range)
    return z


@dataclass(frozen=True)
class TrainingTerrain(Course):
    """The tiles as a course whose spawn and gates depend on each robot's level and tile type."""

    def tile_origin(self, level: np.ndarray, kind: np.ndarray) -> np.ndarray:
        """Lower-left corner (x, y) [k, 2] of each robot's tile (m)."""
        return np.stack([kind * TILE_X, level * TILE_Y], axis=1).astype(np.float64)

    def spawn_on_tiles(self, level: np.ndarray, kind: np.ndarray, rng: np.random.Generator,
                       jitter: float) -> tuple[np.ndarray, np.ndarray]:
        """Spawn points [k, 2] and gates [k, G, 2] on each robot's tile."""
        origin = self.tile_origin(level, kind)
        x = origin[:, 0] + TILE_X / 2 + rng.uniform(-jitter, jitter, len(level))
        spawn = np.stack([x, origin[:, 1] + START_Y], axis=1)
        gates = np.stack([np.stack([x, origin[:, 1] + gy], axis=1) for gy in GATES_Y], axis=1)
        return spawn, gates


def next_levels(level: np.ndarray, reached_end: np.ndarray, fell: np.ndarray, covered: np.ndarray,
                rng: np.random.Generator) -> np.ndarray:
    """The level rule above for robots whose episode ended: levels [k] -> new levels [k].

    ``covered``: fraction [k] of the way from the spawn to the last gate that the robot covered.
    """
    up = reached_end & ~fell
    down = fell | (covered < 0.5)
    new = np.where(up, level + 1, np.where(down, level - 1, level))
    top = new >= NUM_LEVELS
    new = np.where(top, rng.integers(0, NUM_LEVELS, len(level)), new)
    return np.clip(new, 0, NUM_LEVELS - 1)


def training_terrain() -> TrainingTerrain:
    width, length = TILE_X * len(TYPES), TILE_Y * NUM_LEVELS
    # 5 mm above the plane: on the flat parts the renderer would otherwise mix the two surfaces.
    field = Field(0.0, width, 0.0, length, base=BASE_Z, make_grid=_terrain_grid, seed=7, spacing=SPACING)
    gates = tuple((TILE_X / 2, gy) for gy in GATES_Y)  # level 0, stairs: the default gates (audit, view)
    return TrainingTerrain(name="training", pieces=(("training_tiles", field),), bounds=((0.0, width, 0.0, length),),
                           spawn=(TILE_X / 2 - 1.0, TILE_X / 2 + 1.0, START_Y, START_Y), waypoints=gates,
                           gate_radius=0.5)
