"""Per-env course progress: gates (waypoints), stagnation windows, levels, balls and points.

The navigation env owns one ``CourseTracker`` on a course terrain. Each env has its own gate list
[G, 2] (on the training terrain the gates depend on its tile) and walks them in order: its target
is the current gate; coming within the course's ``gate_radius`` of a gate that is not the last
passes it (the ``waypoint`` reward) and the next one becomes the target. The last gate is the
target proper (the env's reach radius, arrival, hold).
"""

from __future__ import annotations

import numpy as np

from vbot_agent.sim.courses.training import NUM_LEVELS, TYPES, TrainingTerrain, next_levels

STAGNATION_STEPS = 100  # control steps per stagnation window (1 s)
STAGNATION_M = 0.1  # m of course progress a window must show


class CourseTracker:
    def __init__(self, terrain, num_envs: int, config) -> None:
        self.terrain = terrain
        self.config = config
        n, g = num_envs, len(terrain.waypoints)
        self.gates = np.tile(terrain.course, (n, 1, 1))
        self.gate_index = np.zeros(n, dtype=np.int64)
        self.window_left = np.zeros(n)
        self.spawn_left = np.ones(n)
        self.scorer = terrain.scorer(n) if terrain.items else None
        self.balls = terrain.balls
        self.ball_phase = np.zeros((n, self.balls.count if self.balls else 0))
        self.training = isinstance(terrain, TrainingTerrain)
        self.level = np.zeros(n, dtype=np.int64)
        self.kind = np.zeros(n, dtype=np.int64)
        self._levels_drawn = False
        self.num_gates = g
        # an x-symmetric course: a robot starting at x > 0 walks the gates mirrored (nearest zone first)
        self.mirror_x = bool(getattr(terrain, "mirror_x", False))

    STATE = ("gates", "gate_index", "window_left", "spawn_left", "ball_phase", "level", "kind")

    # ------------------------------------------------------------------ episodes
    def spawn(self, rows: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """New episodes in ``rows``: spawn points [k, 2], first targets [k, 2]; gates and counters set."""
        k = len(rows)
        s = self.config.spawn
        if self.training:
            if not self._levels_drawn:  # first episodes: levels from the config
                self.level[:] = rng.integers(0, self.config.levels.start_max + 1, len(self.level))
                self._levels_drawn = True
            self.kind[rows] = rng.integers(0, len(TYPES), k)
            spawn, gates = self.terrain.spawn_on_tiles(self.level[rows], self.kind[rows], rng, s.course_jitter)
            self.gates[rows] = gates
            first = np.zeros(k, dtype=np.int64)
        else:
            x0, x1, y0, y1 = self.terrain.spawn
            spawn = np.stack([rng.uniform(x0, x1, k), rng.uniform(y0, y1, k)], axis=1)
            first = np.zeros(k, dtype=np.int64)
            if self.mirror_x:
                course = self.terrain.course
                self.gates[rows] = np.where((spawn[:, 0] > 0)[:, None, None], course * [-1.0, 1.0], course)
            at_gate = np.zeros(k, dtype=bool)
            if s.course_start != "start" and self.num_gates > 1:  # (the reward audit may leave one gate)
                at_gate = np.ones(k, dtype=bool) if s.course_start == "anywhere" else rng.random(k) < 0.5
            if at_gate.any():  # spawn at a gate of the course as written, heading for the next one
                g = int(at_gate.sum())
                start = rng.integers(0, self.num_gates - 1, g)
                self.gates[rows[at_gate]] = self.terrain.course
                spawn[at_gate] = self.terrain.course[start] + rng.uniform(-s.course_jitter, s.course_jitter, (g, 2))
                first[at_gate] = start + 1
        self.gate_index[rows] = first
        left = self.path_left(rows, spawn)
        self.window_left[rows] = left
        self.spawn_left[rows] = np.maximum(left, 1e-6)
        if self.balls is not None:
            self.ball_phase[rows] = self.balls.draw_phases(k, rng)
        if self.scorer is not None:
            self.scorer.reset(rows, spawn)
        return spawn, self.gates[rows, first]

    def end_episodes(self, rows: np.ndarray, fell: np.ndarray, reached: np.ndarray, xy: np.ndarray,
                     rng: np.random.Generator) -> None:
        """Training terrain: move the robots of finished episodes up or down a level."""
        if not self.training or self.config.levels.fixed or len(rows) == 0:
            return
        covered = 1.0 - self.path_left(rows, xy) / self.spawn_left[rows]
        self.level[rows] = next_levels(self.level[rows], reached, fell, covered, rng)

    # ------------------------------------------------------------------ steps
    def current_target(self) -> np.ndarray:
        return self.gates[np.arange(len(self.gate_index)), self.gate_index]

    def path_left(self, rows: np.ndarray, xy: np.ndarray) -> np.ndarray:
        """m from ``xy`` [k, 2] along the remaining gates of ``rows`` to the last gate."""
        gates = self.gates[rows]
        idx = self.gate_index[rows]
        seg = np.linalg.norm(np.diff(gates, axis=1), axis=2)  # [k, G-1]
        after = np.cumsum(seg[:, ::-1], axis=1)[:, ::-1]  # path from gate j to the last gate
        after = np.concatenate([after, np.zeros((len(rows), 1))], axis=1)
        return np.linalg.norm(gates[np.arange(len(rows)), idx] - xy, axis=1) + after[np.arange(len(rows)), idx]

    def passed_gates(self, distance: np.ndarray, fell: np.ndarray) -> np.ndarray:
        """[N] bool: the current gate is passed this step (never the last one)."""
        return (distance < self.terrain.gate_radius) & (self.gate_index < self.num_gates - 1) & ~fell

    def advance(self, passed: np.ndarray) -> None:
        self.gate_index += passed

    def stagnation(self, episode_step: np.ndarray, xy: np.ndarray, finished: np.ndarray) -> np.ndarray:
        """[N] bool: a 1 s window just ended with less than 0.1 m of course progress (not once finished)."""
        due = (episode_step % STAGNATION_STEPS) == STAGNATION_STEPS - 1
        rows = np.flatnonzero(due)
        stalled = np.zeros(len(due), dtype=bool)
        if len(rows):
            left = self.path_left(rows, xy[rows])
            stalled[rows] = (self.window_left[rows] - left < STAGNATION_M) & ~finished[rows]
            self.window_left[rows] = left
        return stalled

    def next_gates(self) -> np.ndarray:
        """The two gates after the current one [N, 2, 2] (the last gate repeats at the end)."""
        n = len(self.gate_index)
        idx = np.minimum(self.gate_index[:, None] + np.array([1, 2]), self.num_gates - 1)
        return self.gates[np.arange(n)[:, None], idx]

    def relaunch_balls(self, state: np.ndarray, qpos0: int, qvel0: int, robot_nq: int, robot_nv: int,
                       time_s: np.ndarray, dt: float) -> None:
        """Write the balls due for launch this step into the physics ``state`` rows (in place)."""
        if self.balls is None:
            return
        due, side = self.balls.launches(time_s, self.ball_phase, dt)
        for b in range(self.balls.count):
            rows = np.flatnonzero(due[:, b])
            if len(rows) == 0:
                continue
            qpos, qvel = self.balls.launch_state(b, side[rows, b])
            q, v = qpos0 + robot_nq + 7 * b, qvel0 + robot_nv + 6 * b
            state[rows, q:q + 7] = qpos
            state[rows, v:v + 6] = qvel

    def ball_centres(self, qpos: np.ndarray, robot_nq: int) -> np.ndarray:
        """[N, B, 3] centres of the balls from the physics qpos [N, nq]."""
        b = self.balls.count
        return qpos[:, robot_nq:robot_nq + 7 * b].reshape(-1, b, 7)[:, :, 0:3]

    # ------------------------------------------------------------------ checkpoint state
    def get_state(self) -> dict[str, np.ndarray]:
        out = {f"course_{k}": getattr(self, k).copy() for k in self.STATE}
        out["course_levels_drawn"] = np.array(self._levels_drawn)
        if self.scorer is not None:
            out.update(self.scorer.get_state())
        return out

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        for k in self.STATE:
            getattr(self, k)[:] = state[f"course_{k}"]
        self._levels_drawn = bool(state["course_levels_drawn"])
        if self.scorer is not None:
            self.scorer.set_state(state)


__all__ = ["NUM_LEVELS", "CourseTracker"]
