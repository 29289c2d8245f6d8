"""Batched rotation helpers on numpy arrays. Quaternions are MuJoCo's (w, x, y, z)."""

from __future__ import annotations

import numpy as np


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cross product of [N, 3] arrays (np.cross is several times slower on small rows)."""
    out = np.empty(np.broadcast_shapes(a.shape, b.shape))
    out[:, 0] = a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1]
    out[:, 1] = a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2]
    out[:, 2] = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
    return out


def quat_rotate_inverse(quat: np.ndarray, vec: np.ndarray) -> np.ndarray:
    """Rotate world vectors into the body frame: R(quat)^T @ vec.

    quat: [N, 4] (w, x, y, z), unit. vec: [N, 3] or [3]. Returns [N, 3].
    Uses v' = v - w t + q x t with t = 2 q x v, q the vector part (the inverse rotation).
    """
    w = quat[:, :1]
    q = quat[:, 1:]
    vec = np.broadcast_to(vec, q.shape)
    t = 2.0 * _cross(q, vec)
    return vec - w * t + _cross(q, t)


def quat_rotate(quat: np.ndarray, vec: np.ndarray) -> np.ndarray:
    """Rotate body vectors into the world frame: R(quat) @ vec. Shapes as above."""
    w = quat[:, :1]
    q = quat[:, 1:]
    vec = np.broadcast_to(vec, q.shape)
    t = 2.0 * _cross(q, vec)
    return vec + w * t + _cross(q, t)


def gravity_in_body(quat: np.ndarray) -> np.ndarray:
    """R(quat)^T @ (0, 0, -1) in closed form: the projected gravity [N, 3]."""
    w, x, y, z = quat[:, 0], quat[:, 1], quat[:, 2], quat[:, 3]
    out = np.empty((quat.shape[0], 3))
    out[:, 0] = 2.0 * (w * y - x * z)
    out[:, 1] = -2.0 * (w * x + y * z)
    out[:, 2] = -(1.0 - 2.0 * (x * x + y * y))
    return out


def yaw_of(quat: np.ndarray) -> np.ndarray:
    """Heading (rad) of each quaternion: the angle of the body x axis in the world xy plane. [N]."""
    w, x, y, z = quat[:, 0], quat[:, 1], quat[:, 2], quat[:, 3]
    return np.arctan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


def yaw_quat(yaw: np.ndarray) -> np.ndarray:
    """Quaternions [N, 4] of pure rotations about z by ``yaw`` [N]."""
    half = 0.5 * yaw
    out = np.zeros((yaw.shape[0], 4))
    out[:, 0] = np.cos(half)
    out[:, 3] = np.sin(half)
    return out


def wrap_angle(angle: np.ndarray) -> np.ndarray:
    """Wrap to (-pi, pi]."""
    return np.arctan2(np.sin(angle), np.cos(angle))
