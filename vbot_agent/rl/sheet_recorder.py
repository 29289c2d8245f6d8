"""``vbot play --frames sheet.png``: a dozen moments of the first robot's first episode on one image.

Every control step keeps only the physics state of row 0 (~0.5 KB) and the numbers for the captions;
the frames are rendered at the end, only for the chosen moments, so the cost is a dozen renders
whatever the episode length. Used through the recorder protocol of ``vbot_agent.rl.recording``.
"""

from __future__ import annotations

import numpy as np

from vbot_agent.errors import VbotError
from vbot_agent.rl.recording import ROW, check_renderable, check_suffix

SHEET_FRAMES = 12
TERMS_PER_CAPTION = 2  # the largest reward terms by magnitude shown under each frame
TERMS_IN_SUMMARY = 6


class ContactSheetRecorder:
    """Records one row's first episode (row 0 unless ``row``); ``close()`` renders ``frames`` evenly spaced moments into a PNG."""

    def __init__(self, path: str, *, title: str, frames: int = SHEET_FRAMES, row: int = ROW) -> None:
        self.path = check_suffix(path, "--frames", ".png")
        self.row = row
        self.title, self.frames = title, frames
        self.env = None
        self.states: list[np.ndarray] = []  # [nstate] physics state after each step
        self.parts: list[dict[str, float]] = []  # scaled reward terms paid at each step
        self.reached_at: float | None = None  # s, first time within the reach radius
        self.end: str | None = None  # "fell" or "time limit" once the episode ended

    def bind(self, env) -> None:
        check_renderable(env, "--frames")
        self.env = env
        self.target = env.target[self.row].copy()
        self.target_yaw = float(env.target_yaw[self.row])

    def on_step(self, terminated: np.ndarray, truncated: np.ndarray) -> None:
        env = self.env
        if self.end is not None:
            return
        if not self.parts:  # the episode's own target: the evaluation resets the env after bind()
            self.target = env.target[self.row].copy()
            self.target_yaw = float(env.target_yaw[self.row])
        # The terms of the last step (the fall penalty, the arrival bonus) are paid before the reset.
        self.parts.append({k: float(v[self.row]) for k, v in getattr(env, "last_reward_parts", {}).items()})
        if terminated[self.row] or truncated[self.row]:
            self.end = "fell" if terminated[self.row] else "time limit"
            return
        self.states.append(env.physics.state[self.row].copy())
        if self.reached_at is None and bool(env.reached[self.row]):
            self.reached_at = len(self.parts) * env.control_dt

    def discard(self) -> None:
        """Nothing was written yet (the sheet is drawn in ``close``); drop what was recorded."""
        self.states.clear()
        self.parts.clear()

    def close(self) -> str:
        from vbot_agent.sim.contact_sheet import compose_sheet
        from vbot_agent.sim.render import save_png

        if self.env is None:
            raise VbotError("--frames: the recorder was never attached to an env")
        if not self.states:
            raise VbotError("--frames: the episode ended on its first step; nothing to draw")
        trace = _Trace(self.env, np.asarray(self.states), self.target)
        picks = pick_frames(len(self.states), self.frames)
        panels = self._panels(trace, picks)
        sheet = compose_sheet([self.title, self._outcome(trace)], panels, self._path_map(trace, picks))
        return str(save_png(sheet, self.path))

    # -- pieces of the sheet --------------------------------------------------------------------
    def _panels(self, trace: _Trace, picks: np.ndarray):
        from vbot_agent.sim.contact_sheet import DIM, TILE_H, TILE_W, Panel
        from vbot_agent.sim.render import SceneRenderer

        renderer = SceneRenderer(self.env, width=TILE_W, height=TILE_H)  # MuJoCo's multisampling smooths edges
        renderer.camera.distance = 1.4  # m; closer than the video's chase camera, so the legs show at tile size
        panels = []
        try:
            for index, (start, stop) in zip(picks, reward_windows(picks, len(self.parts))):
                window = _sum_terms(self.parts[start:stop])
                image = renderer.render_state(self.states[index], self.target, self.target_yaw)
                caption = (
                    f"t {trace.time[index]:.2f} s   {trace.distance[index]:.2f} m to go   {trace.speed[index]:.2f} m/s",
                    [(f"trunk {trace.height[index]:.2f} m high, tilt {trace.tilt_deg[index]:.0f}°", DIM)],
                    _term_segments(window, TERMS_PER_CAPTION),
                )
                panels.append(Panel(image, caption))
        finally:
            renderer.close()
        return panels

    def _outcome(self, trace: _Trace):
        from vbot_agent.sim.contact_sheet import BAD, GOOD, TEXT, WARN

        total = sum(sum(p.values()) for p in self.parts)
        end_s = len(self.parts) * self.env.control_dt
        if self.end == "fell":
            verdict, colour = f"FELL at {end_s:.2f} s", BAD
        elif self.reached_at is not None:
            verdict, colour = f"reached the target at {self.reached_at:.2f} s", GOOD
        else:
            verdict, colour = f"time limit {end_s:.1f} s, {trace.distance[-1]:.2f} m short", WARN
        if self.end is None:
            verdict, colour = f"still running at {end_s:.1f} s (evaluation stopped)", WARN
        return [(f"{self.env.env_id}, robot {self.row}: ", TEXT), (verdict, colour),
                (f";  return {total:+.2f};  started {trace.distance[0]:.2f} m from the target", TEXT)]

    def _path_map(self, trace: _Trace, picks: np.ndarray):
        from vbot_agent.sim.contact_sheet import DIM, PathMap

        walked = float(np.sum(np.linalg.norm(np.diff(trace.xy, axis=0), axis=1)))
        closer = float(trace.distance[0] - trace.distance[-1])
        config = getattr(self.env, "config", None)
        notes = [
            "top-down path (numbers = frames)",
            f"walked {walked:.2f} m, " + (f"{closer:.2f} m closer" if closer >= 0 else f"{-closer:.2f} m farther"),
            f"mean speed {float(np.mean(trace.speed)):.2f} m/s",
            "",
            "reward over the episode:",
            *[_term_segments({k: v}, 1) for k, v in _largest(_sum_terms(self.parts), TERMS_IN_SUMMARY)
              if abs(v) >= 5e-3],
            "",
            *[[(text, DIM)] for text in ("Under each frame: time, distance", "to the target, planar speed; trunk",
                                         "height and tilt; the two reward", "terms largest in magnitude since",
                                         "the previous frame.")],
        ]
        return PathMap(trace.xy, self.target, reach_radius=getattr(config, "reach_radius", 0.3),
                       fence_radius=getattr(config, "inner_fence", 0.75), marks=tuple(int(i) for i in picks),
                       fell=self.end == "fell", notes=tuple(notes))


