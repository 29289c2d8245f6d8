"""Pilot tests: drive the real app on the fixture workspace."""

from __future__ import annotations

import sys

from tests.tui.conftest import async_test, screen_text, settle, wait_for
from vbot_agent.tui.messages import RequestAction, RequestSkill
from vbot_agent.tui.screens.action_form import ActionFormScreen
from vbot_agent.tui.screens.help import HelpScreen
from vbot_agent.tui.screens.skills import SkillActionButton
from vbot_agent.tui.widgets.trials_table import TrialsTable


@async_test
async def test_dashboard_shows_campaign_and_trials(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        table = app.screen.query_one(TrialsTable)
        assert table.row_count == 12
        text = screen_text(app)
        assert "automl_20261123_070000" in text
        assert "ALIVE" in text
        assert "3.0/8.0 h" in text
        assert "score per trial" in text
        # the live run has a progress bar and steps/s
        assert "2026-11-23_09-30-00" in text and "41,234" in text


@async_test
async def test_trials_sort_by_score(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        table = app.screen.query_one(TrialsTable)
        table.sort_by("score")  # best first
        await pilot.pause()
        best = app.snapshot.state["best"]["trial"]
        assert table.get_row_at(0)[0].plain == str(best)
        table.focus()
        table.move_cursor(row=0)  # the cursor stays on its trial through a sort: go to the top row
        await pilot.press("i")
        await pilot.pause()
        assert f"#{best} complete" in screen_text(app)  # the Trial tab shows the best trial


@async_test
async def test_open_skill_shows_markdown_and_action_buttons(make_app):
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("2")
        await settle(pilot, app)
        app.post_message(RequestSkill("reward-tuning"))
        await settle(pilot, app)
        text = screen_text(app)
        assert "Reward tuning" in text
        assert "Look at the terms of the best run first." in text
        assert "▶ envs" in text
        app.post_message(RequestSkill("training-pipeline"))
        await settle(pilot, app)
        assert "▶ train --env vbot_navigation_section001 --max-env-steps 1000000" in screen_text(app)
        # its action button opens the train form, pre-filled
        await pilot.click(app.screen.query(SkillActionButton)[1])
        await pilot.pause()
        assert isinstance(app.screen, ActionFormScreen)
        assert app.screen.query_one("#param-max_env_steps").value == "1000000"


@async_test
async def test_form_shows_validation_message_and_refuses_to_run(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        app.post_message(RequestAction("bench env"))
        await pilot.pause()
        assert isinstance(app.screen, ActionFormScreen)
        app.screen.query_one("#param-num_envs").focus()
        await pilot.press(*"abc")
        await pilot.pause()
        assert "--num-envs: expected int, got 'abc'" in screen_text(app)
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert isinstance(app.screen, ActionFormScreen)  # not launched
        assert app.jobs == []
        # fixing it shows the command line that will run
        for _ in range(3):
            await pilot.press("backspace")
        await pilot.press(*"64")
        await pilot.pause()
        assert "vbot bench env --num-envs 64" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ActionFormScreen)


@async_test
async def test_run_short_action_streams_its_output(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        app.post_message(RequestAction("envs"))
        await pilot.pause()
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: app.jobs and not app.jobs[0].running, what="`vbot envs` to finish")
        await pilot.pause()
        job = app.jobs[0]
        assert job.status == "finished", job.lines
        text = screen_text(app)
        assert "vbot_navigation_section001" in text
        assert "[exit code 0]" in text


@async_test
async def test_two_jobs_run_and_one_is_stopped(make_app):
    app = make_app()
    loop = "import time\nfor i in range(10**6):\n    print('tick', i, flush=True); time.sleep(0.01)"
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        first = app.launch("envs", {}, argv=[sys.executable, "-c", loop])
        second = app.launch("envs", {}, argv=[sys.executable, "-c", loop])
        await wait_for(pilot, lambda: len(first.lines) > 5 and len(second.lines) > 5, what="output from both jobs")
        assert app.screen.selected == second.id
        await pilot.press("x")
        await wait_for(pilot, lambda: not second.running, what="the job to stop")
        assert second.status == "stopped"
        assert first.running
        first.stop()
        await wait_for(pilot, lambda: not first.running, what="the first job to stop")


@async_test
async def test_command_palette_finds_action_by_partial_name(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"bnch en")
        await wait_for(pilot, lambda: "vbot bench env" in screen_text(app), what="the palette to list bench env")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ActionFormScreen), what="the bench env form")
        assert app.screen.action_def.name == "bench env"


