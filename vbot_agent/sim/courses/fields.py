"""Seeded height-field generators for the three fields whose pixel data was never published.

Each returns elevations [nrow (along y), ncol (along x)] in m with min exactly 0 and max exactly the
documented envelope (MuJoCo normalises field data to [0, 1], so the envelope is only kept when the
grid spans it). Ends along y fade to the neighbouring floor's height so the field meets the floor
without a step; ``edge_m`` is that fade's length in grid rows' units of the field (fraction of 1).
"""

from __future__ import annotations

import numpy as np


def _smooth_noise(nrow: int, ncol: int, rng: np.random.Generator, cell: int) -> np.ndarray:
    """Value noise: uniform random values every ``cell`` grid points, bilinearly interpolated."""
    coarse = rng.uniform(0.0, 1.0, (nrow // cell + 2, ncol // cell + 2))
    v = np.arange(nrow) / cell
    u = np.arange(ncol) / cell
    r0, c0 = np.floor(v).astype(int), np.floor(u).astype(int)
    fv, fu = (v - r0)[:, None], (u - c0)[None, :]
    fv, fu = fv * fv * (3 - 2 * fv), fu * fu * (3 - 2 * fu)  # smoothstep: no creases at the cells
    a = coarse[r0][:, c0]
    b = coarse[r0][:, c0 + 1]
    c = coarse[r0 + 1][:, c0]
    d = coarse[r0 + 1][:, c0 + 1]
    return (1 - fv) * ((1 - fu) * a + fu * b) + fv * ((1 - fu) * c + fu * d)


def _fade_along_y(nrow: int, rows: int) -> np.ndarray:
    """[nrow, 1] weight: 0 at both ends, 1 after ``rows`` rows (smoothstep)."""
    idx = np.arange(nrow)
    t = np.clip(np.minimum(idx, nrow - 1 - idx) / max(rows, 1), 0.0, 1.0)
    return (t * t * (3 - 2 * t))[:, None]


def _span(z: np.ndarray, envelope: float) -> np.ndarray:
    z = z - z.min()
    return z / z.max() * envelope


def potholes(nrow: int, ncol: int, rng: np.random.Generator, envelope: float = 0.277) -> np.ndarray:
    """Section 011's field: a lumpy plateau at half the envelope (0.14 m +- 0.03), round potholes
    down to 0 (about one per m^2, 0.3-0.5 m across) and round bumps up to ``envelope`` (about one per
    3 m^2, 0.3-0.4 m across); the first and last 0.3 m ramp down to the START floor and the strip (z 0).

    Built in units of the envelope and clipped to [0, 1], so the plateau stays where it is written
    (rescaling by the extremes would lift it to whatever the deepest pothole left)."""
    z = 0.5 + 0.2 * (_smooth_noise(nrow, ncol, rng, 12) - 0.5)  # 0.6 m lumps
    y, x = np.mgrid[0:nrow, 0:ncol]
    area_cells = nrow * ncol

    def dents(count: int, radius: tuple[float, float], depth: float) -> np.ndarray:
        out = np.zeros((nrow, ncol))
        for _ in range(max(1, count)):
            cy, cx = rng.uniform(0, nrow), rng.uniform(0, ncol)
            r = rng.uniform(*radius)  # grid cells (0.05 m each)
            out += depth * np.exp(-(((y - cy) ** 2 + (x - cx) ** 2) / (r * r)) ** 2)
        return out

    z = z - dents(area_cells // 400, (3.0, 5.0), 0.7) + dents(area_cells // 1200, (3.0, 4.0), 0.6)
    z = np.clip(z, 0.0, 1.0) * _fade_along_y(nrow, 6)  # the faded ends are 0; the bumps' clipped tops 1
    return z / z.max() * envelope


def waves(nrow: int, ncol: int, rng: np.random.Generator, envelope: float = 0.10) -> np.ndarray:
    """Section 012's wave field: crests across the course every ~1 m along y, gently skewed and
    varying across x, from 0 to ``envelope``; the ends fade to the floor (z 0 of the field)."""
    y, x = np.mgrid[0:nrow, 0:ncol] * 0.05  # m, for the default 0.05 m spacing
    phase = rng.uniform(0, 2 * np.pi)
    skew = rng.uniform(-0.15, 0.15)
    z = 0.5 + 0.5 * np.sin(2 * np.pi * (y + skew * x) / 1.0 + phase + 0.6 * np.sin(2 * np.pi * x / 4.0))
    z = z * _fade_along_y(nrow, 4)
    return _span(z, envelope)


def random_terrain(nrow: int, ncol: int, rng: np.random.Generator, envelope: float = 0.149) -> np.ndarray:
    """Section 013's random terrain: 0.15 m blocks of random height with softened edges, spanning
    ``envelope`` (1.343..1.492 on its base); the ends rise to the top so they meet the ramp and the
    final platform (both 1.494, 2 mm above the field's top)."""
    blocks = _smooth_noise(nrow, ncol, rng, 3)
    fine = rng.uniform(0.0, 1.0, (nrow, ncol))
    z = 0.8 * blocks + 0.2 * fine
    z = _span(z, 1.0)
    fade = _fade_along_y(nrow, 3)
    z = fade * z + (1 - fade) * 1.0
    return _span(z, envelope)
