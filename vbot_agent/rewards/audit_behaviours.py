"""The audit's reference behaviours, the exploits they stand for, and the path they follow on a course.

On the flat arena every behaviour walks the straight line from the spawn to the target. On a course
they follow the gates from the spawn, and two more wrong behaviours join:

- ``farm_waypoint``: walk to the first gate and step in and out of it for the rest of the episode
  (a gate reward paid on every entry would be farmed);
- ``stop_midway``: walk half the way and stand there, on a stair on section 012 (the lazy robot of
  the courses: what it earned on the way must not outweigh walking on).
"""

from __future__ import annotations

import numpy as np

RIGHT = "walk_and_stop"
BEHAVIOURS = (RIGHT, "stand_still", "hover_at_edge", "reach_and_farm", "sprint_and_fall", "fall_at_once")
COURSE_BEHAVIOURS = (*BEHAVIOURS, "farm_waypoint", "stop_midway")
# The exploit each wrong behaviour stands for, used in flags and by the reward library.
EXPLOITS = {
    "stand_still": "lazy_robot",
    "hover_at_edge": "hover",
    "reach_and_farm": "reach_and_farm",
    "sprint_and_fall": "sprint_and_crash",
    "fall_at_once": "die_early",
    "farm_waypoint": "waypoint_farming",
    "stop_midway": "stand_on_stairs",
}
EPISODE_SHARE = 0.7  # the walk must fit in this share of the episode, leaving time to stop and hold


def course_path(env, distance: float | None, walk_speed: float) -> np.ndarray:
    """[P, 2] the spawn of env row 0, then its gates in order (m), cut at the gate nearest
    ``distance`` m of path (None: all) and so that walking it takes at most 70% of the episode."""
    spawn = env.physics.state[0, env._qpos][0:2].copy()
    tr = env.tracker
    path = np.concatenate([spawn[None], tr.gates[0, tr.gate_index[0]:tr.num_gates]])
    cum = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(path, axis=0), axis=1))])
    keep = len(path)
    if distance is not None:
        keep = 1 + int(np.argmin(np.abs(cum[1:] - distance))) + 1
    budget = EPISODE_SHARE * env.max_episode_steps * env.control_dt * walk_speed
    keep = max(2, min(keep, int(np.searchsorted(cum, budget, side="right"))))
    return path[:keep]
