"""The widgets' arithmetic (column fitting, chart rows, short names) and how they look at 80x24."""

from __future__ import annotations

from rich.console import Console

from tests.tui.conftest import async_test, screen_text, settle
from vbot_agent.tui.data import Liveness
from vbot_agent.tui.screens.action_form import ActionFormScreen, empty_means
from vbot_agent.tui.screens.runs import terms_table
from vbot_agent.tui.widgets.bar_chart import render_columns, y_labels
from vbot_agent.tui.widgets.campaign_status import campaign_head, fit_path
from vbot_agent.tui.widgets.trials_table import (
    COLUMNS,
    TrialsTable,
    _short,
    initials,
    layout_columns,
    short_param_names,
    varying_params,
)


def _plain(renderable, width: int = 80) -> str:
    console = Console(width=width, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


# ------------------------------------------------------------------------------ trials table
def test_all_columns_fit_a_wide_table():
    # 7 metric columns of 3+8+7+7+5+9+8 = 47 cells plus 2 padding each = 61; params: 94 - 61 - 2 = 31
    columns, params = layout_columns(94)
    assert [key for key, _, _ in columns] == [key for key, _, _ in COLUMNS]
    assert params == 31


def test_a_narrow_table_drops_the_least_useful_metrics_first():
    # 46 cells: without fall (7), t→goal (10), pts/robot (11) and success (9) the rest is 24, params 20
    columns, params = layout_columns(46)
    assert [key for key, _, _ in columns] == ["number", "state", "score"]
    assert params == 20
    # 60 cells: without fall the rest is 60 - 54 - 2 = 4, without t→goal 14, without pts/robot 25
    columns, params = layout_columns(60)
    assert [key for key, _, _ in columns] == ["number", "state", "score", "success_rate"]
    assert params == 25


def test_param_names_are_short_but_unique():
    names = short_param_names(["ppo.learning_rate", "reward.scales.arrival", "env.arrival"])
    assert names == {"ppo.learning_rate": "learning_rate", "reward.scales.arrival": "scales.arrival",
                     "env.arrival": "env.arrival"}
    assert initials({"a": "learning_rate", "b": "entropy_coef", "c": "alive"}) == {"a": "lr", "b": "ec", "c": "alive"}
    assert initials({"a": "learning_rate", "b": "lr"}) == {"a": "learning_rate", "b": "lr"}  # would clash


def test_only_params_that_differ_are_shown():
    trials = [{"params": {"lr": 1e-3, "epochs": 5}}, {"params": {"lr": 3e-4, "epochs": 5}}]
    assert varying_params(trials) == ["lr"]
    assert varying_params(trials[:1]) == ["lr", "epochs"]  # nothing to compare: all of them


def test_numbers_are_compact():
    assert [_short(v) for v in (0.0003, 0.000375, 0.05, 123456.0, 0.0, 5)] == \
        ["3e-4", "3.75e-4", "0.05", "1.23e5", "0", "5"]


@async_test
async def test_trials_table_never_scrolls_sideways(make_app):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        table = app.screen.query_one(TrialsTable)
        assert table.shown_columns == [key for key, _, _ in COLUMNS] + ["params"]
        assert table.virtual_size.width <= table.scrollable_content_region.width
        # "learning_rate=0.000375 entropy_coef=0.015" (39 cells) would not fit the 34 left: initials
        assert "lr=3e-4 ec=5e-3" in screen_text(app)
        await pilot.resize_terminal(80, 24)
        await settle(pilot, app)
        assert "params" in table.shown_columns and "fall_rate" not in table.shown_columns
        assert table.virtual_size.width <= table.scrollable_content_region.width
        assert "lr=3e-4" in screen_text(app)


# ---------------------------------------------------------------------------- status panel
def test_a_finished_campaign_says_its_outcome_once():
    head = campaign_head("automl_1", "complete", Liveness("finished", "status complete")).plain
    assert head == "automl_1  COMPLETE"
    alive = campaign_head("automl_1", "running", Liveness("alive", "heartbeat 20s ago")).plain
    assert alive == "automl_1  running ALIVE heartbeat 20s ago"


def test_long_paths_keep_their_end():
    assert fit_path("runs/env/2026_PPO/checkpoints/best.pt", 20) == "…checkpoints/best.pt"
    assert fit_path("best.pt", 20) == "best.pt"


# ---------------------------------------------------------------------------------- charts
def test_columns_grow_from_zero_and_negative_ones_hang_below():
    # lo -1, hi 2: 3 rows of 1 unit each, zero on the lower edge of row 1 (from the bottom).
    # 2 -> 16 eighths up from zero (two full rows); -1 -> 8 eighths down (one full row);
    # None -> a cross on the zero row; 0 -> nothing.
    assert render_columns([2, -1, None, 0], width=4, height=3) == ["█   ", "█ × ", " █  "]
    assert y_labels(-1, 2, 3) == ["2", "0", "-1"]


def test_a_curve_stretches_over_the_width_and_bars_keep_gaps():
    # values 1 and 2 over 4 cells, one row: 1 is half the height (4 eighths), 2 the whole cell
    assert render_columns([1, 2], width=4, height=1, gaps=False) == ["▄▄██"]
    assert render_columns([1, 2], width=6, height=1, gaps=True) == ["▄▄ ██ "]


@async_test
async def test_charts_have_axes(make_app):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        text = screen_text(app)
        assert "1.28┤" in text and "#0" in text and "#10" in text  # the score chart: trials 0..10 ended
        assert "14.8┤" in text and "-5┤" in text and "30 logged" in text  # the best run's reward


# ------------------------------------------------------------------------------ runs view
def test_a_zero_reward_term_draws_no_bar():
    text = _plain(terms_table({"progress": 0.8, "fall": -0.4, "stand_still": 0.0}))
    rows = {line.split()[0]: line for line in text.splitlines()[1:] if line.strip()}
    assert rows["progress"].count("█") == 16 and rows["fall"].count("█") == 8
    assert "█" not in rows["stand_still"] and rows["stand_still"].split()[1] == "0"


def test_reward_bars_fit_the_pane():
    text = _plain(terms_table({"progress": 0.8, "fall": -0.4}, width=30), width=30)
    assert "…" not in text and max(len(line.rstrip()) for line in text.splitlines()) <= 30


# -------------------------------------------------------------------------------- forms
@async_test
async def test_form_fields_start_with_their_defaults(make_app):
    from tests.tui.test_snapshots import DEMO

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await app.push_screen(ActionFormScreen(DEMO, {"run": "runs/a"}))
        await pilot.pause()
        form = app.screen
        assert form.query_one("#param-env").value == "vbot_navigation_section001"
        assert form.query_one("#param-num_envs").value == "1024"
        assert form.query_one("#param-lr").value == "0.0003"
        device = form.query_one("#param-device")  # default None: the config decides; the help says what
        assert device.value == "" and device.placeholder == "default: cpu"
        # defaults are not repeated on the command line
        assert "$ vbot demo runs/a" in screen_text(app).replace("  ", " ")
        form.query_one("#param-num_envs").value = "64"
        await pilot.pause()
        assert "vbot demo --num-envs 64 runs/a" in screen_text(app)


def test_placeholder_says_what_an_empty_field_means():
    from vbot_agent.actions.registry import Param

    assert empty_means(Param("run", "path", required=True)) == "required"
    assert empty_means(Param("episodes", "int", default=32)) == "default: 32"
    assert empty_means(Param("env", help="env id (default: the checkpoint's env)")) == "default: the checkpoint's env"
    assert empty_means(Param("video", "path", help="write an mp4")) == "not set"


# -------------------------------------------------------------------------------- footer
@async_test
async def test_footer_keys_are_spaced(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        footer = screen_text(app).splitlines()[-1]
        assert "o Sort p i w tabs 1 2 3 4 views a Action ? Help q Quit" in footer and "^p palette" in footer
        for key, mode in (("2", "skills"), ("3", "runs"), ("4", "jobs")):
            await pilot.press(key)
            await settle(pilot, app)
            footer = screen_text(app).splitlines()[-1]
            assert "q Quit" in footer and "^p palette" in footer, (mode, footer)  # nothing cut off at 80
        await pilot.resize_terminal(160, 48)
        await pilot.press("1")
        await settle(pilot, app)
        assert "o Sort  p i w tabs  1 2 3 4 views  a Action  ? Help  q Quit" in screen_text(app).splitlines()[-1]


def test_trial_detail_keeps_values_whole_in_a_narrow_pane():
    from vbot_agent.tui.screens.dashboard import trial_detail

    trial = {"number": 1, "state": "complete", "score": 0.5, "metrics": {"time_to_target_s": 11.62},
             "params": {"reward.scales.arrival": 6.0, "ppo.learning_rate": 0.000375}}
    text = _plain(trial_detail(trial), width=28)
    assert "11.62" in text and "0.000375" in text and "…" not in text
