"""WAKE_UP.md: complete sections from any state, and a watcher that follows every kind of write."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from tests.agent.conftest import REPO, dead_pid, iso, make_state, write_state
from vbot_agent.agent import wakeup
from vbot_agent.agent.watcher import Watcher

SECTIONS = ["## Campaign", "## Process", "## Best result", "## Last trials", "## Live runs", "## Warnings",
            "## Next commands"]


def snapshot(root: Path) -> str:
    Watcher(root, diagnosis=False).snapshot()
    return (root / "WAKE_UP.md").read_text()


def assert_complete(text: str) -> None:
    assert text.startswith(wakeup.TITLE) and text.endswith("\n")
    positions = [text.index(s) for s in SECTIONS]
    assert positions == sorted(positions), "sections out of order"


def next_commands(text: str) -> list[str]:
    block = text.split("## Next commands", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    return [line.split("#")[0].strip() for line in block.strip().splitlines()]


def write_run(root: Path, name: str = "2026-11-23_10-00-00_PPO", **fields) -> Path:
    folder = root / "runs" / "vbot_navigation_section001" / name
    folder.mkdir(parents=True, exist_ok=True)
    progress = {"env_id": "vbot_navigation_section001", "iteration": 10, "env_steps": 1_000_000,
                "max_env_steps": 4_000_000, "env_steps_per_s": 21000.0, "reward": 12.5, "success_rate": 0.25,
                "distance_to_target": 3.2, "started_at": iso(-600), "updated_at": iso(-2), "pid": os.getpid(),
                "status": "running"}
    progress.update(fields)
    (folder / "progress.json").write_text(json.dumps(progress))
    return folder


# -- content ---------------------------------------------------------------------------------------

def test_running_campaign(workspace):
    write_state(workspace, make_state())
    text = snapshot(workspace)
    assert_complete(text)
    assert "`automl_20261123_101500`" in text and "**running**" in text
    assert "2.50 h of 8.00 h (31%)" in text
    assert "**ALIVE.**" in text and f"pid {os.getpid()}" in text
    assert "score **0.77**" in text and "checkpoints/best.pt`" in text and "learning_rate: 0.00063" in text
    assert "The last 10 of 12 trials" in text
    trial_rows = [line for line in text.splitlines() if line.startswith("| ") and "| complete |" in line]
    assert trial_rows and "CUDA OOM / retry" in text  # a pipe in an error does not break the table
    assert "1 failed trial(s) of 12" in text
    assert "No training runs yet" in text
    assert next_commands(text)[0] == "vbot status"


def test_dead_campaign_says_resume_first(workspace):
    write_state(workspace, make_state(pid=dead_pid(), heartbeat=iso(-900)))
    text = snapshot(workspace)
    assert_complete(text)
    assert "**DEAD.**" in text and "15.0 min ago" in text
    assert "**Resume it first:** `vbot automl --resume`" in text
    assert next_commands(text)[0] == "vbot automl --resume"


def test_other_host_with_old_heartbeat_is_probably_dead(workspace):
    write_state(workspace, make_state(host="some-other-machine", heartbeat=iso(-3600)))
    text = snapshot(workspace)
    assert "**PROBABLY DEAD.**" in text and next_commands(text)[0] == "vbot automl --resume"


def test_finished_campaign_suggests_playing_the_best(workspace):
    write_state(workspace, make_state(status="complete", phase="done"))
    commands = next_commands(snapshot(workspace))
    assert "vbot automl --resume" not in commands
    assert any(c.startswith("vbot play ") and "--competition" in c and "best.pt" in c for c in commands)


@pytest.mark.parametrize("broken", ["trials: [unclosed\n", "- just\n- a list\n", ""])
def test_corrupt_state_keeps_every_section(workspace, broken):
    write_state(workspace, broken)
    text = snapshot(workspace)
    assert_complete(text)
    assert "**The campaign state is unreadable:**" in text
    for section in ("## Process", "## Last trials"):
        body = text.split(section, 1)[1].split("\n## ", 1)[0]
        assert "could not be read" in body, section
    # the best checkpoint comes from the registry, which a broken state does not hide
    assert "No checkpoint registered yet" in text.split("## Best result", 1)[1].split("\n## ", 1)[0]
    assert next_commands(text)[0] == "vbot status"


def test_no_campaign_yet(workspace):
    text = snapshot(workspace)
    assert_complete(text)
    assert "No campaign in this workspace yet" in text
    assert any(c.startswith("vbot automl --mode stage") for c in next_commands(text))


def test_a_section_that_raises_says_so(workspace, monkeypatch):
    write_state(workspace, make_state())

    def boom(snap):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(wakeup, "_best", boom)
    text = snapshot(workspace)
    assert_complete(text)
    assert "**This section could not be built:** RuntimeError: disk on fire" in text


def test_next_commands_parse_against_the_cli(workspace, real_registry):
    from vbot_agent.agent.lint import check_command

    for state in (None, make_state(), make_state(pid=dead_pid()), make_state(status="complete", phase="done",
                                                                              curriculum={"stage": 1})):
        if state is not None:
            write_state(workspace, state)
        for command in next_commands(snapshot(workspace)):
            check_command(command, real_registry)


def test_live_runs_progress_trend_and_stale(workspace):
    write_state(workspace, make_state())
    write_run(workspace)
    write_run(workspace, "2026-11-23_09-00-00_PPO", pid=dead_pid(), updated_at=iso(-3600))
    watcher = Watcher(workspace, diagnosis=False)
    watcher.refresh()
    write_run(workspace, env_steps=2_000_000, reward=20.0, success_rate=0.4)
    watcher.refresh()
    text = (workspace / "WAKE_UP.md").read_text()
    assert "2M/4M (50%)" in text and "40%" in text
    assert "reward up +7.5" in text and "success up +15.0 pts" in text
    assert "pid" in text and "is gone (stale run): it stopped; `vbot train --resume runs/" in text
    # the table says what `vbot runs` says: the dead run is not among the live ones, and once none is
    # live it is listed as stopped, not running
    assert not [line for line in text.splitlines() if line.startswith("| `runs/") and "09-00-00" in line]
    write_run(workspace, status="finished")
    watcher.refresh()
    rows = [line for line in (workspace / "WAKE_UP.md").read_text().splitlines() if line.startswith("| `runs/")]
    stale_row = next(line for line in rows if "09-00-00" in line)
    assert "| stopped: its process is gone" in stale_row and "| running |" not in stale_row


# -- the watcher -----------------------------------------------------------------------------------

def wait_for(predicate, timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.02)
    raise AssertionError(f"not within {timeout} s")


def wake_text(root: Path) -> str:
    try:
        return (root / "WAKE_UP.md").read_text()
    except FileNotFoundError:
        return ""


@pytest.fixture
def running_watcher(workspace):
    watchers = []

    def start(**kwargs) -> Watcher:
        watcher = Watcher(workspace, diagnosis=False, **kwargs)
        thread = threading.Thread(target=watcher.run, daemon=True)
        thread.start()
        watchers.append((watcher, thread))
        assert watcher.ready.wait(5)
        return watcher

    yield start
    for watcher, thread in watchers:
        watcher.stop()
        thread.join(timeout=5)


def atomic_state(root: Path, state: dict) -> None:
    path = root / "starter_kit_schedule" / "progress" / "automl_state.yaml"
    tmp = path.with_name("automl_state.yaml.tmp")
    tmp.write_text(yaml.safe_dump(state))
    os.replace(tmp, path)


def test_atomic_replace_is_seen_within_2s(workspace, running_watcher):
    write_state(workspace, make_state())
    running_watcher(interval=60)
    atomic_state(workspace, make_state(automl_id="replaced_atomically"))
    assert wait_for(lambda: "replaced_atomically" in wake_text(workspace), 2.0) < 2.0
    assert_complete(wake_text(workspace))


def test_in_place_write_is_seen_within_2s(workspace, running_watcher):
    path = write_state(workspace, make_state())
    running_watcher(interval=60)
    with open(path, "w") as handle:
        handle.write(yaml.safe_dump(make_state(automl_id="written_in_place")))
    assert wait_for(lambda: "written_in_place" in wake_text(workspace), 2.0) < 2.0


def test_new_run_folder_is_seen(workspace, running_watcher):
    write_state(workspace, make_state())
    running_watcher(interval=60)
    write_run(workspace, "2026-11-23_11-11-11_PPO")
    wait_for(lambda: "2026-11-23_11-11-11_PPO" in wake_text(workspace), 3.0)


def test_polling_mode(workspace, running_watcher):
    write_state(workspace, make_state())
    running_watcher(interval=0.3, poll=True)
    atomic_state(workspace, make_state(automl_id="seen_by_polling"))
    assert wait_for(lambda: "seen_by_polling" in wake_text(workspace), 2.0) < 1.0


def test_burst_of_100_writes_ends_correct_and_complete(workspace, running_watcher):
    path = write_state(workspace, make_state())
    watcher = running_watcher(interval=60)
    texts = []
    stop = threading.Event()

    def reader():  # every read of WAKE_UP.md during the burst is a complete file
        while not stop.is_set():
            text = wake_text(workspace)
            if text:
                texts.append(text)
            time.sleep(0.005)

    thread = threading.Thread(target=reader)
    thread.start()
    for number in range(100):
        state = make_state(automl_id=f"burst_{number:03d}")
        if number % 2:
            atomic_state(workspace, state)
        else:
            path.write_text(yaml.safe_dump(state))
    wait_for(lambda: "burst_099" in wake_text(workspace), 3.0)
    stop.set()
    thread.join()
    for text in texts:
        assert_complete(text)
    assert watcher.writes < 50  # debounced, not one write per event


def test_own_write_does_not_retrigger(workspace, running_watcher):
    write_state(workspace, make_state())
    write_run(workspace)  # the trend history is written too
    watcher = running_watcher(interval=60)
    atomic_state(workspace, make_state(automl_id="once"))
    wait_for(lambda: "once" in wake_text(workspace), 2.0)
    time.sleep(0.5)
    refreshes = watcher.refreshes
    time.sleep(1.5)
    assert watcher.refreshes == refreshes


def test_cli_snapshot_and_watch(workspace):
    write_state(workspace, make_state(pid=dead_pid()))
    base = [sys.executable, "-m", "vbot_agent.cli", "watch", "--workspace", str(workspace), "--no-diagnosis"]
    result = subprocess.run([*base, "--snapshot", "--json"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["wake_up"] == str(workspace / "WAKE_UP.md")
    assert "**DEAD.**" in wake_text(workspace)
    result = subprocess.run([*base, "--watch", "--poll", "--interval", "0.2", "--duration", "0.5", "--json"],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["mode"] == "poll"
    bad = subprocess.run([*base, "--snapshot", "--watch"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "choose one" in bad.stderr


def test_reward_diagnosis_findings_become_warnings(workspace, monkeypatch):
    from vbot_agent.agent import watcher as watcher_module

    calls = []

    def fake_diagnose(root, run_dir):
        calls.append(run_dir)
        time.sleep(0.3)
        return [f"Reward diagnosis [warning] `lazy_robot` in `{run_dir}`: standing earns more than arriving"], 1

    monkeypatch.setattr(watcher_module, "diagnose", fake_diagnose)
    write_state(workspace, make_state())
    write_run(workspace)
    Watcher(workspace).snapshot()  # inline
    assert "`lazy_robot` in `runs/vbot_navigation_section001/2026-11-23_10-00-00_PPO`" in wake_text(workspace)
    (workspace / "WAKE_UP.md").unlink()
    watcher = Watcher(workspace, interval=60)  # background: first "running", then the findings
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    try:
        assert watcher.ready.wait(5)
        assert "Reward diagnosis: running" in wake_text(workspace)
        wait_for(lambda: "`lazy_robot`" in wake_text(workspace), 3.0)
    finally:
        watcher.stop()
        thread.join(timeout=5)
    assert len(calls) == 2  # once per cache, not once per refresh


def test_an_older_lazy_run_is_diagnosed_and_campaign_trials_are_left_to_the_search_warnings(workspace, monkeypatch):
    """Not only the newest run: the newest runs outside the campaign (trial runs matched by
    runs/<env>/<run> even when the state holds absolute paths of a moved workspace)."""
    from vbot_agent.agent import watcher as watcher_module

    calls = []

    def fake_diagnose(root, run_dir):
        calls.append(run_dir)
        if run_dir.endswith("lazy_PPO"):
            return [f"Reward diagnosis [high] `lazy_robot` in `{run_dir}`: alive pays everything"], 1
        return [], 0

    monkeypatch.setattr(watcher_module, "diagnose", fake_diagnose)
    for name in ("2026-11-20_lazy_PPO", "2026-11-21_healthy_PPO", "2026-11-22_trial_PPO", "2026-11-23_final_PPO"):
        write_run(workspace, name, status="finished")
    state = make_state()
    state["trials"][0]["run_dir"] = "/elsewhere/runs/vbot_navigation_section001/2026-11-22_trial_PPO"
    state["final"] = {**(state.get("final") or {}), "run_dir": "runs/vbot_navigation_section001/2026-11-23_final_PPO"}
    write_state(workspace, state)
    Watcher(workspace).snapshot()
    text = wake_text(workspace)
    assert sorted(Path(c).name for c in calls) == ["2026-11-20_lazy_PPO", "2026-11-21_healthy_PPO"]
    assert "Reward diagnosis of the 2 newest runs that are not campaign trials" in text
    assert "`lazy_robot` in `runs/vbot_navigation_section001/2026-11-20_lazy_PPO`" in text
    assert "`vbot diagnose-reward RUN` diagnoses one" in text
    assert "Reward diagnosis: no findings in `runs/vbot_navigation_section001/2026-11-21_healthy_PPO`." in text


def test_without_the_action_the_warning_says_so(workspace, monkeypatch):
    import vbot_agent.actions as actions
    from vbot_agent.actions.registry import Registry

    monkeypatch.setattr(actions, "REGISTRY", Registry())
    write_state(workspace, make_state())
    write_run(workspace)
    Watcher(workspace).snapshot()
    assert "Reward diagnosis: not available in this version (no `diagnose-reward` action)." in wake_text(workspace)


def test_stage_table_shows_points_only_where_the_competition_scores():
    from vbot_agent.agent.wakeup_text import stages_table

    cur = {"status": "running", "stage_index": 1, "stages": [
        {"name": "levels", "env_id": "vbot_navigation_terrain", "status": "promoted",
         "metrics": {"success_rate": 0.6, "competition_points": 0.0, "max_points": 2.0}},
        {"name": "s012", "env_id": "vbot_navigation_section012", "status": "running",
         "metrics": {"success_rate": 0.1, "competition_points": 4.25, "max_points": 60.0}}]}
    rows = [line for line in stages_table(cur) if line.startswith("| ") and "---" not in line]
    assert rows[0].split(" | ")[7] == "points"
    assert rows[1].split(" | ")[7] == "-"  # the training terrain has no competition points
    assert rows[2].split(" | ")[7] == "4.25 of 60"
