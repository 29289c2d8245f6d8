"""``vbot play --video`` streams frames (bounded memory, a valid mp4) and ``--frames`` draws a contact
sheet of the first robot's first episode. Real VBot env, headless rendering, tiny frames."""

from __future__ import annotations

import itertools
import tracemalloc

import numpy as np
import pytest

from vbot_agent.errors import UsageError
from vbot_agent.rl.envs import make_env
from vbot_agent.rl.evaluate import run_episodes
from vbot_agent.rl.recording import VideoRecorder
from vbot_agent.rl.sheet_recorder import ContactSheetRecorder, pick_frames, reward_windows
from vbot_agent.sim.contact_sheet import mark_labels, place_label

ENV = "vbot_navigation_section001"
SMALL = (64, 48)  # px: the memory test needs many frames, not big ones


def _stand(obs: np.ndarray) -> np.ndarray:
    return np.zeros((len(obs), 12), np.float32)


class CountingWriter:
    """Stands in for the ffmpeg writer: keeps no frame, notes when each one arrived."""

    def __init__(self, path, fps) -> None:
        self.arrivals: list[int] = []  # env steps taken when each frame was appended
        self.shapes: set[tuple[int, ...]] = set()
        self.closed = False
        self.steps = 0

    def append_data(self, frame: np.ndarray) -> None:
        assert not self.closed
        self.arrivals.append(self.steps)
        self.shapes.add(frame.shape)

    def close(self) -> None:
        self.closed = True


def _record_video(tmp_path, episode_s: float, num_envs: int = 1):
    env = make_env(ENV, num_envs, seed=0, env={"episode_length_s": episode_s})
    writers: list[CountingWriter] = []

    def factory(path, fps):
        writers.append(CountingWriter(path, fps))
        return writers[-1]

    recorder = VideoRecorder(str(tmp_path / "v.mp4"), size=SMALL, writer_factory=factory)
    try:
        recorder.bind(env)

        def on_step(terminated, truncated):
            writers[0].steps += 1
            recorder.on_step(terminated, truncated)

        tracemalloc.start()
        run_episodes(_stand, env, seed=0, on_step=on_step)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        recorder.close()
    finally:
        env.close()
    return recorder, writers[0], peak


def test_video_frames_go_to_the_writer_as_they_are_rendered_and_memory_stays_flat(tmp_path):
    short, short_writer, short_peak = _record_video(tmp_path, 0.15)
    long, long_writer, long_peak = _record_video(tmp_path, 0.9)
    # 100 Hz control, ~30 fps: one frame every 3 steps, from the first step to the last before the end.
    assert (short.frame_every, short.frames, long.frames) == (3, 5, 30)
    assert long_writer.arrivals == [1 + 3 * k for k in range(30)]  # appended during the episode, not at close
    assert long_writer.closed and long_writer.shapes == {(SMALL[1], SMALL[0], 3)}
    frame_bytes = SMALL[0] * SMALL[1] * 3
    # Holding the 25 extra frames would add 25 * 9.2 kB; streaming adds (almost) nothing.
    assert long_peak - short_peak < 5 * frame_bytes, (short_peak, long_peak)


def test_a_short_episode_writes_a_valid_mp4(tmp_path):
    import imageio.v3 as iio
    import imageio_ffmpeg

    env = make_env(ENV, 2, seed=0, env={"episode_length_s": 0.3})
    recorder = VideoRecorder(str(tmp_path / "out" / "short.mp4"), size=(160, 120))
    try:
        recorder.bind(env)
        run_episodes(_stand, env, seed=0, on_step=recorder.on_step)
        path = recorder.close()
    finally:
        env.close()
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(path)
    assert frames == recorder.frames == 10 and seconds == pytest.approx(0.3, abs=0.05)
    assert iio.imread(path, index=0).shape == (120, 160, 3)


def test_recorders_refuse_wrong_suffixes_and_non_vbot_envs(tmp_path):
    with pytest.raises(UsageError, match=r"must end in \.mp4"):
        VideoRecorder(str(tmp_path / "v.gif"))
    with pytest.raises(UsageError, match=r"must end in \.png"):
        ContactSheetRecorder(str(tmp_path / "s.jpg"), title="t")
    env = make_env("dummy:point_nav", 1, seed=0)
    with pytest.raises(UsageError, match="cannot render"):
        ContactSheetRecorder(str(tmp_path / "s.png"), title="t").bind(env)


def test_frame_picks_and_reward_windows_tile_the_episode():
    picks = pick_frames(100, 12)
    assert len(picks) == 12 and picks[0] == 0 and picks[-1] == 99 and np.all(np.diff(picks) > 0)
    assert list(pick_frames(5, 12)) == [0, 1, 2, 3, 4]  # a short episode: every state once
    # 100 states recorded, 101 reward steps (the last step ended the episode, its state is not kept).
    windows = reward_windows(picks, 101)
    assert windows[0] == (0, 1) and windows[-1][1] == 101
    assert all(a[1] == b[0] for a, b in itertools.pairwise(windows))  # contiguous, no step twice


def test_mark_labels_merge_frames_where_the_robot_stood():
    assert mark_labels([(10.0, 10.0)] * 12) == [("1-12", (10.0, 10.0))]
    spread = [(20.0 * i, 0.0) for i in range(4)]
    assert [label for label, _ in mark_labels(spread)] == ["1", "2", "3", "4"]
    assert [label for label, _ in mark_labels([(0, 0), (50, 0), (52, 1), (100, 0)])] == ["1", "2-3", "4"]


