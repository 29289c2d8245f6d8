"""What ``vbot play`` records of the first robot's first episode: an mp4 streamed to the encoder frame
by frame (``--video``) and a contact sheet of a dozen moments (``--frames``).

A recorder is used as ``recorder.bind(env)`` once, then ``recorder.on_step(terminated, truncated)``
after every ``env.step`` (arrays [N] bool), then ``recorder.close() -> str`` (the file written).
Both follow env row 0 only, and only until its first episode ends: the env resets a finished row
inside ``step``, so from that step on row 0 shows the next episode.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from vbot_agent.errors import UsageError, VbotError

ROW = 0  # the recorded robot unless `--robot` names another
VIDEO_FPS = 30.0  # target frame rate; the real one is 1 / (a whole number of control steps)
VIDEO_SIZE = (640, 480)  # px


def check_renderable(env, flag: str) -> None:
    """UsageError unless ``env`` is a VBot env (MuJoCo model, batched physics, targets)."""
    if not all(hasattr(env, name) for name in ("model", "physics", "target", "target_yaw")):
        raise UsageError(f"{flag}: env {env.env_id} cannot render (VBot envs only)")


def check_suffix(path: str, flag: str, suffix: str) -> Path:
    if not path.lower().endswith(suffix):
        raise UsageError(f"{flag} {path}: the file name must end in {suffix}")
    return Path(path)


class StepProgress:
    """A progress bar on ``stream`` (stderr): redrawn in place on a terminal, else one line per 10%."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.label, self.total = label, max(1, total)
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.monotonic()
        self._last_draw = -1.0
        self._last_decile = -1

    def update(self, done: int) -> None:
        fraction = min(done / self.total, 1.0)
        elapsed = time.monotonic() - self.started
        if self.tty:
            now = time.monotonic()
            if now - self._last_draw < 0.2 and done < self.total:
                return
            self._last_draw = now
            bar = "#" * int(28 * fraction)
            self.stream.write(f"\r{self.label} [{bar:<28}] {done}/{self.total} {elapsed:5.1f} s")
            self.stream.flush()
        elif int(fraction * 10) > self._last_decile:
            self._last_decile = int(fraction * 10)
            print(f"{self.label}: {fraction:4.0%} ({done}/{self.total}, {elapsed:.1f} s)", file=self.stream, flush=True)

    def finish(self, summary: str) -> None:
        """The closing line, e.g. ``video out.mp4: 667 frames written, ... (41.3 s)``."""
        if self.tty and self._last_draw >= 0:
            self.stream.write("\n")  # keep the finished bar
        elapsed = time.monotonic() - self.started
        print(f"{self.label}: {summary} ({elapsed:.1f} s)", file=self.stream, flush=True)


# x264 with its default look-ahead and frame threads holds ~120 MB of frames; a fast preset without
# look-ahead or B-frames, one thread, holds ~60 MB (files a little larger; flat-shaded renders compress well).
X264_PARAMS = ["-preset", "veryfast", "-tune", "zerolatency", "-threads", "1"]


def _ffmpeg_writer(path: Path, fps: float):
    """imageio-ffmpeg's streaming writer: each appended frame is piped to ffmpeg at once."""
    import imageio.v2 as imageio

    return imageio.get_writer(path, format="FFMPEG", mode="I", fps=fps, macro_block_size=1, ffmpeg_params=X264_PARAMS)


class VideoRecorder:
    """One row's first episode (row 0 unless ``row``) as an mp4: each rendered frame goes straight to the encoder, so memory
    holds one frame whatever the episode length. ``writer_factory(path, fps)`` returns an object with
    ``append_data(frame)`` and ``close()`` (tests pass a fake)."""

    def __init__(self, path: str, *, size: tuple[int, int] = VIDEO_SIZE, stream: TextIO | None = None,
                 writer_factory: Callable[[Path, float], Any] = _ffmpeg_writer, row: int = ROW) -> None:
        self.path = check_suffix(path, "--video", ".mp4")
        self.row = row
        self.size, self.stream, self.writer_factory = size, stream, writer_factory
        self.frames = 0
        self.fps = VIDEO_FPS
        self._writer: Any = None
        self._ended = False

    def bind(self, env) -> None:
        check_renderable(env, "--video")
        from vbot_agent.sim.render import SceneRenderer

        self.env = env
        self.renderer = SceneRenderer(env, width=self.size[0], height=self.size[1])
        self.frame_every = max(1, round(1.0 / (VIDEO_FPS * env.control_dt)))  # control steps per frame
        self.fps = 1.0 / (self.frame_every * env.control_dt)
        self._step = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = self.writer_factory(self.path, self.fps)
        expected = -(-env.max_episode_steps // self.frame_every) if env.max_episode_steps > 0 else 0
        self.progress = StepProgress(f"video {self.path.name}", expected, self.stream)

    def on_step(self, terminated: np.ndarray, truncated: np.ndarray) -> None:
        if self._ended:
            return
        if terminated[self.row] or truncated[self.row]:  # the row already shows its next episode
            self._ended = True
            return
        if self._step % self.frame_every == 0:
            self._writer.append_data(self.renderer.render(self.row))
            self.frames += 1
            self.progress.update(self.frames)
        self._step += 1

    def discard(self) -> None:
        """Stop after a failure or Ctrl-C: close the encoder and delete the unfinished file."""
        if self._writer is not None:
            self._writer.close()
            self.renderer.close()
            self._writer = None
            self.path.unlink(missing_ok=True)

    def close(self) -> str:
        if self._writer is None:
            raise VbotError("--video: the recorder was never attached to an env")
        self._writer.close()
        self.renderer.close()
        if not self.frames:
            self.path.unlink(missing_ok=True)
            raise VbotError("--video: no frames were rendered (the episode ended on its first step)")
        self.progress.finish(f"{self.frames} frames written, {self.frames / self.fps:.1f} s of video at {self.fps:.1f} fps")
        return str(self.path)
