"""Section 012 (60 points): "2026" -> waves -> two stair flights -> bridge or riverbed -> stairs down
-> exit platform. Numbers from the official course file; the choices the files leave open are written here.

- The bridge is 23 fixed flat slats whose tops follow a parabola from 2.804 at the ends to 2.595 at
  y 17.82; each rail is one straight box from the lowest deck to 0.58 m above the highest.
- The riverbed's four slope segments (23.2, 18, 11, 4.5 degrees) have runs chosen so the valley
  drops exactly 1.0 m between y 14.58 and 17.54 (the segment lengths are not published).
- The 8 cones are cylinders (r 0.12, 0.45 tall) four on each side of the wave field.
- The waypoints follow the right route (0.10 m stairs, riverbed, beside three of the stones).
"""

from __future__ import annotations

import math

import vbot_agent.sim.courses.fields as fields
from vbot_agent.sim.courses.course import Course
from vbot_agent.sim.courses.geometry import WALL, Ball, Block, Field, Marker, Post, Slope
from vbot_agent.sim.courses.scoring import Item, SectionRule
from vbot_agent.sim.courses.section011 import PLATFORM_2026

BASE_Z = 1.294
LEFT_TOP, RIGHT_TOP = 2.794, 2.294
TREAD = 0.20
BRIDGE_X = (-4.319, -1.681)
BRIDGE_Y = (15.20, 20.44)
DECK_END, DECK_MID, DECK_MID_Y = 2.804, 2.595, 17.82
STONES = ((3.5, 15.84, 1.2), (0.36, 15.84, 1.2), (2.0, 17.83, 0.8), (3.5, 19.72, 1.2), (0.36, 19.72, 1.2))
PACKET_R = 0.7  # m: a stone's dome meets the valley ~0.5 m from its centre; the base passes beside it


def _valley_runs() -> list[tuple[float, float]]:
    """(run m, angle deg) of the four descending segments: runs of the 18 and 11 degree segments
    fixed at 0.7 and 0.3 m, the 23.2 and 4.5 degree ones solved so the drop is 1.0 m over 2.96 m."""
    t = [math.tan(math.radians(a)) for a in (23.2, 18.0, 11.0, 4.5)]
    run_total, drop = 17.54 - 14.58, RIGHT_TOP - BASE_Z
    rest = drop - 0.7 * t[1] - 0.3 * t[2]
    free = run_total - 1.0  # run of segments 1 and 4 together
    l1 = (rest - free * t[3]) / (t[0] - t[3])
    return [(l1, 23.2), (0.7, 18.0), (0.3, 11.0), (free - l1, 4.5)]


def _stairs(prefix: str, x0: float, x1: float, y0: float, rise: float, down: bool, rgba) -> list:
    out = []
    for i in range(10):
        top = (RIGHT_TOP if rise < 0.12 else LEFT_TOP) - rise * i if down else BASE_Z + rise * (i + 1)
        out.append((f"{prefix}{i}", Block(x0, x1, y0 + TREAD * i, y0 + TREAD * (i + 1), round(top, 4), rgba=rgba)))
    return out


def deck_top(y: float) -> float:
    half = (BRIDGE_Y[1] - BRIDGE_Y[0]) / 2
    return DECK_MID + (DECK_END - DECK_MID) * ((y - DECK_MID_Y) / half) ** 2


