"""Observation layouts of the navigation env: one code path, a layout per kind of env.

``FLAT`` is section001's layout, unchanged (its policies and figures hold). ``COURSE`` adds what
the obstacle courses need: the two gates after the current one, foot contacts, the base's height
above the ground, the celebration timer, and a height scan dense enough for stairs (0.10 m along the
heading over 0.20 m treads, 1.3 m ahead). Every field is in the robot's heading frame (yaw only).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def _grid(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    return np.stack(np.meshgrid(xs, ys, indexing="ij"), axis=-1).reshape(-1, 2)


# Height scans in the heading frame, x forward, y left (m).
FLAT_SCAN = _grid(np.array([-0.2, 0.1, 0.4, 0.7]), np.array([-0.2, 0.0, 0.2]))
COURSE_SCAN = _grid(np.round(np.arange(-0.3, 1.01, 0.1), 2), np.array([-0.3, -0.15, 0.0, 0.15, 0.3]))

_COMMON: tuple[tuple[str, int], ...] = (
    ("lin_vel", 3),  # m/s
    ("ang_vel", 3),  # rad/s
    ("projected_gravity", 3),  # unit vector
    ("joint_pos", 12),  # rad, minus the default pose
    ("joint_vel", 12),  # rad/s
    ("last_action", 12),
    ("target_pos", 2),  # m, target (the current gate on a course) in the heading frame
    ("heading_error", 2),  # sin, cos of (target yaw - yaw)
    ("distance", 1),  # m
    ("reached", 1),  # 1 once the (final) target radius was entered this episode
)


@dataclass(frozen=True)
class ObsLayout:
    name: str
    fields: tuple[tuple[str, int], ...]
    scan: np.ndarray  # [S, 2] scan points (m, heading frame)
    slices: dict[str, slice] = field(init=False, compare=False)
    dim: int = field(init=False, compare=False)

    def __post_init__(self) -> None:
        slices, start = {}, 0
        for name, size in self.fields:
            slices[name] = slice(start, start + size)
            start += size
        object.__setattr__(self, "slices", slices)
        object.__setattr__(self, "dim", start)


FLAT = ObsLayout("flat", (*_COMMON, ("height_scan", len(FLAT_SCAN))), FLAT_SCAN)
COURSE = ObsLayout("course", (
    *_COMMON,
    ("next_gates", 4),  # m, the two gates after the current one, heading frame (repeats at the end)
    ("foot_contact", 4),  # 0/1, FR FL RR RL
    ("base_height", 1),  # m above the ground under the base
    ("celebration", 1),  # s of sitting on a platform so far / the seconds needed
    ("height_scan", len(COURSE_SCAN)),  # m, ground at the scan points minus under the base
), COURSE_SCAN)



def to_heading_frame(rel: np.ndarray, cos_yaw: np.ndarray, sin_yaw: np.ndarray) -> np.ndarray:
    """World-frame offsets [N, 2] (or [N, K, 2]) -> heading frame (yaw only)."""
    if rel.ndim == 3:
        cos_yaw, sin_yaw = cos_yaw[:, None], sin_yaw[:, None]
    return np.stack([cos_yaw * rel[..., 0] + sin_yaw * rel[..., 1], -sin_yaw * rel[..., 0] + cos_yaw * rel[..., 1]],
                    axis=-1)


def height_scan(terrain, scan: np.ndarray, xy: np.ndarray, cos_yaw: np.ndarray, sin_yaw: np.ndarray) -> np.ndarray:
    """Ground height at the scan points [N, S] minus the height under the base (m)."""
    px = xy[:, 0:1] + cos_yaw[:, None] * scan[:, 0] - sin_yaw[:, None] * scan[:, 1]
    py = xy[:, 1:2] + sin_yaw[:, None] * scan[:, 0] + cos_yaw[:, None] * scan[:, 1]
    return terrain.height(px, py) - terrain.height(xy[:, 0:1], xy[:, 1:2])


def add_noise(out: np.ndarray, layout: ObsLayout, noise, rng: np.random.Generator) -> None:
    """Uniform sensor noise (``NoiseConfig``) on the sensed fields of ``out`` [K, dim], in place."""
    o = layout.slices
    for name, level in (("lin_vel", noise.lin_vel), ("ang_vel", noise.ang_vel),
                        ("projected_gravity", noise.gravity), ("joint_pos", noise.joint_pos),
                        ("joint_vel", noise.joint_vel), ("height_scan", noise.height_scan)):
        width = o[name].stop - o[name].start
        out[:, o[name]] += rng.uniform(-1, 1, (out.shape[0], width)) * (level * noise.scale)