@async_test
async def test_palette_lists_skills(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("ctrl+p")
        await pilot.press(*"reward-tun")
        await wait_for(pilot, lambda: "skill: reward-tuning" in screen_text(app), what="the skill in the palette")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Look at the terms" in screen_text(app), what="the skill to open")


@async_test
async def test_runs_screen_shows_reward_terms_and_evaluates_checkpoint(make_app):
    app = make_app()
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot, app)
        await pilot.press("3")
        await settle(pilot, app)
        table = app.screen.query_one("#runs-table")
        assert table.row_count == 2
        table.focus()
        await pilot.press("down")  # newest first: the live run, then the best run
        await settle(pilot, app)
        text = screen_text(app)
        assert "reward terms" in text and "progress" in text and "+0.8" in text and "-0.4" in text
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.screen, ActionFormScreen)
        assert app.screen.action_def.name == "play"
        assert app.screen.query_one("#param-policy").value.endswith("checkpoints/best.pt")


@async_test
async def test_help_screen_lists_bindings(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        assert "Everywhere" in text and "Dashboard  (this view)" in text
        # every view's keys are listed, not only the one open
        titles = [title for title, _ in app.screen.sections]
        for view in ("Skills", "Runs", "Jobs", "Action form"):
            assert view in titles
        keys = {description: keys for _, rows in app.screen.sections for keys, description in rows}
        assert keys["Evaluate"] == "v" and keys["Stop"] == "x" and keys["Run"] == "^r" and keys["Sort"] == "o"
        assert keys["Quit"] == "q, ^q"  # two bindings for one thing share a row
        assert keys["search every action, skill and view"] == "ctrl+p"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


@async_test
async def test_every_view_is_reachable_by_keyboard(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        for key, mode in (("2", "skills"), ("3", "runs"), ("4", "jobs"), ("1", "dashboard")):
            await pilot.press(key)
            await settle(pilot, app)
            assert app.current_mode == mode
        await pilot.press("a")
        await pilot.pause()
        await pilot.press(*"envs", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ActionFormScreen), what="the envs form")


@async_test
async def test_runs_screen_opens_the_diagnosis_of_the_selected_run(make_app):
    app = make_app()
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot, app)
        await pilot.press("3")
        await settle(pilot, app)
        app.screen.query_one("#runs-table").focus()
        await pilot.press("down")
        await settle(pilot, app)
        await pilot.press("g")
        await pilot.pause()
        assert isinstance(app.screen, ActionFormScreen)
        assert app.screen.action_def.name == "diagnose-reward"
        assert "2026-11-23_08-00-00_PPO" in screen_text(app)


@async_test
async def test_quit_with_a_running_job_asks_first_then_stops_it(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        job = app.launch("envs", {}, argv=[sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"])
        await wait_for(pilot, lambda: job.lines, what="the job to start")
        await pilot.press("q")
        await pilot.pause()
        assert app.is_running and job.running  # first q only warns
        await pilot.press("q")
        await wait_for(pilot, lambda: not job.running or not app.is_running, what="quit")


@async_test
async def test_dashboard_follows_the_files_live(make_app, workspace):
    import yaml

    app = make_app(refresh_s=0.2)
    state_file = workspace / "starter_kit_schedule" / "progress" / "automl_state.yaml"
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None, what="the first read")
        table = app.screen.query_one(TrialsTable)
        await wait_for(pilot, lambda: table.row_count == 12, what="12 trials")
        state = yaml.safe_load(state_file.read_text())
        state["trials"].append({**state["trials"][0], "number": 12, "score": 0.5})
        tmp = state_file.with_suffix(".tmp")
        tmp.write_text(yaml.safe_dump(state, sort_keys=False))
        tmp.replace(state_file)  # atomically, as the campaign writes it
        await wait_for(pilot, lambda: table.row_count == 13, timeout=10, what="the new trial to appear")
