"""Competition points of the obstacle sections, counted per env while episodes run.

Items (the competition rules; radii the rules leave open are our choice, written beside each):

- ``near``: +points the first time the base comes within ``radius`` m (horizontally) of (x, y),
  with the base height in [z_min, z_max] (a smiley zone: any body part entering; we use the base
  within 1.0 m; a red packet: base within 0.6 m; the bridge's packets: on the deck / under it);
- ``region``: +points the first time the base enters a rectangle above ``z_min`` (waves to the
  stairs, stairs to the bridge ...);
- ``ball_rule``: entering the random terrain pays 10, or 15 when a ball was touched on the way;
- ``celebration``: +points once the robot has *celebrated* on the platform (see below).

Celebration, one measurable behaviour: **sit on the platform for 1 s**. The base stays inside the
platform's rectangle, at most ``SIT_HEIGHT`` m above the platform (standing is 0.26 m, so this
needs the legs bent), tilted less than 30 degrees and moving less than 0.2 m/s, for
``CELEBRATION_S`` s without a break.

Points are for entering: a zone or region the episode starts inside (a spawn along the course in
training) pays nothing that episode. A fall or leaving the course zeroes the section the robot is in
at that moment (on the long course the other sections keep what they earned); a section's total is
capped at its published maximum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

SIT_HEIGHT = 0.19  # m, base above the platform while sitting
CELEBRATION_S = 1.0  # s of sitting
CELEBRATION_MAX_SPEED = 0.2  # m/s
CELEBRATION_COS_TILT = float(np.cos(np.radians(30.0)))
BALL_TOUCHED_POINTS = 15.0


@dataclass(frozen=True)
class Item:
    name: str
    section: str
    points: float
    kind: Literal["near", "region", "ball_rule", "celebration"]
    x: float = 0.0
    y: float = 0.0
    radius: float = 0.0
    rect: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # x0, x1, y0, y1
    z_min: float = -np.inf
    z_max: float = np.inf
    platform_z: float = 0.0  # celebration: the platform's top (m)


@dataclass(frozen=True)
class SectionRule:
    name: str  # "section011" ...
    y_from: float  # the robot is "in" this section while its base y >= y_from (and below the next one)
    max_points: float


class Scorer:
    """Batched points of N envs over ``items``; state is plain arrays (checkpointed with the env)."""

    def __init__(self, items: tuple[Item, ...], sections: tuple[SectionRule, ...], num_envs: int,
                 finish_item: str | None) -> None:
        self.items, self.sections = items, sections
        n, m = num_envs, len(items)
        self.section_of_item = np.array([[s.name for s in sections].index(i.section) for i in items])
        self.earned = np.zeros((n, m), dtype=bool)
        self.void = np.zeros((n, m), dtype=bool)  # the episode started inside the item: never entered, never paid
        self.sit_time = np.zeros(n)
        self.ball_touched = np.zeros(n, dtype=bool)
        self.zeroed = np.zeros((n, len(sections)), dtype=bool)
        self.finish_time = np.full(n, np.nan)
        self._finish = [i.name for i in items].index(finish_item) if finish_item else None
        self._y_from = np.array([s.y_from for s in sections])

    STATE = ("earned", "void", "sit_time", "ball_touched", "zeroed", "finish_time")

    def reset(self, rows: np.ndarray, spawn_xy: np.ndarray | None = None) -> None:
        """New episodes in ``rows``; with ``spawn_xy`` [k, 2], zones and regions the robot starts
        inside are void for the episode (points are for entering; a spawn along the course must
        not hand them out)."""
        self.earned[rows] = False
        self.void[rows] = False
        if spawn_xy is not None:
            x, y = spawn_xy[:, 0], spawn_xy[:, 1]
            for j, it in enumerate(self.items):
                if it.kind == "near":
                    self.void[rows, j] = (x - it.x) ** 2 + (y - it.y) ** 2 < it.radius ** 2
                elif it.kind != "celebration":  # sitting on the platform is earned, wherever the start
                    x0, x1, y0, y1 = it.rect
                    self.void[rows, j] = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
        self.sit_time[rows] = 0.0
        self.ball_touched[rows] = False
        self.zeroed[rows] = False
        self.finish_time[rows] = np.nan

    def section_index(self, y: np.ndarray) -> np.ndarray:
        return np.clip(np.searchsorted(self._y_from, y, side="right") - 1, 0, len(self.sections) - 1)

    def update(self, base: np.ndarray, up_z: np.ndarray, planar_speed: np.ndarray, ground: np.ndarray,
               failed: np.ndarray, touching_ball: np.ndarray, time_s: np.ndarray, dt: float) -> np.ndarray:
        """One control step. base [N, 3] m; up_z [N] (cos of tilt); ground [N] m under the base;
        failed [N] bool (fell or left the course this step); touching_ball [N]; time_s [N] episode time.
        Returns the points [N] earned this step (before any zeroing: a fall's cost is the env's)."""
        x, y, z = base[:, 0], base[:, 1], base[:, 2]
        alive = ~failed
        gained = np.zeros(len(x))
        self.ball_touched |= touching_ball & alive
        sitting = (z - ground < SIT_HEIGHT) & (up_z > CELEBRATION_COS_TILT) & (planar_speed < CELEBRATION_MAX_SPEED)
        for j, it in enumerate(self.items):
            zok = (z >= it.z_min) & (z <= it.z_max)
            if it.kind == "near":
                hit = ((x - it.x) ** 2 + (y - it.y) ** 2 < it.radius ** 2) & zok
            else:
                x0, x1, y0, y1 = it.rect
                hit = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1) & zok
                if it.kind == "celebration":
                    on = hit & sitting & (np.abs(ground - it.platform_z) < 0.05)
                    self.sit_time = np.where(on, self.sit_time + dt, np.where(hit, 0.0, self.sit_time))
                    hit = on & (self.sit_time >= CELEBRATION_S - 1e-9)
            new = hit & alive & ~self.earned[:, j] & ~self.void[:, j]
            self.earned[:, j] |= new
            if new.any():
                value = np.where(self.ball_touched, BALL_TOUCHED_POINTS, it.points) if it.kind == "ball_rule" \
                    else it.points
                gained += new * value
            if self._finish == j:
                self.finish_time = np.where(new, time_s, self.finish_time)
        where = self.section_index(y)
        self.zeroed[np.flatnonzero(failed), where[failed]] = True
        return gained

    def points(self, rows: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Per item and per section points of ``rows`` (all envs when None): {name: [K]}, with
        ``<section>`` totals (zeroed sections 0, capped at the maximum) and ``total``."""
        earned = self.earned if rows is None else self.earned[rows]
        zeroed = self.zeroed if rows is None else self.zeroed[rows]
        touched = self.ball_touched if rows is None else self.ball_touched[rows]
        out: dict[str, np.ndarray] = {}
        for j, it in enumerate(self.items):
            value = np.full(len(earned), float(it.points))
            if it.kind == "ball_rule":
                value = np.where(touched, BALL_TOUCHED_POINTS, value)
            out[it.name] = value * earned[:, j] * ~zeroed[:, self.section_of_item[j]]
        total = np.zeros(len(earned))
        for s, rule in enumerate(self.sections):
            mine = [it.name for j, it in enumerate(self.items) if self.section_of_item[j] == s]
            section_total = np.minimum(sum((out[k] for k in mine), np.zeros(len(earned))), rule.max_points)
            out[rule.name] = section_total
            total += section_total
        out["total"] = total
        return out

    def get_state(self) -> dict[str, np.ndarray]:
        return {f"score_{k}": getattr(self, k).copy() for k in self.STATE}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        for k in self.STATE:  # a state saved before ``void`` existed: nothing was void then
            getattr(self, k)[:] = state.get(f"score_{k}", 0)
