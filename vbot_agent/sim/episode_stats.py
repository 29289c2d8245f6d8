"""What an env reports about each finished episode (``info["episode"]``, see ``contract.py``)."""

from __future__ import annotations

import numpy as np

from vbot_agent.sim import course_env


def episode_stats(env, done, fell, truncated, distance) -> dict[str, np.ndarray]:
    """Per finished episode (rows where ``done`` [N]): return, length, success, fall, time to target,
    final distance, truncation and points; a course adds its section points."""
    rows = np.flatnonzero(done)
    success = env.reached[rows] & ~fell[rows]
    points = (env.fence_reached[rows].astype(np.int64) + env.reached[rows]) * ~fell[rows]
    stats = {
        "return": env.episode_return[rows].copy(),
        "length": env.episode_step[rows].copy(),
        "success": success,
        "fall": fell[rows].copy(),
        "time_to_target_s": env.time_to_target[rows].copy(),
        "final_distance": distance[rows].copy(),
        "truncated": truncated[rows].copy(),
        "points": points,
    }
    if env.tracker is not None:  # the competition's points of the course (replacing the arena's)
        stats.update(course_env.episode_points(env, rows))
    return stats
