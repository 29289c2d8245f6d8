"""Competition points from scripted trajectories: poses set along a path, the env counts the items."""

import numpy as np
import pytest

from vbot_agent.sim import robot
from vbot_agent.sim.course_env import spawn_ground
from vbot_agent.sim.courses.scoring import CELEBRATION_S
from vbot_agent.sim.mathx import yaw_quat
from vbot_agent.sim.registry import make_env

SPEED = 2.0  # m/s along the scripted path


def drive(env_id: str, paths: list[np.ndarray], *, sit_s: float = 0.0, fall_at_end: list[bool] | None = None,
          touch_ball: list[bool] | None = None, extra_s: float = 0.3) -> dict[str, np.ndarray]:
    """Slide each env row along its path at SPEED (standing height), sit ``sit_s`` s at the end, then
    (optionally) fall; returns the episode stats of the first episode of every row."""
    n = len(paths)
    fall_at_end = fall_at_end or [False] * n
    touch_ball = touch_ball or [False] * n
    lengths = [float(np.linalg.norm(np.diff(p, axis=0), axis=1).sum()) for p in paths]
    total_s = max(lengths) / SPEED + sit_s + extra_s
    env = make_env(env_id, n, seed=0, threads=1, config={"episode_length_s": total_s + 0.5})
    env.reset()
    env.tracker.ball_phase[:] = 1e9  # no ball launches unless a row asks for a touch
    st = env.physics.state
    episodes: dict[str, list] = {}
    done_rows = np.zeros(n, dtype=bool)
    steps = round((total_s + 0.5) / env.control_dt) + 2
    for i in range(steps):
        t = i * env.control_dt
        qpos = st[:, env._qpos].copy()
        qvel = st[:, env._qvel].copy()
        for r, path in enumerate(paths):
            seg = np.diff(path, axis=0)
            cum = np.concatenate([[0.0], np.cumsum(np.linalg.norm(seg, axis=1))])
            along = min(SPEED * t, cum[-1])
            k = min(int(np.searchsorted(cum, along, side="right")) - 1, len(seg) - 1)
            d = seg[k] / np.linalg.norm(seg[k])
            xy = path[k] + (along - cum[k]) * d
            ground = spawn_ground(env.terrain, xy[None])[0]  # clear of the next step under the trunk
            moving = SPEED * t < cum[-1]
            sitting = not moving and t < cum[-1] / SPEED + sit_s
            qpos[r, 0:2] = xy
            qpos[r, 2] = ground + (robot.STAND_HEIGHT if not sitting else 0.16)
            qpos[r, 3:7] = yaw_quat(np.array([np.arctan2(d[1], d[0])]))[0]
            qpos[r, 7:19] = robot.DEFAULT_POSE
            qvel[r] = 0.0
            qvel[r, 0:2] = SPEED * d if moving else 0.0
            if fall_at_end[r] and t >= cum[-1] / SPEED + sit_s:
                qpos[r, 3:7] = [0.0, 1.0, 0.0, 0.0]  # upside down
            if touch_ball[r] and i == 5:  # a ball resting against the robot
                qpos[r, 19:22] = [xy[0] + 0.6, xy[1], ground + 0.375]
        live = ~done_rows
        st_rows = st[live]
        st_rows[:, env._qpos] = qpos[live]
        st_rows[:, env._qvel] = qvel[live]
        st[live] = st_rows
        _, _, term, trunc, info = env.step(np.zeros((n, 12)))
        ended = np.flatnonzero(term | trunc)
        for j, row in enumerate(ended):
            if not done_rows[row]:
                for key, values in info["episode"].items():
                    episodes.setdefault(key, [None] * n)[row] = values[j]
        done_rows[ended] = True
        if done_rows.all():
            break
    env.close()
    return {k: np.array(v, dtype=float) for k, v in episodes.items()}


S011_FULL = np.array([(0, -2.5), (-3, 0), (0, 0), (3, 0), (3, 4.4), (0, 4.4), (-3, 4.4), (0, 7.8)], float)


def test_section011_counts_zones_packets_and_the_celebration_and_a_fall_zeroes_it():
    zones_only = np.array([(0, -2.5), (-3, 0), (0, 0), (3, 0), (3, 1.0)], float)
    ep = drive("vbot_navigation_section011", [S011_FULL, S011_FULL, zones_only, S011_FULL],
               sit_s=CELEBRATION_S + 0.3, fall_at_end=[False, True, False, False])
    # Row 0: 3 zones x 4 + 3 packets x 2 + celebration 2 = 20. Row 1 falls at the end: 0.
    assert ep["points"][0] == 20 and ep["points/celebration_2026"][0] == 2
    assert ep["points/zone_left"][0] == 4 and ep["points/packet_right"][0] == 2
    assert ep["points"][1] == 0 and ep["fall"][1] == 1
    assert ep["points"][2] == 12 and ep["points/packet_centre"][2] == 0
    assert ep["points/section011"][3] == 20 and ep["course_time_s"][3] > 0