def test_crowded_map_labels_stay_beside_their_marks():
    """Marks 15 px apart along a path: each label sits next to its own mark, none covering another
    (labels used to be pushed down past other marks, "4-5" ending up beside the start)."""
    marks = [(100.0, 200.0 - 15.0 * i) for i in range(6)]
    placed: list[tuple[float, float, float, float]] = []
    for mark in marks:
        box = place_label(mark, 20.0, 16.0, placed)
        centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
        assert np.hypot(centre[0] - mark[0], centre[1] - mark[1]) < 30.0
        assert not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed)
        placed.append(box)


def _sheet(tmp_path, env_options: dict, policy) -> tuple[ContactSheetRecorder, np.ndarray, dict]:
    import imageio.v3 as iio

    env = make_env(ENV, 1, seed=0, env=env_options)
    recorder = ContactSheetRecorder(str(tmp_path / "sheet.png"), title="test policy")
    try:
        recorder.bind(env)
        episodes = run_episodes(policy, env, seed=0, on_step=recorder.on_step)
        path = recorder.close()
    finally:
        env.close()
    return recorder, iio.imread(path), episodes


def test_contact_sheet_of_a_timed_out_episode(tmp_path):
    recorder, image, episodes = _sheet(tmp_path, {"episode_length_s": 0.5}, _stand)
    assert recorder.end == "time limit" and len(recorder.states) == 49 and len(recorder.parts) == 50
    # The captions' reward windows add up to the episode's return.
    total = sum(sum(p.values()) for p in recorder.parts)
    assert total == pytest.approx(float(episodes["return"][0]), abs=1e-6)
    assert image.ndim == 3 and image.shape[2] == 3 and image.shape[1] > 1500 and image.shape[0] > 900
    # The sheet measures distance to the episode's own target (the evaluation resets the env after
    # bind, which draws new targets): the first caption's distance is the env's spawn distance.
    fresh = make_env(ENV, 1, seed=0, env={"episode_length_s": 0.5})
    fresh.reset(seed=0)
    np.testing.assert_array_equal(recorder.target, fresh.target[0])
    fresh.close()


def test_contact_sheet_of_a_fall(tmp_path):
    # Left legs pushed one way and right legs the other, with a 10 degree tilt limit: over within 0.2 s.
    lean = np.array([1, -1, -1, -1, 1, 1, 1, -1, -1, -1, 1, 1], dtype=np.float32)

    def thrash(obs):
        return np.tile(lean, (len(obs), 1))

    recorder, _, episodes = _sheet(tmp_path, {"episode_length_s": 4.0, "max_tilt_deg": 10.0}, thrash)
    assert bool(episodes["fall"][0]) and recorder.end == "fell"
    assert len(recorder.parts) == int(episodes["length"][0]) == len(recorder.states) + 1
    assert recorder.parts[-1].get("termination", 0.0) < 0  # the fall penalty lands in the last window


def test_an_interrupted_video_leaves_no_half_written_file(tmp_path):
    env = make_env(ENV, 1, seed=0, env={"episode_length_s": 0.3})
    recorder = VideoRecorder(str(tmp_path / "cut.mp4"), size=SMALL)
    try:
        recorder.bind(env)
        env.reset(seed=0)
        for _ in range(4):
            env.step(np.zeros((1, 12), np.float32))
            recorder.on_step(np.zeros(1, bool), np.zeros(1, bool))
        assert recorder.frames == 2 and (tmp_path / "cut.mp4").exists()  # streaming: the file grows as we go
        recorder.discard()  # what play does when the episodes fail or Ctrl-C arrives
    finally:
        env.close()
    assert not (tmp_path / "cut.mp4").exists()


def test_the_sheet_follows_the_robot_it_is_given(tmp_path):
    """`vbot play --robot K`: the sheet records row K's episode (its target, its fall), not row 0's."""
    lean = np.array([1, -1, -1, -1, 1, 1, 1, -1, -1, -1, 1, 1], dtype=np.float32)

    def row1_thrashes(obs):
        actions = np.zeros((len(obs), 12), np.float32)
        actions[1] = lean
        return actions

    env = make_env(ENV, 3, seed=0, env={"episode_length_s": 1.0, "max_tilt_deg": 10.0})
    recorder = ContactSheetRecorder(str(tmp_path / "sheet.png"), title="robot 1", row=1)
    try:
        recorder.bind(env)
        episodes = run_episodes(row1_thrashes, env, seed=0, on_step=recorder.on_step)
        recorder.close()
        assert recorder.end == "fell"
    finally:
        env.close()
    by_row = dict(zip(episodes["row"].tolist(), episodes["fall"].tolist()))
    assert by_row == {0: False, 1: True, 2: False}
    assert len(recorder.parts) == int(episodes["length"][list(episodes["row"]).index(1)])


def test_the_sheet_reads_trunk_height_above_the_ground_under_it():
    """On a course the trunk stands on stairs and platforms: the sheet's height is above the ground
    there, so a robot standing on the 1.294 m platform reads as standing, not 1.5 m high."""
    import numpy as np

    from vbot_agent.rl.sheet_recorder import _Trace
    from vbot_agent.sim import robot
    from vbot_agent.sim.registry import make_env

    env = make_env("vbot_navigation_section011", 1, seed=0, threads=1)
    env.reset()
    state = env.physics.state[0].copy()
    state[env._qpos.start:env._qpos.start + 3] = [0.0, 7.8, 1.294 + robot.STAND_HEIGHT]  # on the "2026" platform
    trace = _Trace(env, state[None], np.zeros(2))
    assert abs(trace.height[0] - robot.STAND_HEIGHT) < 1e-6
    env.close()
