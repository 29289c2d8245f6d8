"""End to end in a real terminal: start `vbot tui` in tmux, send keys, read the pane.

Skipped only when tmux is not installed (CI installs it).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.tui.workspace_fixture import make_workspace

REPO = Path(__file__).resolve().parents[2]
# .ci/run installs tmux, so in CI its absence fails the test instead of skipping it.
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None and not os.environ.get("CI"),
                                reason="tmux is not installed")


def _tmux(*args: str, check: bool = True) -> str:
    out = subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=20, check=check)
    return out.stdout


def _pane(session: str) -> str:
    return _tmux("capture-pane", "-p", "-t", session)


def _wait_for(session: str, text: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    pane = ""
    while time.monotonic() < deadline:
        pane = _pane(session)
        if text in pane:
            return pane
        time.sleep(0.2)
    raise AssertionError(f"{text!r} did not appear within {timeout} s; the pane shows:\n{pane}")


@pytest.fixture
def tmux_session(tmp_path):
    session = f"vbot-tui-test-{os.getpid()}"
    yield session
    _tmux("kill-session", "-t", session, check=False)


def test_vbot_tui_in_a_real_terminal(tmp_path, tmux_session):
    workspace = make_workspace(tmp_path / "ws")
    env = f"PYTHONPATH={shlex.quote(str(REPO))} TERM=xterm-256color"
    command = f"{env} {shlex.quote(sys.executable)} -m vbot_agent.cli tui --workspace {shlex.quote(str(workspace))}"
    # `; sleep` keeps the pane open after a crash so the assertion can show the traceback
    _tmux("new-session", "-d", "-s", tmux_session, "-x", "100", "-y", "30", f"{command}; sleep 30")
    pane = _wait_for(tmux_session, "automl_20261123_070000")
    assert "score per trial" in pane

    _tmux("send-keys", "-t", tmux_session, "2")
    pane = _wait_for(tmux_session, "training-pipeline")

    _tmux("send-keys", "-t", tmux_session, "?")
    _wait_for(tmux_session, "keys")
    _tmux("send-keys", "-t", tmux_session, "Escape")
    time.sleep(0.5)  # ESC followed at once by a key reads as alt+key in a terminal

    # run `vbot envs` from the action picker and see its output in the jobs view
    _tmux("send-keys", "-t", tmux_session, "a")
    _wait_for(tmux_session, "Run an action")
    _tmux("send-keys", "-t", tmux_session, "envs")
    _wait_for(tmux_session, "vbot envs")
    _tmux("send-keys", "-t", tmux_session, "Enter")
    _wait_for(tmux_session, "one env id")  # its one optional parameter, left unset: every env
    _tmux("send-keys", "-t", tmux_session, "C-r")
    pane = _wait_for(tmux_session, "[exit code 0]", timeout=60)
    assert "vbot_navigation_section001" in pane

    _tmux("send-keys", "-t", tmux_session, "q")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "automl_2026" in _pane(tmux_session):
        time.sleep(0.2)
    assert "Traceback" not in _pane(tmux_session)