def pick_frames(num_states: int, frames: int) -> np.ndarray:
    """Indices of ``frames`` recorded states spread evenly from the first to the last (fewer when the
    episode has fewer states); sorted, unique."""
    return np.unique(np.linspace(0, num_states - 1, min(frames, num_states)).round().astype(int))


def reward_windows(picks: np.ndarray, num_steps: int) -> list[tuple[int, int]]:
    """Per picked frame, the steps ``[start, stop)`` whose reward its caption sums: those since the
    previous frame, up to and including its own. The windows tile ``[0, num_steps)``: the last frame
    also takes the steps after it (the final step's fall penalty or arrival bonus)."""
    windows, start = [], 0
    for n, index in enumerate(picks):
        stop = num_steps if n == len(picks) - 1 else int(index) + 1
        windows.append((start, stop))
        start = stop
    return windows


class _Trace:
    """Per-step quantities of the recorded states [T, nstate]: time (s), base xy (m), distance to the
    target (m), planar speed (m/s), base height above the ground under it (m) and tilt from upright
    (degrees)."""

    def __init__(self, env, states: np.ndarray, target: np.ndarray) -> None:
        layout = env.physics.layout
        qpos, qvel = states[:, layout.qpos], states[:, layout.qvel]
        self.time = (np.arange(len(states)) + 1) * env.control_dt
        self.xy = qpos[:, 0:2]
        self.distance = np.linalg.norm(target[None, :] - self.xy, axis=1)
        self.speed = np.linalg.norm(qvel[:, 0:2], axis=1)
        # above the ground under the base (a course's stairs and platforms), as the skills read it
        self.height = qpos[:, 2] - env.terrain.height(self.xy[:, 0], self.xy[:, 1])
        qx, qy = qpos[:, 4], qpos[:, 5]  # free joint quaternion (w, x, y, z) at qpos[3:7]
        # body z axis against world z: cos(tilt) = 1 - 2 (x^2 + y^2)
        self.tilt_deg = np.degrees(np.arccos(np.clip(1.0 - 2.0 * (qx**2 + qy**2), -1.0, 1.0)))


def _sum_terms(parts: list[dict[str, float]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for step in parts:
        for key, value in step.items():
            out[key] = out.get(key, 0.0) + value
    return out


def _largest(terms: dict[str, float], count: int) -> list[tuple[str, float]]:
    return sorted(terms.items(), key=lambda kv: -abs(kv[1]))[:count]


def _term_segments(terms: dict[str, float], count: int):
    from vbot_agent.sim.contact_sheet import BAD, DIM, GOOD

    top = [(k, v) for k, v in _largest(terms, count) if abs(v) >= 5e-3]
    if not top:
        return [("reward terms ~0", DIM)]
    segments = []
    for key, value in top:
        segments.append((f"{key} {value:+.2f}  ", GOOD if value > 0 else BAD))
    return segments