def test_celebration_needs_a_full_second_of_sitting():
    ep = drive("vbot_navigation_section011", [S011_FULL, S011_FULL], sit_s=CELEBRATION_S - 0.3)
    assert ep["points/celebration_2026"].tolist() == [0, 0] and ep["points"][0] == 18


def test_section012_right_route_counts_stairs_riverbed_stones_and_exit():
    right = np.array([(2, 8), (2, 12.0), (2, 14.45), (1.0, 15.84), (2.65, 17.83), (2.85, 19.72), (2, 21.2),
                      (2, 23.5), (0, 24.3)], float)
    ep = drive("vbot_navigation_section012", [right], sit_s=CELEBRATION_S + 0.3)
    # waves 10 + right stairs 5 + stones 1, 2, 3 and 4 (3 each: the path passes 0.65 m beside
    # stones 2, 3, 4 and within 0.7 m of stone 1 at (3.5, 15.84)? no: 2.5 m away) + riverbed 5 +
    # down 5 + celebration 5.
    stones = sum(ep[f"points/stone{i}"][0] for i in range(1, 6))
    assert ep["points/waves"][0] == 10 and ep["points/right_stairs"][0] == 5 and ep["points/riverbed"][0] == 5
    assert ep["points/stairs_down"][0] == 5 and ep["points/celebration_exit"][0] == 5
    assert ep["points/left_stairs"][0] == 0 and ep["points/bridge"][0] == 0
    assert stones == 9 and ep["points"][0] == 39


def test_section012_bridge_route_counts_the_bridge_and_its_deck_packet():
    left = np.array([(-3, 8), (-3, 12.0), (-3, 14.8), (-3, 17.82), (-3, 21.0), (-3, 23.6)], float)
    ep = drive("vbot_navigation_section012", [left])
    assert ep["points/left_stairs"][0] == 5 and ep["points/bridge"][0] == 10
    assert ep["points/bridge_packet_deck"][0] == 5 and ep["points/bridge_packet_under"][0] == 0
    assert ep["points"][0] == 10 + 5 + 10 + 5 + 5


def test_section013_ball_rule_pays_15_after_a_touch_and_10_without():
    path = np.array([(1.5, 24.3), (1.5, 27.0), (1.5, 29.5), (1.5, 32.5)], float)
    ep = drive("vbot_navigation_section013", [path, path], sit_s=CELEBRATION_S + 0.3, touch_ball=[False, True])
    assert ep["points/ball_area"].tolist() == [10, 15]
    assert ep["points/random_terrain"].tolist() == [5, 5] and ep["points/celebration_final"].tolist() == [5, 5]
    assert ep["points"].tolist() == [20, 25]


@pytest.mark.slow
def test_long_course_reports_each_section_and_the_course_time():
    path = np.concatenate([S011_FULL, [(2, 9.0), (2, 12.0), (2, 14.45), (1.0, 15.84), (2.65, 17.83), (2.85, 19.72),
                                       (2, 21.2), (2, 23.5), (1.5, 26.0), (1.5, 29.5), (1.5, 32.5)]])
    ep = drive("vbot_navigation_long_course", [path], sit_s=CELEBRATION_S + 0.3)
    assert ep["points/section011"][0] == 18  # no sitting on the "2026" platform on the way
    assert ep["points/section012"][0] == 34 and ep["points/section013"][0] == 20
    assert ep["points"][0] == 72
    length = float(np.linalg.norm(np.diff(path, axis=0), axis=1).sum())
    assert ep["course_time_s"][0] == pytest.approx(length / SPEED + CELEBRATION_S, abs=0.1)


def test_a_robot_that_starts_inside_a_zone_never_enters_it():
    """Spawns along the course (course_start anywhere) may land inside a smiley zone: points are for
    entering, so that zone pays nothing this episode; the others still do."""
    env = make_env("vbot_navigation_section011", 2, seed=0, threads=1)
    env.reset()
    scorer = env.tracker.scorer
    names = [it.name for it in scorer.items]
    scorer.reset(np.arange(2), np.array([[0.0, 0.0], [0.0, -2.5]]))  # row 0 in the centre zone; row 1 at START
    assert scorer.void[0, names.index("zone_centre")] and not scorer.void[1].any()
    base = np.array([[0.0, 0.0, 0.4], [0.0, 0.0, 0.4]])  # both now in the centre zone
    gained = scorer.update(base, np.ones(2), np.zeros(2), np.zeros(2), np.zeros(2, bool), np.zeros(2, bool),
                           np.ones(2), 0.01)
    assert gained.tolist() == [0.0, 4.0]
    base[:, 0] = 3.0  # the right zone: row 0 entered it
    gained = scorer.update(base, np.ones(2), np.zeros(2), np.zeros(2), np.zeros(2, bool), np.zeros(2, bool),
                           np.ones(2), 0.01)
    assert gained.tolist() == [4.0, 4.0]
