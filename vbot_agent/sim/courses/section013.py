"""Section 013 (25 points): exit platform -> ball area -> 0.2 m ramp -> random terrain -> final
platform with three gold balls. Numbers from the official course file; the rolling balls' motion is ours
(``balls.py``). Scoring: the ball area to the random terrain +10 (+15 if a ball was touched and the
robot neither fell nor left), the random terrain to the final platform +5, the celebration +5.
"""

from __future__ import annotations

import vbot_agent.sim.courses.fields as fields
from vbot_agent.sim.courses.balls import RollingBalls
from vbot_agent.sim.courses.course import Course
from vbot_agent.sim.courses.geometry import WALL, Ball, Block, Field, Slope
from vbot_agent.sim.courses.scoring import Item, SectionRule

ENTRY_Z, FINAL_Z = 1.294, 1.494
WALL_TOP = FINAL_Z + 2.45


def section013_pieces() -> list:
    gold = (0.95, 0.78, 0.2, 1.0)
    return [
        ("s013_ball_area", Block(-5.0, 5.0, 25.33, 27.33, ENTRY_Z)),
        ("s013_ramp", Slope(-5.0, 5.0, 27.33, 27.83, ENTRY_Z, FINAL_Z, thickness=0.4)),
        ("s013_random_terrain", Field(-5.0, 5.0, 27.83, 30.83, base=1.343, make_grid=fields.random_terrain, seed=13)),
        ("s013_final_platform", Block(-5.0, 5.0, 30.83, 33.83, FINAL_Z, rgba=(0.75, 0.62, 0.3, 1.0))),
        *[(f"s013_gold{i}", Ball(x, 31.23, 0.844, 0.75, rgba=gold)) for i, x in enumerate((-3.0, 0.0, 3.0))],
        ("s013_wall_left", Block(-7.0, -4.5, 25.33, 33.83, WALL_TOP, rgba=WALL)),
        ("s013_wall_right", Block(4.5, 7.0, 25.33, 33.83, WALL_TOP, rgba=WALL)),
        ("s013_wall_end", Block(-7.0, 7.0, 33.83, 34.83, WALL_TOP, rgba=WALL)),
    ]


def section013_items() -> tuple[Item, ...]:
    s = "section013"
    return (
        Item("ball_area", s, 10, "ball_rule", rect=(-5.0, 5.0, 27.83, 30.83), z_min=ENTRY_Z),
        Item("random_terrain", s, 5, "region", rect=(-5.0, 5.0, 30.83, 33.83), z_min=FINAL_Z - 0.1),
        Item("celebration_final", s, 5, "celebration", rect=(-4.5, 4.5, 30.83, 33.83), platform_z=FINAL_Z),
    )


def section013() -> Course:
    exit_platform = ("s012_exit_platform", Block(-5.0, 5.0, 23.33, 25.33, ENTRY_Z, rgba=(0.3, 0.45, 0.7, 1.0)))
    return Course(
        name="section013", pieces=(exit_platform, *section013_pieces()),
        bounds=((-4.8, 4.8, 23.33, 25.33), (-4.3, 4.3, 25.33, 33.63)),
        spawn=(-4.0, 4.0, 23.5, 25.1),
        waypoints=((1.5, 26.33), (1.5, 28.0), (1.5, 29.4), (1.5, 30.9), (1.5, 32.4)),
        items=section013_items(), sections=(SectionRule("section013", 25.33, 25),), balls=RollingBalls(),
        finish_item="celebration_final",
    )
