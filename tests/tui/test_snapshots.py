"""Snapshot tests of the main views (pytest-textual-snapshot; update with --snapshot-update).

The pictures depend on the Textual version: they were taken with SNAPSHOT_TEXTUAL and are skipped
with another one (pin textual in the test extra). The fixture workspace freezes every time, and
cursor blinking is turned off, so the pictures are deterministic. Every view is taken at 160x48 and
at 80x24, the smallest terminal the layouts are made for.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tui.conftest import settle, wait_for
from tests.tui.workspace_fixture import frozen_clock, make_workspace
from vbot_agent.actions.registry import Action, Param

SNAPSHOT_TEXTUAL = "8.2.8"

textual = pytest.importorskip("textual")
pytest.importorskip("pytest_textual_snapshot")
pytestmark = pytest.mark.skipif(textual.__version__ != SNAPSHOT_TEXTUAL,
                                reason=f"snapshots were taken with textual {SNAPSHOT_TEXTUAL}, "
                                       f"this is {textual.__version__}")

SIZES = [(160, 48), (80, 24)]  # a roomy terminal and the smallest one the views are made for
SIZE_IDS = ["160x48", "80x24"]

DEMO = Action("demo", "an action with every kind of parameter", "tests.tui:nothing", (
    Param("env", default="vbot_navigation_section001", help="env id"),
    Param("num_envs", "int", default=1024, min=1, help="parallel envs"),
    Param("mode", choices=("hp", "reward", "stage"), default="stage"),
    Param("lr", "float", default=3e-4),
    Param("device", help="cpu or cuda[:N] (default: cpu)"),
    Param("resume", "bool", help="continue the last campaign"),
    Param("run", "path", positional=True, required=True, help="run folder"),
))


def finish_campaign(workspace: Path) -> Path:
    """The fixture campaign, finished, with the dotted search-space keys a real campaign writes."""
    import yaml

    state_file = workspace / "starter_kit_schedule" / "progress" / "automl_state.yaml"
    state = yaml.safe_load(state_file.read_text())
    state.update(status="complete", phase="done")
    for trial in state["trials"]:
        n = trial["number"]
        old = trial["params"]
        trial["params"] = {"ppo.learning_rate": old["learning_rate"], "ppo.entropy_coef": old["entropy_coef"],
                           "ppo.num_learning_epochs": 3 + n % 5, "reward.scales.arrival": 5.0 + n % 7}
        if trial["state"] == "running":
            trial["state"] = "fail"
            trial["error"] = "stopped with the campaign"
    state_file.write_text(yaml.safe_dump(state, sort_keys=False))
    return workspace


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


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_dashboard(snap_compare, app, size):
    assert snap_compare(app, terminal_size=size, run_before=_steps())


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_dashboard_finished_campaign(snap_compare, tmp_path, size):
    from vbot_agent.tui.app import VbotApp

    workspace = finish_campaign(make_workspace(tmp_path / "ws", n_trials=24))
    app = VbotApp(str(workspace), refresh_s=0, clock=frozen_clock)
    assert snap_compare(app, terminal_size=size, run_before=_steps())


def test_dashboard_wake_up_tab(snap_compare, app):
    assert snap_compare(app, terminal_size=(100, 30), run_before=_steps("w"))


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_skills(snap_compare, app, size):
    async def pick(pilot):
        await pilot.app.screen.show_skill("training-pipeline")

    assert snap_compare(app, terminal_size=size, run_before=_steps("2", after=pick))


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_runs(snap_compare, app, size):
    async def select_best(pilot):
        pilot.app.screen.query_one("#runs-table").focus()
        await pilot.press("down")

    assert snap_compare(app, terminal_size=size, run_before=_steps("3", after=select_best))


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_jobs_empty(snap_compare, app, size):
    assert snap_compare(app, terminal_size=size, run_before=_steps("4"))


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_action_form_with_error(snap_compare, app, size):
    async def open_form(pilot):
        from vbot_agent.tui.screens.action_form import ActionFormScreen

        await pilot.app.push_screen(ActionFormScreen(DEMO, {"num_envs": "0"}))

    assert snap_compare(app, terminal_size=size, run_before=_steps(after=open_form))


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_help(snap_compare, app, size):
    assert snap_compare(app, terminal_size=size, run_before=_steps("question_mark"))


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_command_palette(snap_compare, app, size):
    async def type_query(pilot):
        from textual.command import CommandList

        await pilot.press(*"bench")
        hits = pilot.app.screen.query_one(CommandList)  # the palette searches in a task of its own
        await wait_for(pilot, lambda: hits.option_count == 2, what="the two bench actions")

    assert snap_compare(app, terminal_size=size, run_before=_steps("ctrl+p", after=type_query))
