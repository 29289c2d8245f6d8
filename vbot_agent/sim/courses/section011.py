"""Section 011 (20 points): START -> pothole field -> strip -> 15 degree ramp -> "2026" platform.

Numbers from the official course file. Scoring: 3 smiley zones (+4, base within 1.0 m), 3 red packets above
the ramp (+2, base within 0.6 m), the celebration on the platform (+2).
"""

from __future__ import annotations

import vbot_agent.sim.courses.fields as fields
from vbot_agent.sim.courses.course import Course
from vbot_agent.sim.courses.geometry import WALL, Block, Field, Marker, Slope
from vbot_agent.sim.courses.scoring import Item, SectionRule

PLATFORM_Z = 1.294  # m, the "2026" platform (and the ramp's top)
WALL_TOP = 2.45
ZONE_R, PACKET_R = 1.0, 0.6  # m (radii not published)
PLATFORM_2026 = ("s011_platform_2026", Block(-5.0, 5.0, 6.83, 8.83, PLATFORM_Z, rgba=(0.7, 0.35, 0.3, 1.0)))


def ramp_z(y: float) -> float:
    return PLATFORM_Z * (y - 2.0) / (6.83 - 2.0)


def section011() -> Course:
    pieces = (
        ("s011_potholes", Field(-5.0, 5.0, -1.5, 1.5, base=0.0, make_grid=fields.potholes, seed=11)),
        ("s011_ramp", Slope(-5.0, 5.0, 2.0, 6.83, 0.0, PLATFORM_Z, thickness=0.8)),
        PLATFORM_2026,
        ("s011_wall_left", Block(-5.5, -5.0, -4.0, 8.83, WALL_TOP, rgba=WALL)),
        ("s011_wall_right", Block(5.0, 5.5, -4.0, 8.83, WALL_TOP, rgba=WALL)),
        ("s011_wall_back", Block(-5.5, 5.5, -4.0, -3.5, WALL_TOP, rgba=WALL)),
    )
    xs = {"left": -3.0, "centre": 0.0, "right": 3.0}
    items = tuple(Item(f"zone_{k}", "section011", 4, "near", x=x, y=0.0, radius=ZONE_R) for k, x in xs.items())
    items += tuple(Item(f"packet_{k}", "section011", 2, "near", x=x, y=4.40, radius=PACKET_R) for k, x in xs.items())
    items += (Item("celebration_2026", "section011", 2, "celebration", rect=(-5.0, 5.0, 6.83, 8.83),
                   platform_z=PLATFORM_Z),)
    markers = tuple((f"s011_zone_{k}", Marker(x, 0.0, 0.28, ZONE_R, (0.95, 0.85, 0.2, 0.35))) for k, x in xs.items())
    markers += tuple((f"s011_packet_{k}", Marker(x, 4.40, ramp_z(4.40) + 0.45, 0.1, (0.9, 0.1, 0.1, 1.0), disc=False))
                     for k, x in xs.items())
    return Course(
        name="section011", pieces=pieces, markers=markers,
        bounds=((-4.8, 4.8, -3.3, 8.83),),
        spawn=(-4.0, 4.0, -3.2, -1.8),
        waypoints=((-3.0, 0.0), (0.0, 0.0), (3.0, 0.0), (3.0, 2.6), (3.0, 4.4), (0.0, 4.4), (-3.0, 4.4), (0.0, 7.83)),
        items=items, sections=(SectionRule("section011", -1e9, 20),), finish_item="celebration_2026",
        mirror_x=True,  # zones and packets at x -3 / 0 / +3: from the right half, the right zone comes first
    )
