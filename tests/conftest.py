"""Shared by every test folder: the campaign harness (tests/harness/) importable, and its fixtures."""

import sys
from pathlib import Path

import vbot_agent.sim  # noqa: F401  (headless GL chosen before any test module imports mujoco)

sys.path.insert(0, str(Path(__file__).resolve().parent / "harness"))

from campaign_kit import fake_env, workspace  # noqa: F401  (pytest fixtures)