def section012_pieces() -> list:
    stair = (0.6, 0.6, 0.62, 1.0)
    pieces = [("s012_waves", Field(-5.0, 5.0, 8.83, 11.83, base=BASE_Z, make_grid=fields.waves, seed=12)),
              ("s012_floor", Block(-5.0, 5.0, 11.83, 12.33, BASE_Z))]
    pieces += _stairs("s012_left_up", -5.0, -1.0, 12.33, 0.15, False, stair)
    pieces += _stairs("s012_right_up", -1.0, 5.0, 12.33, 0.10, False, stair)
    # Riverbed: down from the landing, a flat floor, back up (mirror), across the full width.
    y, z = 14.58, RIGHT_TOP
    for i, (run, angle) in enumerate(_valley_runs()):
        dz = run * math.tan(math.radians(angle))
        pieces.append((f"s012_valley_down{i}", Slope(-5.0, 5.0, y, y + run, z, z - dz, thickness=1.2)))
        pieces.append((f"s012_valley_up{i}", Slope(-5.0, 5.0, 17.54 + 18.12 - y - run, 17.54 + 18.12 - y,
                                                   z - dz, z, thickness=1.2)))
        y, z = y + run, z - dz
    pieces.append(("s012_valley_floor", Block(-5.0, 5.0, 17.54, 18.12, BASE_Z)))
    pieces += [("s012_landing_up", Block(-1.0, 5.0, 14.33, 14.58, RIGHT_TOP)),
               ("s012_landing_down", Block(-1.0, 5.0, 21.08, 21.33, RIGHT_TOP))]
    pieces += [(f"s012_stone{i}", Ball(x, y, z, 0.75)) for i, (x, y, z) in enumerate(STONES)]
    # Bridge: approach blocks, 23 slats, rails, corner posts.
    bx0, bx1 = BRIDGE_X
    pieces += [("s012_bridge_in", Block(bx0, bx1, 14.33, 15.33, LEFT_TOP)),
               ("s012_bridge_out", Block(bx0, bx1, 20.33, 21.33, LEFT_TOP))]
    slat = (BRIDGE_Y[1] - BRIDGE_Y[0]) / 23
    wood = (0.55, 0.38, 0.22, 1.0)
    for i in range(23):
        y0 = BRIDGE_Y[0] + slat * i
        top = deck_top(y0 + slat / 2)
        pieces.append((f"s012_slat{i}", Block(bx0, bx1, y0, y0 + slat, round(top, 4), bottom=round(top - 0.06, 4),
                                              rgba=wood)))
    rail_top = DECK_END + 0.58
    for side, (rx0, rx1) in (("left", (bx0, bx0 + 0.05)), ("right", (bx1 - 0.05, bx1))):
        pieces.append((f"s012_rail_{side}", Block(rx0, rx1, BRIDGE_Y[0], BRIDGE_Y[1], rail_top, bottom=DECK_MID - 0.06,
                                                  rgba=wood)))
    for i, (px, py) in enumerate(((bx0, BRIDGE_Y[0]), (bx1, BRIDGE_Y[0]), (bx0, BRIDGE_Y[1]), (bx1, BRIDGE_Y[1]))):
        pieces.append((f"s012_post{i}", Post(px, py, 0.2, rail_top)))
    pieces += _stairs("s012_left_down", -5.0, -1.0, 21.33, 0.15, True, stair)
    pieces += _stairs("s012_right_down", -1.0, 5.0, 21.33, 0.10, True, stair)
    pieces.append(("s012_exit_platform", Block(-5.0, 5.0, 23.33, 25.33, BASE_Z, rgba=(0.3, 0.45, 0.7, 1.0))))
    pieces += [("s012_wall_left", Block(-5.5, -5.0, 23.33, 25.33, BASE_Z + 2.45, rgba=WALL)),
               ("s012_wall_right", Block(5.0, 5.5, 23.33, 25.33, BASE_Z + 2.45, rgba=WALL))]
    for i, (cx, cy) in enumerate((x, y) for x in (-4.6, 4.6) for y in (9.0, 10.0, 11.0, 12.0)):
        pieces.append((f"s012_cone{i}", Post(cx, cy, 0.12, BASE_Z + 0.45, bottom=BASE_Z, rgba=(1.0, 0.5, 0.1, 1.0))))
    return pieces


def section012_items() -> tuple[Item, ...]:
    s = "section012"
    items = (
        Item("waves", s, 10, "region", rect=(-5.0, 5.0, 11.83, 12.33), z_min=BASE_Z),
        Item("left_stairs", s, 5, "region", rect=(-5.0, -1.0, 14.13, 15.33), z_min=2.6),
        Item("right_stairs", s, 5, "region", rect=(-1.0, 5.0, 14.13, 14.58), z_min=2.1),
        Item("bridge", s, 10, "region", rect=(BRIDGE_X[0], BRIDGE_X[1], 20.33, 21.53), z_min=2.6),
        Item("bridge_packet_deck", s, 5, "near", x=-3.0, y=17.82, radius=PACKET_R, z_min=2.45),
        Item("bridge_packet_under", s, 5, "near", x=-2.0, y=17.82, radius=PACKET_R, z_max=2.3),
        Item("riverbed", s, 5, "region", rect=(-1.0, 5.0, 21.08, 21.53), z_min=2.1),
    )
    items += tuple(Item(f"stone{i + 1}", s, 3, "near", x=x, y=y, radius=PACKET_R) for i, (x, y, _) in enumerate(STONES))
    items += (Item("stairs_down", s, 5, "region", rect=(-5.0, 5.0, 23.33, 25.33), z_max=BASE_Z + 0.5),
              Item("celebration_exit", s, 5, "celebration", rect=(-5.0, 5.0, 23.33, 25.33), platform_z=BASE_Z))
    return items


def section012() -> Course:
    markers = [(f"s012_stone_packet{i}", Marker(x, y, z + 0.85, 0.1, (0.9, 0.1, 0.1, 1.0), disc=False))
               for i, (x, y, z) in enumerate(STONES)]
    markers += [("s012_bridge_packet_deck", Marker(-3.0, 17.82, DECK_MID + 0.4, 0.1, (0.9, 0.1, 0.1, 1.0), disc=False)),
                ("s012_bridge_packet_under", Marker(-2.0, 17.82, 1.9, 0.1, (0.9, 0.1, 0.1, 1.0), disc=False))]
    return Course(
        name="section012", pieces=(PLATFORM_2026, *section012_pieces()), markers=tuple(markers),
        bounds=((-4.8, 4.8, 6.83, 25.33),),
        spawn=(-4.0, 4.0, 7.1, 8.6),
        waypoints=((2.0, 9.6), (2.0, 11.4), (2.0, 12.2), (2.0, 14.45), (1.0, 15.84), (2.65, 17.83), (2.85, 19.72),
                   (2.0, 21.2), (2.0, 23.5), (0.0, 24.33)),
        items=section012_items(), sections=(SectionRule("section012", 8.83, 60),), finish_item="celebration_exit",
    )
