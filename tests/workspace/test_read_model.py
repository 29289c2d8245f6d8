"""One read model: `vbot status`, `vbot checkpoints --best`, WAKE_UP.md and the TUI agree."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import yaml

from vbot_agent.actions.context import Context
from vbot_agent.agent.wakeup import build_wake_up, read_snapshot
from vbot_agent.automl.commands import checkpoints, render_checkpoints
from vbot_agent.automl.status import campaign_status
from vbot_agent.tui.data import WorkspaceReader
from vbot_agent.workspace import Paths
from vbot_agent.workspace.checkpoints import register
from vbot_agent.workspace.init import init_workspace
from vbot_agent.workspace.state import StateWriter, new_state


def _campaign(root, pid: int) -> None:
    """A running campaign's state (written by the real writer) and three registered checkpoints: the
    state's own best trial scores 0.6; its final run ties it later; an older trial scored 0.4."""
    init_workspace(root)
    paths = Paths(root)
    state = new_state(automl_id="automl_x", settings={"mode": "stage", "env_id": "vbot_navigation_section001",
                                                      "budget_hours": 1.0},
                      storage="sqlite:///x.db", study_name="s", score_formula="f")
    state.update(pid=pid, host=socket.gethostname(), best={"trial": 3, "score": 0.6, "checkpoint": "runs/a/3/last.pt"})
    StateWriter(paths.state_file, root / "snapshot.yaml", None).write(state)
    for name, score in (("trial_1", 0.4), ("trial_3", 0.6), ("final", 0.6)):
        register(paths.registry_file, {"id": f"automl_x/{name}", "automl_id": "automl_x", "trial": name,
                                       "env_id": "vbot_navigation_section001", "checkpoint": f"runs/a/{name}/last.pt",
                                       "run_dir": f"runs/a/{name}", "score": score, "metrics": {}, "params": {}})


