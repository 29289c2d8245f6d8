"""Snapshot tests of the main views (pytest-textual-snapshot; update with --snapshot-update).

The pictures depend on the Textual version: they were taken with SNAPSHOT_TEXTUAL and are skipped
with another one (pin textual in the test extra). The fixture workspace freezes every time, and
cursor blinking is turned off, so the pictures are deterministic.
"""

from __future__ import annotations

import pytest

from tests.tui.conftest import settle
from tests.tui.workspace_fixture import frozen_clock, make_workspace
from vbot_agent.actions.registry import Action, Param

SNAPSHOT_TEXTUAL = "8.2.8"

textual = pytest.importorskip("textual")
pytest.importorskip("pytest_textual_snapshot")
pytestmark = pytest.mark.skipif(textual.__version__ != SNAPSHOT_TEXTUAL,
                                reason=f"snapshots were taken with textual {SNAPSHOT_TEXTUAL}, "
                                       f"this is {textual.__version__}")

DEMO = Action("demo", "an action with every kind of parameter", "tests.tui:nothing", (
    Param("env", default="vbot_navigation_section001", help="env id"),
    Param("num_envs", "int", default=1024, min=1, help="parallel envs"),
    Param("mode", choices=("hp", "reward", "stage"), default="stage"),
    Param("lr", "float", default=3e-4),
    Param("resume", "bool", help="continue the last campaign"),
    Param("run", "path", positional=True, required=True, help="run folder"),
))


@pytest.fixture
def app(tmp_path):
    from vbot_agent.tui.app import VbotApp

    return VbotApp(str(make_workspace(tmp_path / "ws")), refresh_s=0, clock=frozen_clock)


def _steps(*keys: str, after=None):
    async def run_before(pilot) -> None:
        from textual.widgets import Input

        await settle(pilot, pilot.app)
        for key in keys:
            await pilot.press(key)
            await settle(pilot, pilot.app)
        if after is not None:
            await after(pilot)
            await settle(pilot, pilot.app)
        for widget in pilot.app.screen.query(Input):
            widget.cursor_blink = False
        await pilot.pause()

    return run_before


def test_dashboard_80x24(snap_compare, app):
    assert snap_compare(app, terminal_size=(80, 24), run_before=_steps())


def test_dashboard_140x40(snap_compare, app):
    assert snap_compare(app, terminal_size=(140, 40), run_before=_steps())


def test_dashboard_wake_up_tab(snap_compare, app):
    assert snap_compare(app, terminal_size=(100, 30), run_before=_steps("w"))


def test_skills(snap_compare, app):
    async def pick(pilot):
        await pilot.app.screen.show_skill("training-pipeline")

    assert snap_compare(app, terminal_size=(100, 30), run_before=_steps("2", after=pick))


def test_runs(snap_compare, app):
    async def select_best(pilot):
        pilot.app.screen.query_one("#runs-table").focus()
        await pilot.press("down")

    assert snap_compare(app, terminal_size=(100, 30), run_before=_steps("3", after=select_best))


def test_action_form_with_error(snap_compare, app):
    async def open_form(pilot):
        from vbot_agent.tui.screens.action_form import ActionFormScreen

        await pilot.app.push_screen(ActionFormScreen(DEMO, {"num_envs": "0"}))

    assert snap_compare(app, terminal_size=(100, 34), run_before=_steps(after=open_form))


def test_help(snap_compare, app):
    assert snap_compare(app, terminal_size=(80, 24), run_before=_steps("question_mark"))
