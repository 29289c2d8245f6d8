"""A missing, empty or corrupt workspace shows a clear message in the UI, never a crash."""

from __future__ import annotations

from tests.tui.conftest import async_test, screen_text, settle
from tests.tui.workspace_fixture import make_corrupt_workspace, make_empty_workspace, make_workspace
from vbot_agent.tui.data import WorkspaceReader


async def _views_text(app, pilot) -> dict[str, str]:
    """The text of every view, visiting each (a crash in any view fails the test)."""
    out = {}
    for key, mode in (("1", "dashboard"), ("2", "skills"), ("3", "runs"), ("4", "jobs"), ("1", "dashboard")):
        await pilot.press(key)
        await settle(pilot, app)
        out[mode] = " ".join(screen_text(app).split())
    return out


@async_test
async def test_missing_workspace(make_app, tmp_path):
    app = make_app(tmp_path / "nowhere")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        views = await _views_text(app, pilot)
        assert "No workspace." in views["dashboard"]
        assert "not a workspace" in views["dashboard"] and "vbot init" in views["dashboard"]
        assert "not a workspace" in views["runs"]


@async_test
async def test_empty_workspace(make_app, tmp_path):
    app = make_app(make_empty_workspace(tmp_path / "empty"))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        views = await _views_text(app, pilot)
        assert "No campaign yet" in views["dashboard"] and "vbot automl" in views["dashboard"]
        assert "No runs under" in views["runs"]
        await pilot.press("w")
        await settle(pilot, app)
        assert "No WAKE_UP.md yet" in " ".join(screen_text(app).split())


@async_test
async def test_corrupt_state_shows_the_loader_message(make_app, tmp_path):
    app = make_app(make_corrupt_workspace(tmp_path / "corrupt"))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot, app)
        text = " ".join(screen_text(app).split())
        assert "is corrupt" in text
        assert app.snapshot.state is None and "corrupt" in app.snapshot.state_error


@async_test
async def test_state_corrupted_while_running_then_fixed(make_app, workspace):
    app = make_app()
    state_file = workspace / "starter_kit_schedule" / "progress" / "automl_state.yaml"
    good = state_file.read_text()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        assert "ALIVE" in screen_text(app)
        state_file.write_text("trials: [unclosed\n")
        app.refresh_data()
        await settle(pilot, app)
        assert "corrupt" in " ".join(screen_text(app).split())
        state_file.write_text(good + "\n")
        app.refresh_data()
        await settle(pilot, app)
        assert "ALIVE" in screen_text(app)


def test_reader_rereads_only_changed_files(tmp_path):
    root = make_workspace(tmp_path / "ws")
    reader = WorkspaceReader.open(root)
    first = reader.read(with_curves=False)
    second = reader.read(with_curves=False)
    assert first.state is second.state  # cached: same object, not re-parsed
    (root / "WAKE_UP.md").write_text("# changed, longer than before\n")
    third = reader.read(with_curves=False)
    assert third.wake_up.startswith("# changed") and third.state is first.state


def test_broken_skill_is_listed_with_its_error(tmp_path):
    from vbot_agent.tui.data import load_skill_entries

    root = make_workspace(tmp_path / "ws")
    (root / "skills" / "broken").mkdir()
    (root / "skills" / "broken" / "SKILL.md").write_text("no front matter here\n")
    entries = {e.name: e for e in load_skill_entries(root / "skills")}
    assert entries["broken"].error and "front-matter" in entries["broken"].error
    assert entries["reward-tuning"].error is None
