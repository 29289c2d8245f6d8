"""VBot's constants: joint order, default pose, limits (docs/design.md, "Simulation"). No mujoco import here."""

from __future__ import annotations

from pathlib import Path

import numpy as np

ASSET = Path(__file__).parent / "assets" / "vbot.xml"

LEGS = ("FR", "FL", "RR", "RL")
JOINT_NAMES = tuple(f"{leg}_{part}_joint" for leg in LEGS for part in ("hip", "thigh", "calf"))
NUM_JOINTS = len(JOINT_NAMES)

# Default standing pose (rad): hip 0, thigh 0.9, calf -1.8 for every leg.
DEFAULT_POSE = np.tile(np.array([0.0, 0.9, -1.8]), 4)
# Torque limits (N m): hip 17, thigh 17, calf 34.
TORQUE_LIMITS = np.tile(np.array([17.0, 17.0, 34.0]), 4)
# Joint ranges (rad), front legs then rear legs differ only in the thigh.
JOINT_LOWER = np.array([-0.733, -1.56, -2.64] * 2 + [-0.733, -0.51, -2.64] * 2)
JOINT_UPPER = np.array([0.733, 3.13, -0.785] * 2 + [0.733, 4.18, -0.785] * 2)

# Base height standing in the default pose on flat ground, measured (tests/sim/test_physics.py).
STAND_HEIGHT = 0.257
SPAWN_HEIGHT = 0.30  # dropped from a little above, settles in ~0.2 s

# Layout of mujoco.rollout's sensordata for this model (see the <sensor> block of vbot.xml).
SENSOR_TRUNK_CONTACT = slice(0, 1)
SENSOR_FOOT_CONTACT = slice(1, 5)
SENSOR_JOINT_TORQUE = slice(5, 17)