def test_every_reader_names_the_same_best_and_the_same_liveness(tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    _campaign(tmp_path, gone.pid)
    ctx = Context(json=True, workspace_override=str(tmp_path), cwd=tmp_path)

    status = campaign_status(tmp_path)
    best = checkpoints(ctx, best=True)["checkpoints"]
    wake = build_wake_up(read_snapshot(tmp_path))
    tui = WorkspaceReader(tmp_path).read(with_curves=False)

    assert status["best"]["id"] == best[0]["id"] == tui.best["id"] == "automl_x/final"  # the tie goes to the newest
    assert "`automl_x/final`" in wake.split("## Best result", 1)[1].split("## ", 1)[0]
    assert status["status"] == "died" and status["liveness"] == tui.liveness.label == "dead"
    assert "**DEAD.**" in wake


def test_checkpoints_best_says_when_its_pick_was_a_tie(tmp_path):
    _campaign(tmp_path, os.getpid())
    ctx = Context(json=True, workspace_override=str(tmp_path), cwd=tmp_path)
    result = checkpoints(ctx, best=True)
    assert result["tied"] == {"automl_x/final": 1}  # trial_3 scores the same 0.6
    assert "tied with 1 other registered checkpoint at this score" in render_checkpoints(result)
    assert "tied with" not in render_checkpoints(checkpoints(ctx))  # the full list needs no note


def test_a_live_pid_is_alive_everywhere(tmp_path):
    _campaign(tmp_path, os.getpid())
    assert campaign_status(tmp_path)["alive"] is True
    assert WorkspaceReader(tmp_path).read(with_curves=False).liveness.label == "alive"
    assert "**ALIVE.**" in build_wake_up(read_snapshot(tmp_path))


def test_every_reader_shows_the_search_warnings(tmp_path):
    """Tied or floor scores reach status, WAKE_UP.md and the TUI, computed from the state's trial
    records by each reader: a sentence stored by an older version is never shown."""
    from rich.console import Console

    from vbot_agent.automl.status import render_status
    from vbot_agent.tui.widgets.campaign_status import CampaignStatus
    from vbot_agent.workspace.search_health import search_warnings

    def readers() -> list[str]:
        widget = CampaignStatus()
        console = Console(width=1000, record=True)
        console.print(widget.build(WorkspaceReader(tmp_path).read(with_curves=False)))
        return [render_status(campaign_status(tmp_path)), build_wake_up(read_snapshot(tmp_path)),
                console.export_text()]

    _campaign(tmp_path, os.getpid())
    paths = Paths(tmp_path)
    state = yaml.safe_load(paths.state_file.read_text())
    state["settings"]["trial_steps"] = 200_000
    state["trials"] = [{"number": n, "state": "complete", "score": -0.1, "metrics": {"success_rate": 0.0}}
                       for n in (0, 1)]
    state["search_warnings"] = ["tied scores: an older rule's sentence"]
    StateWriter(paths.state_file, tmp_path / "snapshot.yaml", paths.state_file.read_text()).write(state)
    floor = search_warnings(state["trials"], state["settings"])[0]
    assert floor.startswith("score floor:")
    status, wake_up, tui = readers()
    assert f"warning   {floor}" in status
    assert f"- Search: {floor}" in wake_up
    assert f"search: {floor}" in tui
    assert not any("older rule" in text for text in (status, wake_up, tui))

    state["trials"][1].update(score=0.4, metrics={"success_rate": 0.5})  # told apart: nothing to say
    StateWriter(paths.state_file, tmp_path / "snapshot.yaml", paths.state_file.read_text()).write(state)
    assert not any("score floor" in text or "tied scores" in text for text in readers())


def test_scores_of_different_envs_are_not_ranked_against_each_other(tmp_path):
    """A curriculum's flat-tile stage scores higher than any course checkpoint: every reader names
    the best of each env, and `checkpoints --best` lists one per env unless --env picks one."""
    from vbot_agent.automl.status import render_status

    _campaign(tmp_path, os.getpid())
    register(Paths(tmp_path).registry_file, {
        "id": "curriculum/terrain/flat", "automl_id": "automl_x", "trial": None, "env_id": "vbot_navigation_terrain",
        "checkpoint": "runs/t/flat/best.pt", "run_dir": "runs/t/flat", "score": 1.2, "metrics": {}, "params": {}})
    ctx = Context(json=True, workspace_override=str(tmp_path), cwd=tmp_path)

    listed = checkpoints(ctx, best=True)
    assert [c["id"] for c in listed["checkpoints"]] == ["curriculum/terrain/flat", "automl_x/final"]
    note = listed["env_bests"][0]
    assert note.startswith("several envs:") and "vbot_navigation_section001: automl_x/final" in note
    assert [c["id"] for c in checkpoints(ctx, best=True, env="vbot_navigation_section001")["checkpoints"]] == [
        "automl_x/final"]
    assert note in render_status(campaign_status(tmp_path))
    assert note in build_wake_up(read_snapshot(tmp_path))
    assert note in WorkspaceReader(tmp_path).read(with_curves=False).unregistered
    table = render_checkpoints(checkpoints(ctx)).splitlines()  # the plain table: one block per env, named
    assert table.index("vbot_navigation_section001:") < table.index("vbot_navigation_terrain:")
    assert "runs/t/flat/best.pt" in table[table.index("vbot_navigation_terrain:") + 1]
    none = render_checkpoints(checkpoints(ctx, best=True, env="vbot_navigation_section013"))
    assert none.startswith("no checkpoint of vbot_navigation_section013 registered (4 of other envs)")


def test_a_curriculum_stage_past_the_registry_is_named_by_every_reader(tmp_path):
    """Only promoted stages register: a curriculum whose flat stage was promoted and whose course
    stage is stuck must not leave the flat policy as the only answer; every reader names the stage."""
    from vbot_agent.automl.status import render_status

    _campaign(tmp_path, os.getpid())
    paths = Paths(tmp_path)
    state = yaml.safe_load(paths.state_file.read_text())
    stages = [{"name": "flat", "env_id": "vbot_navigation_terrain", "status": "promoted",
               "best_checkpoint": "runs/a/final/last.pt"},
              {"name": "s011", "env_id": "vbot_navigation_section011", "status": "stuck",
               "best_checkpoint": "log/s011/best.pt", "metrics": {"success_rate": 0.12}}]
    state.update(mode="curriculum", curriculum={"plan": "p.yaml", "plan_name": "p", "status": "stuck",
                                                "stage_index": 1, "message": None, "stages": stages})
    StateWriter(paths.state_file, tmp_path / "snapshot.yaml", paths.state_file.read_text()).write(state)
    note = ("not in the registry (only promoted stages are): the curriculum's furthest stage 's011' "
            "(vbot_navigation_section011, stuck, best evaluation success 0.12); `vbot play --env "
            "vbot_navigation_section011 --policy log/s011/best.pt` plays its best checkpoint (`--competition` "
            "scores a course or the flat ring as the competition does)")
    ctx = Context(json=True, workspace_override=str(tmp_path), cwd=tmp_path)
    assert note in render_status(campaign_status(tmp_path))
    assert note in build_wake_up(read_snapshot(tmp_path))
    assert note in WorkspaceReader(tmp_path).read(with_curves=False).unregistered
    assert note in checkpoints(ctx)["unregistered"]
    assert note.replace("furthest stage", "stage") in checkpoints(ctx, env="vbot_navigation_section011")["unregistered"]
    assert checkpoints(ctx, env="vbot_navigation_section001")["unregistered"] == []
    stages.append({"name": "s012", "env_id": "vbot_navigation_section012", "status": "stuck",
                   "best_checkpoint": "log/s012/best.pt"})  # a later stage: --env still finds s011's
    StateWriter(paths.state_file, tmp_path / "snapshot.yaml", paths.state_file.read_text()).write(state)
    assert "'s011'" in checkpoints(ctx, env="vbot_navigation_section011")["unregistered"][0]
    assert "'s012'" in checkpoints(ctx)["unregistered"][0]
    stages.pop()
    stages[1]["best_checkpoint"] = "runs/a/trial_3/last.pt"  # registered (as a promoted stage's is): no note
    StateWriter(paths.state_file, tmp_path / "snapshot.yaml", paths.state_file.read_text()).write(state)
    assert "only promoted stages" not in build_wake_up(read_snapshot(tmp_path))


def test_policy_best_needs_an_env_when_several_are_registered(tmp_path):
    import pytest

    from vbot_agent.errors import UsageError
    from vbot_agent.rl.run_dir import resolve_policy_path

    _campaign(tmp_path, os.getpid())
    paths = Paths(tmp_path)
    final = tmp_path / "runs/a/final/last.pt"
    final.parent.mkdir(parents=True)
    final.write_bytes(b"")
    assert resolve_policy_path(paths.runs, "best") == final  # one env: the registry's best
    register(paths.registry_file, {"id": "curriculum/terrain/flat", "automl_id": "automl_x", "trial": None,
                                   "env_id": "vbot_navigation_terrain", "checkpoint": "runs/t/flat/best.pt",
                                   "run_dir": "runs/t/flat", "score": 1.2, "metrics": {}, "params": {}})
    with pytest.raises(UsageError, match=r"checkpoints of 2 envs .* add --env ENV"):
        resolve_policy_path(paths.runs, "best")
    assert resolve_policy_path(paths.runs, "best", "vbot_navigation_section001") == final


def test_wake_up_suggests_competition_scoring_only_for_envs_the_competition_scores(tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    _campaign(tmp_path, gone.pid)
    register(Paths(tmp_path).registry_file, {
        "id": "curriculum/terrain/flat", "automl_id": "automl_x", "trial": None, "env_id": "vbot_navigation_terrain",
        "checkpoint": "runs/t/flat/best.pt", "run_dir": "runs/t/flat", "score": 1.2, "metrics": {}, "params": {}})
    paths = Paths(tmp_path)
    state = yaml.safe_load(paths.state_file.read_text())
    state["status"] = "complete"
    StateWriter(paths.state_file, tmp_path / "snapshot.yaml", paths.state_file.read_text()).write(state)
    commands = build_wake_up(read_snapshot(tmp_path)).split("## Next commands", 1)[1]
    assert "vbot play --env vbot_navigation_section001 --policy runs/a/final/last.pt --competition" in commands
    assert "vbot_navigation_terrain" not in commands  # the training terrain has no competition scoring


def test_a_stuck_curriculum_sends_to_the_plan_edit_first(tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    _campaign(tmp_path, gone.pid)
    paths = Paths(tmp_path)
    state = yaml.safe_load(paths.state_file.read_text())
    state.update(mode="curriculum", status="stopped",
                 curriculum={"plan": "plans/p.yaml", "plan_name": "p", "status": "stuck", "stage_index": 0,
                             "message": "stage 'a' is stuck",
                             "stages": [{"name": "a", "status": "stuck", "stuck_at_steps": 3_000_000}]})
    StateWriter(paths.state_file, tmp_path / "snapshot.yaml", paths.state_file.read_text()).write(state)
    wake_up = build_wake_up(read_snapshot(tmp_path))
    assert "Its stuck stage needs more steps or a lower bar first: `vbot curriculum edit --set a.steps=6000000`" in wake_up
    commands = wake_up.split("## Next commands", 1)[1]
    line = next(line for line in commands.splitlines() if line.startswith("vbot curriculum"))
    assert line.startswith("vbot curriculum edit --set a.steps=6000000 ") and "then `vbot curriculum run`" in line
    assert campaign_status(tmp_path)["next"] == "vbot curriculum edit --set a.steps=6000000"


def test_a_stuck_curriculum_note_is_composed_from_its_record_not_read_back(tmp_path):
    """A stuck curriculum's stored sentence (here an older rule's, naming another best) is never
    shown: `vbot status`, WAKE_UP.md and the TUI all compose the note from the stage record."""
    from rich.console import Console

    from vbot_agent.automl.status import render_status
    from vbot_agent.tui.widgets.campaign_status import CampaignStatus

    _campaign(tmp_path, os.getpid())
    paths = Paths(tmp_path)
    state = yaml.safe_load(paths.state_file.read_text())
    stage = {"name": "a", "status": "stuck", "stuck_at_steps": 3_000_000, "env_steps": 3_014_656,
             "best_env_steps": 2_000_000, "metrics": {"success_rate": 0.44}}
    state.update(mode="curriculum", status="stopped", message="stage 'a' is stuck: best 0.44 at 1,000,000",
                 curriculum={"plan": "plans/p.yaml", "plan_name": "p", "status": "stuck", "stage_index": 0,
                             "message": "stage 'a' is stuck: best 0.44 at 1,000,000", "stages": [stage]})
    StateWriter(paths.state_file, tmp_path / "snapshot.yaml", paths.state_file.read_text()).write(state)
    note = ("stage 'a' is stuck after 3,014,656 env steps (best evaluation success 0.44 at 2,000,000 env steps)")
    console = Console(width=1000, record=True)
    console.print(CampaignStatus().build(WorkspaceReader(tmp_path).read(with_curves=False)))
    texts = (render_status(campaign_status(tmp_path)), build_wake_up(read_snapshot(tmp_path)), console.export_text())
    for text in texts[:2]:
        assert note in text and "1,000,000" not in text
    # the TUI's panel has two lines for it at 80 columns: the stage, its best and the next command
    assert ("stage 'a' stuck after 3,014,656 env steps (best success 0.44); next `vbot curriculum edit --set "
            "a.steps=6000000`") in texts[2] and "1,000,000" not in texts[2]
    assert "`vbot curriculum edit --set a.steps=6000000`" in texts[0]
    assert "handed on stuck" not in texts[0]
    state["curriculum"]["stages"] = [{"name": "z", "status": "stuck", "advanced": True}, stage]
    state["curriculum"]["stage_index"] = 1
    StateWriter(paths.state_file, tmp_path / "snapshot.yaml", paths.state_file.read_text()).write(state)
    assert "The stage(s) before it, 'z', were handed on stuck" in build_wake_up(read_snapshot(tmp_path))
    status = campaign_status(tmp_path)  # a stopped process still has a heartbeat age; a curriculum no budget
    assert status["heartbeat_age_s"] is not None and (status["elapsed_hours"], status["budget_hours"]) == (None, None)
