"""Unit tests of the TUI's pieces that need no app: readers, liveness, chart, job output."""

from __future__ import annotations

import os

from tests.tui.workspace_fixture import FROZEN_NOW, iso, make_state
from vbot_agent.agent.jobs import MAX_LINES, Job, vbot_argv
from vbot_agent.tui.data import campaign_liveness, format_age, reward_terms
from vbot_agent.tui.widgets.bar_chart import bucket, render_columns


def test_liveness_from_status_pid_host_and_heartbeat():
    state = make_state(3)
    assert campaign_liveness(state, FROZEN_NOW).label == "alive"  # other host: heartbeat 20 s old
    assert campaign_liveness({**state, "heartbeat": iso(-3600)}, FROZEN_NOW).label == "stale"
    here = {**state, "host": "this-host", "pid": os.getpid()}
    assert campaign_liveness(here, FROZEN_NOW, hostname="this-host").label == "alive"
    gone = {**here, "pid": 2**22 + 12345}
    dead = campaign_liveness(gone, FROZEN_NOW, hostname="this-host")
    assert dead.label == "dead" and "vbot automl --resume" in dead.detail
    assert campaign_liveness({**state, "status": "complete"}, FROZEN_NOW).label == "finished"


def test_format_age():
    assert [format_age(s) for s in (None, 5, 125, 3 * 3600 + 120, 2 * 86400 + 3600)] == \
        ["?", "5s", "2m", "3h02m", "2d1h"]


def test_reward_terms_take_the_last_value_of_each_term():
    scalars = {"Reward Instant / progress (mean)": [(1, 0.1), (2, 0.5)], "Reward / Total reward (mean)": [(1, 3.0)],
               "Reward Instant / fall (mean)": [(1, -0.2)]}
    assert reward_terms(scalars) == {"progress": 0.5, "fall": -0.2}


def test_chart_buckets_and_draws_failures():
    assert bucket([1, 2, 3, 4], 2) == [1.5, 3.5]
    assert bucket([None, None, 1.0, 3.0], 2) == [None, 2.0]
    rows = render_columns([0.0, 1.0, None, 2.0], width=4, height=2)
    assert len(rows) == 2 and rows[-1][2] == "×" and rows[0][3] == "█"


def test_job_output_keeps_partial_lines_and_is_bounded():
    job = Job(id=1, action="envs", command=["vbot", "envs"], argv=["x"])
    assert job.append("one\ntw") == 1
    assert job.append("o\r50%\rdone\n") == 3
    assert job.lines == ["one", "two", "50%", "done"]
    job.append("x\n" * (MAX_LINES + 10))
    assert len(job.lines) == MAX_LINES and job.dropped == 14


def test_vbot_argv_runs_this_interpreter_with_the_workspace(tmp_path):
    argv = vbot_argv(["vbot", "bench", "env", "--num-envs", "64"], tmp_path)
    assert argv[1:] == ["-m", "vbot_agent.cli", "bench", "env", "--num-envs", "64", "--workspace", str(tmp_path)]


def test_tui_action_is_registered_in_the_interface_group():
    from vbot_agent.actions import REGISTRY

    action = REGISTRY.get("tui")
    assert action.group == "interface" and action.func == "vbot_agent.tui.app:run_tui"
