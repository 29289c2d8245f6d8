"""The competition's obstacle courses (from the official course files and rules), one module per section, and the training terrain.

``COURSES`` maps a terrain name to a factory; the factories are cheap (no MuJoCo work) and each
returns a frozen ``Course``. The long course is the three sections in one frame, as the official
course is (the section files placed at the origin), spawned on START.
"""

from __future__ import annotations

from vbot_agent.sim.courses.course import Course, union
from vbot_agent.sim.courses.section011 import section011
from vbot_agent.sim.courses.section012 import section012, section012_items, section012_pieces
from vbot_agent.sim.courses.section013 import section013, section013_items, section013_pieces


def long_course() -> Course:
    s011 = section011()
    s012 = section012()
    s013 = section013()
    return union("long_course", [s011, s012, s013], spawn=s011.spawn, finish_item="celebration_final")


COURSES = {"section011": section011, "section012": section012, "section013": section013, "long_course": long_course}
# The competition's time per run as entrants ran it (s): our `--competition` episode length.
COMPETITION_EPISODE_S = {"section011": 120.0, "section012": 60.0, "section013": 120.0, "long_course": 180.0}

__all__ = ["COMPETITION_EPISODE_S", "COURSES", "Course", "long_course", "section012_items", "section012_pieces",
           "section013_items", "section013_pieces"]
