"""Options of the navigation env (YAML ``env:``): spawns, sensor noise, the terrain curriculum's levels."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from vbot_agent.errors import UsageError
from vbot_agent.sim.randomization import RandomizationConfig

CONTROL_DT = 0.01  # s; the competition's 100 Hz


@dataclass(frozen=True)
class SpawnConfig:
    """Where robots start and where their targets are.

    ``random``: the target lies within ``target_area_radius`` of the centre; the robot starts
    ``target_distance`` m away from it, turned so that the target is at a bearing in
    ``target_bearing`` (rad, 0 = straight ahead). ``competition``: robots start on a ring of radius
    ``ring_radius`` around the centre, which is the target. ``course`` (terrain sections): the robot
    starts at a checkpoint of the section's course and its target is a later checkpoint, each
    moved up to ``course_jitter`` m sideways; ``target_bearing`` turns it as for ``random``.
    ``auto``: ``course`` on a terrain with a course, ``random`` otherwise.
    """

    layout: Literal["auto", "random", "competition", "course"] = "auto"
    target_distance: tuple[float, float] = (3.0, 8.0)
    target_bearing: tuple[float, float] = (-math.pi, math.pi)
    target_area_radius: float = 2.0
    target_yaw: tuple[float, float] = (-math.pi, math.pi)
    ring_radius: tuple[float, float] = (10.0, 12.0)
    joint_noise: float = 0.1  # rad, uniform around the default pose at reset
    course_jitter: float = 0.3  # m, sideways spread of course spawns and targets
    # Courses: "start" spawns in the course's start area (the competition's rule), "anywhere" at a
    # random waypoint, heading for the next one (training: every part of the course gets practice),
    # "mixed" half of each (the start area's first steps get practice too).
    course_start: Literal["start", "anywhere", "mixed"] = "start"

    def __post_init__(self) -> None:
        from vbot_agent.sim.terrain import ARENA_RADIUS

        for name in ("target_distance", "target_bearing", "target_yaw", "ring_radius"):
            lo, hi = getattr(self, name)
            if lo > hi:
                raise UsageError(f"env.spawn.{name} must be [low, high] with low <= high, got [{lo:g}, {hi:g}]")
        for name, value in (("target_distance", self.target_distance[0]), ("ring_radius", self.ring_radius[0]),
                            ("target_area_radius", self.target_area_radius), ("joint_noise", self.joint_noise),
                            ("course_jitter", self.course_jitter)):
            if value < 0:
                raise UsageError(f"env.spawn.{name} must be >= 0, got {value:g}")
        if self.layout != "course":  # the flat arena's disc must hold every spawn (courses ignore these)
            farthest = {"target_area_radius + target_distance": self.target_area_radius + self.target_distance[1],
                        "ring_radius": self.ring_radius[1]}
            for what, reach in farthest.items():
                if reach > ARENA_RADIUS:
                    raise UsageError(f"env.spawn: {what} reaches {reach:g} m from the centre, off the flat arena's "
                                     f"{ARENA_RADIUS:g} m disc")


@dataclass(frozen=True)
class NoiseConfig:
    """Uniform observation noise, +-level * scale per component, applied only when ``enabled``."""

    enabled: bool = False
    scale: float = 1.0
    lin_vel: float = 0.1
    ang_vel: float = 0.2
    gravity: float = 0.05
    joint_pos: float = 0.01
    joint_vel: float = 1.5
    height_scan: float = 0.02


@dataclass(frozen=True)
class LevelConfig:
    """The training terrain's difficulty levels (``vbot_navigation_terrain``; ignored elsewhere).

    Robots start at a random level in [0, ``start_max``]; with ``fixed`` they stay there (e.g. level
    0, flat tiles, for a first stage), otherwise each episode's end moves them (``courses/training.py``).
    """

    start_max: int = 0
    fixed: bool = False

    def __post_init__(self) -> None:
        from vbot_agent.sim.courses.training import NUM_LEVELS

        if isinstance(self.start_max, bool) or not isinstance(self.start_max, int) \
                or not 0 <= self.start_max < NUM_LEVELS:
            raise UsageError(f"env.levels.start_max must be a level 0..{NUM_LEVELS - 1}, got {self.start_max!r}")


@dataclass(frozen=True)
class NavConfig:
    """Env options (YAML ``env:``). Reward settings live beside it in ``RewardConfig``."""

    episode_length_s: float = 20.0
    action_scale: float = 0.25  # rad per unit of smoothed action
    action_smoothing: float = 0.3  # weight of the new action in the low-pass filter
    reach_radius: float = 0.3  # m, "at the target" (the competition's centre)
    inner_fence: float = 0.75  # m, the competition's inner fence
    max_tilt_deg: float = 75.0
    max_joint_speed: float = 100.0  # rad/s; beyond it the state has blown up
    spawn: SpawnConfig = field(default_factory=SpawnConfig)
    noise: NoiseConfig = field(default_factory=NoiseConfig)
    randomization: RandomizationConfig = field(default_factory=RandomizationConfig)
    levels: LevelConfig = field(default_factory=LevelConfig)

    def __post_init__(self) -> None:
        lo, hi = self.spawn.target_distance
        if not 0 < lo <= hi:
            raise UsageError(f"env.spawn.target_distance must be 0 < min <= max, got {self.spawn.target_distance}")
        r_lo, r_hi = self.spawn.ring_radius
        if not 0 < r_lo <= r_hi:
            raise UsageError(f"env.spawn.ring_radius must be 0 < min <= max, got {self.spawn.ring_radius}")
        if not 0 < self.action_smoothing <= 1:
            raise UsageError(f"env.action_smoothing must be in (0, 1], got {self.action_smoothing}")
        if not 10.0 <= self.max_tilt_deg <= 90.0:
            raise UsageError(f"env.max_tilt_deg must be in [10, 90], got {self.max_tilt_deg}")
        if self.spawn.course_jitter < 0 or self.spawn.course_jitter > 2.0:
            raise UsageError(f"env.spawn.course_jitter must be in [0, 2] m, got {self.spawn.course_jitter}")
        if self.episode_length_s < CONTROL_DT:
            raise UsageError(f"env.episode_length_s must be at least {CONTROL_DT}")


