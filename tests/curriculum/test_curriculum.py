"""Curriculum plans and runs: promotion only when measured criteria hold, resume
after a crash at the right stage, clear errors for bad plans.

Stages train with the campaign tests' fake trainer (``fake_trainer.py``: success rate grows with env
steps, best at lr 1e-3) through the real trial machinery. This file is also the trial backend
(``backend: test_curriculum``) and, run as a script, a shim in front of the fake trainer that logs
the warm-start / resume flags the curriculum passes and drops them (the fake does not know them).
"""

from __future__ import annotations

import json
import os
import runpy
import shutil
import signal
import sys
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
FAKE_TRAINER = HERE.parent / "harness" / "fake_trainer.py"
LAUNCH_LOG_ENV = "CURRICULUM_LAUNCH_LOG"


def _shim_main() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    for flag in ("--checkpoint", "--lr-multiplier", "--resume"):
        parser.add_argument(flag)
    for flag in ("--reset-optimizer", "--freeze-normalizer"):
        parser.add_argument(flag, action="store_true")
    known, rest = parser.parse_known_args()
    with open(os.environ[LAUNCH_LOG_ENV], "a") as handle:
        handle.write(json.dumps({"stage": os.environ.get("VBOT_TRIAL_ID", "").rsplit("/", 1)[-1], **vars(known)}) + "\n")
    sys.argv = [str(FAKE_TRAINER), *rest]
    runpy.run_path(str(FAKE_TRAINER), run_name="__main__")


if __name__ == "__main__":  # the trainer shim (see the module docstring)
    _shim_main()
    sys.exit(0)

import fake_backend  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402
from campaign_kit import read_state, vbot, vbot_background, wait_for  # noqa: E402

from vbot_agent.automl.status import campaign_status  # noqa: E402
from vbot_agent.curriculum import commands as curriculum  # noqa: E402
from vbot_agent.curriculum.plan import Promotion, check_promotion, load_plan  # noqa: E402
from vbot_agent.curriculum.session import PromotionRefused  # noqa: E402
from vbot_agent.errors import UsageError  # noqa: E402
from vbot_agent.rl.run_dir import resolve_policy_path  # noqa: E402
from vbot_agent.workspace.checkpoints import load_registry  # noqa: E402
from vbot_agent.workspace.run_list import curriculum_best_checkpoint  # noqa: E402

REPO = HERE.parent.parent
check_overrides = fake_backend.check_overrides
evaluate = fake_backend.evaluate


def train_command(spec, train_config_file):
    """fake_backend's command, behind this file's shim."""
    argv = fake_backend.train_command(spec, train_config_file)
    return [sys.executable, str(Path(__file__).resolve()), *argv[2:]]


# -- helpers -------------------------------------------------------------------------------------
def _stage(name, **kw):
    stage = {"name": name, "env_id": "dummy:point_nav", "env": {"target_max_m": 1.0}, "steps": 40000,
             "promote": {"success_rate": 0.5, "patience": 2}}
    stage.update(kw)
    return stage


def write_plan(root: Path, stages, name="test_plan", file="plan.yaml") -> Path:
    plan = {"name": name, "num_envs": 4, "seed": 3, "backend": "test_curriculum",
            "evaluation": {"episodes": 2, "final_episodes": 4, "every_env_steps": 10000},
            "timeouts": {"heartbeat_s": 0.3, "grace_s": 3, "stall_s": 5, "stop_s": 3, "poll_s": 0.05},
            "stages": stages}
    path = root / file
    path.write_text(yaml.safe_dump(plan, sort_keys=False))
    return path


@pytest.fixture
def launch_log(fake_env, tmp_path, monkeypatch):
    log = tmp_path / "launches.jsonl"
    monkeypatch.setenv(LAUNCH_LOG_ENV, str(log))
    return log


def launches(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def _quiet(_text):
    pass


# -- the promotion rule (pure) -----------------------------------------------------------------------
def test_promotion_rule_counts_after_min_steps_and_needs_patience_in_a_row():
    promote = Promotion(success_rate=0.6, min_env_steps=200, patience=2)
    evals = [{"env_steps": 100, "success_rate": 0.9}, {"env_steps": 200, "success_rate": 0.7},
             {"env_steps": 300, "success_rate": 0.5}, {"env_steps": 400, "success_rate": 0.65}]
    check = check_promotion(promote, evals)
    assert not check.met and check.counted == 3
    assert any(f.startswith("patience: the thresholds held for 1 evaluation in a row, 2 needed") for f in check.failing)
    assert check_promotion(promote, [*evals, {"env_steps": 500, "success_rate": 0.61}]).met
    early = check_promotion(promote, evals[:1])
    bar = "(needs success_rate >= 0.6 in 2 evaluations in a row at >= 200 env steps)"
    assert early.failing == (f"min_env_steps: the last evaluation is at 100 env steps, < 200 {bar}",)
    low = check_promotion(promote, evals[:3])
    # the 0.9 at 100 env steps came before min_env_steps: the best named is the best that counts, and says so
    assert low.failing[0].startswith("success_rate: 0.500 at 300 env steps < 0.6 (best from 200 env steps on: 0.700 at 200)")
    assert check_promotion(replace(promote, min_env_steps=0, success_rate=0.95), evals[:3]).failing[0].startswith(
        "success_rate: 0.500 at 300 env steps < 0.95 (best 0.900 at 100)")
    assert check_promotion(promote, []).failing == (f"success_rate: not measured yet, no evaluation so far {bar}",)
    falls = Promotion(success_rate=0.5, max_fall_rate=0.1)
    assert "max_fall_rate" in check_promotion(falls, [{"env_steps": 1, "success_rate": 0.9, "fall_rate": 0.3}]).failing[0]
    stuck = Promotion(success_rate=0.9, stuck_after=2)
    assert check_promotion(stuck, [{"env_steps": i, "success_rate": 0.1} for i in range(2)]).stuck


# -- plans ---------------------------------------------------------------------------------------------
def test_shipped_plans_resolve_against_the_real_trainer_and_envs():
    spawn = load_plan(REPO / "starter_kit_schedule/curricula/spawn_distance.yaml")
    assert [s.env.get("spawn", {}).get("target_distance") for s in spawn.stages] == [[2.0, 5.0], [5.0, 8.0], [8.0, 11.0]]
    assert {s.env_id for s in spawn.stages} == {"vbot_navigation_section001"}
    terrain = load_plan(REPO / "starter_kit_schedule/curricula/terrain.yaml")
    assert [s.env_id for s in terrain.stages] == ["vbot_navigation_terrain"] * 2 + [
        f"vbot_navigation_{n}" for n in ("section011", "section012", "section013", "long_course")]
    assert all(s.warm_source(i) == "previous" for i, s in enumerate(terrain.stages) if i)
    ring = load_plan(REPO / "starter_kit_schedule/curricula/ring.yaml")
    assert [s.env.get("spawn", {}).get("layout") for s in ring.stages] == [None, "competition"]
    load_plan(REPO / "starter_kit_schedule/templates/curriculum_plan_template.yaml")


@pytest.mark.parametrize("change,expected", [
    ({"env_id": "vbot_navigation_section099"}, "stage 2 'b': env_id: unknown env id 'vbot_navigation_section099'"),
    ({"steps": None}, "stage 2 'b': missing required field steps"),
    ({"promote": {"patience": 2}}, "stage 2 'b': missing required field promote.success_rate"),
    ({"promte": {}}, "stage 2 'b': unknown key 'promte' (did you mean promote?)"),
    ({"env": {"target_max": 1.0}}, "stage 2 'b': unknown key 'env.target_max'"),
    ({"steps": 20000, "promote": {"success_rate": 0.5, "patience": 3}}, "stage 2 'b': promote.patience 3 can never be met"),
    ({"promote": {"success_rate": 1.5}}, "stage 2 'b': promote: success_rate must be in [0, 1], got 1.5"),
    ({"evaluation": {"episods": 3}}, "stage 2 'b': evaluation.episods is not an evaluation setting"),
    ({"evaluation": {"episodes": 0}}, "stage 2 'b': evaluation: episodes and final_episodes must be > 0"),
])
def test_a_bad_plan_names_the_file_the_stage_and_the_problem(tmp_path, change, expected):
    bad = _stage("b")
    bad.update(change)
    bad = {k: v for k, v in bad.items() if v is not None}
    path = write_plan(tmp_path, [_stage("a"), bad])
    with pytest.raises(UsageError) as info:
        load_plan(path)
    assert str(info.value).startswith(f"{path}: ") and expected in str(info.value), str(info.value)


def test_bad_plan_on_the_command_line_is_one_line_and_exit_2(workspace, tmp_path):
    path = write_plan(tmp_path, [_stage("a", env_id="vbot_navigation_sectoin001")])
    proc = vbot(workspace, "curriculum", "status", "--plan", str(path))
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "stage 1 'a': env_id: unknown env id 'vbot_navigation_sectoin001'" in proc.stderr
    assert "did you mean vbot_navigation_section001" in proc.stderr


# -- runs -------------------------------------------------------------------------------------------------
def test_run_promotes_each_stage_when_criteria_hold_and_warm_starts_the_next(workspace, launch_log):
    plan = write_plan(workspace, [_stage("a"), _stage("b", warm_start={"checkpoint": "previous", "lr_multiplier": 0.5,
                                                                       "reset_optimizer": True})])
    out = curriculum.run(workspace, str(plan), cwd=workspace, say=_quiet)
    assert out["status"] == "complete", out
    a, b = out["stages"]
    assert a["status"] == b["status"] == "promoted"
    # the fake's success rate is env_steps / 40k: two passing evaluations in a row from 20k on
    assert a["check"]["met"] and a["best_success_rate"] >= 0.5 and a["evaluations"] >= 2
    first, second = launches(launch_log)
    assert first["checkpoint"] is None and first["resume"] is None
    assert second["checkpoint"] == str(workspace / a["best_checkpoint"])
    assert second["lr_multiplier"] == "0.5" and second["reset_optimizer"] and not second["freeze_normalizer"]
    registry = load_registry(workspace / "starter_kit_schedule/checkpoints/registry.yaml")
    ids = {c["id"]: c for c in registry["checkpoints"]}
    assert set(ids) == {"curriculum/test_plan/a", "curriculum/test_plan/b"}
    assert (workspace / ids["curriculum/test_plan/a"]["checkpoint"]).is_file()
    state = read_state(workspace)
    assert state["curriculum"]["stage_index"] == 2 and state["status"] == "complete" and state["mode"] == "curriculum"
    again = curriculum.run(workspace, str(plan), cwd=workspace, say=_quiet)  # finished: nothing trained twice
    assert again["status"] == "complete" and len(launches(launch_log)) == 2


def test_a_stage_s_own_evaluation_settings_replace_the_plan_s_for_that_stage(workspace, launch_log):
    """E.g. more episodes where a bar near 1.0 needs finer steps than the plan's 32 give."""
    plan = write_plan(workspace, [_stage("a"), _stage("b", evaluation={"episodes": 3, "every_env_steps": 20000},
                                                      overrides={"ppo.entropy_coef": 0.002})])
    out = curriculum.run(workspace, str(plan), cwd=workspace, say=_quiet)
    assert out["status"] == "complete", out
    logs = sorted((workspace / "starter_kit_log").rglob("trial.yaml"))
    settings = {p.parent.parent.name: yaml.safe_load(p.read_text())["evaluation"] for p in logs}  # <stage>/attempt_1
    assert settings["a"]["episodes"] == 2 and settings["a"]["every_env_steps"] == 10000
    assert settings["b"] == {**settings["a"], "episodes": 3, "every_env_steps": 20000}
    assert [s["evaluation"] for s in out["stages"]] == [{}, {"episodes": 3, "every_env_steps": 20000}]
    text = curriculum.render_curriculum(curriculum.status(workspace, str(plan), cwd=workspace, say=_quiet))
    assert "; evaluation episodes 3; evaluation every_env_steps 20,000]" in text
    assert "by the curriculum itself: its runs train with the trainer's own evaluations off" in text
    assert "      trains with ppo.entropy_coef=0.002" in text and out["stages"][1]["overrides"] == {"ppo.entropy_coef": 0.002}


def test_on_stuck_advance_goes_on_from_the_best_checkpoint_and_keeps_the_stage_stuck(workspace, launch_log, capsys):
    # lr 1e-2 caps the fake's success rate at 0.37: stage a is stuck, and its plan says to go on anyway
    stages = [_stage("a", overrides={"ppo.learning_rate": 0.01}, on_stuck="advance"), _stage("b")]
    out = curriculum.run(workspace, str(write_plan(workspace, stages)), cwd=workspace, say=_quiet)
    assert out["status"] == "complete", out
    a, b = out["stages"]
    assert (a["status"], a["advanced"], b["status"]) == ("stuck", True, "promoted")
    assert launches(launch_log)[1]["checkpoint"] == str(workspace / a["best_checkpoint"])
    ids = {c["id"] for c in load_registry(workspace / "starter_kit_schedule/checkpoints/registry.yaml")["checkpoints"]}
    assert ids == {"curriculum/test_plan/b"}  # a stuck stage is never registered as promoted
    text = vbot(workspace, "curriculum", "status", check=True).stdout
    assert "advanced anyway (on_stuck: advance)" in text and "not met: success_rate" in text
    bad = write_plan(workspace, [_stage("a", on_stuck="skip")], file="bad.yaml")
    proc = vbot(workspace, "curriculum", "status", "--plan", str(bad))
    assert proc.returncode == 2 and "on_stuck must be one of stop, advance" in proc.stderr


def test_runs_and_status_read_the_curriculum_s_own_evaluations(workspace, launch_log):
    """A stage trains with evaluation off and evaluates its checkpoints itself: `vbot runs` shows
    those evaluations (not "not evaluated yet"), and `vbot status` shows the plan's place, not a budget."""
    plan = write_plan(workspace, [_stage("a"), _stage("b")])
    out = curriculum.run(workspace, str(plan), cwd=workspace, say=_quiet)
    rows = {Path(r["run"]).name: r for r in json.loads(vbot(workspace, "runs", "--json", check=True).stdout)["runs"]}
    for stage in out["stages"]:
        row = rows[Path(stage["run_dir"]).name]
        assert row["measured"].startswith(f"curriculum stage {stage['name']!r}: last evaluation"), row
        assert row["success_rate"] == stage["last_evaluation"]["success_rate"]
        assert row["best_checkpoint"] == stage["best_checkpoint"]
        # the reward diagnosis of a stage's run names the same file (the run itself has no best.pt)
        assert curriculum_best_checkpoint(workspace / stage["run_dir"]) == (workspace / stage["best_checkpoint"]).resolve()
        # a stage's run folder given as a policy or warm start means that best checkpoint, not its last.pt
        assert resolve_policy_path(workspace / "runs", str(workspace / stage["run_dir"])) == \
            (workspace / stage["best_checkpoint"]).resolve()
    text = vbot(workspace, "status", check=True).stdout
    assert "stage     - (2 of 2), curriculum complete" in text and "budget" not in text and "trials" not in text
    vbot(workspace, "watch", "--snapshot", "--no-diagnosis", check=True)
    campaign = (workspace / "WAKE_UP.md").read_text().split("## Campaign", 1)[1].split("## Process", 1)[0]
    assert "curriculum id" in campaign and "plan `test_plan`" in campaign and "(all 2 done)" in campaign
    assert "budget" not in campaign and "trials" not in campaign
    stages = (workspace / "WAKE_UP.md").read_text().split("## Stages", 1)[1].split("## ", 1)[0]
    assert [line.split(" | ")[1] for line in stages.splitlines() if line.startswith("| ") and "---" not in line][1:] == [
        s["name"] for s in out["stages"]] and stages.count("| promoted |") == 2


def test_advance_refuses_naming_the_criterion_then_promotes_when_it_holds(workspace, launch_log):
    # lr 1e-2 caps the fake's success rate at exp(-1) = 0.37: stage a can never reach 0.5
    stages = [_stage("a", overrides={"ppo.learning_rate": 0.01}), _stage("b")]
    plan = write_plan(workspace, stages)
    out = curriculum.run(workspace, str(plan), cwd=workspace, say=_quiet)
    assert out["status"] == "stuck" and out["stages"][0]["status"] == "stuck"
    assert "success_rate" in out["message"] and "vbot curriculum edit --set a.steps=80000" in out["message"]
    # a plain `curriculum run` would stop at the same stage: status sends to the plan edit first
    assert campaign_status(workspace)["next"] == "vbot curriculum edit --set a.steps=80000"
    assert out["stages"][0]["env_steps"] == 40000  # the whole budget
    with pytest.raises(PromotionRefused) as info:
        curriculum.advance(workspace, cwd=workspace, say=_quiet)
    assert "stage 'a' not promoted: success_rate: 0.368 at 40,000 env steps < 0.5" in str(info.value)
    proc = vbot(workspace, "curriculum", "advance")
    assert proc.returncode == 1 and "success_rate: 0.368" in proc.stderr
    assert read_state(workspace)["curriculum"]["stage_index"] == 0
    assert not (workspace / "starter_kit_schedule/checkpoints/registry.yaml").exists()

    status = json.loads(vbot(workspace, "curriculum", "status", "--json", check=True).stdout)
    assert status["current_stage"] == "a" and status["stages"][0]["criteria"]["success_rate"] == 0.5
    assert not status["stages"][0]["check"]["met"] and status["stages"][0]["check"]["stuck"]  # agrees with status

    stages[0]["promote"] = {"success_rate": 0.25, "patience": 2}  # the plan's criteria lowered by hand
    write_plan(workspace, stages)
    result = curriculum.advance(workspace, cwd=workspace, say=_quiet)  # re-reads the plan file
    assert result["promoted"] == "a" and result["next_stage"] == "b"
    state = read_state(workspace)["curriculum"]
    assert state["stage_index"] == 1 and state["stages"][0]["status"] == "promoted"
    assert state["stages"][1]["warm_start"]["checkpoint"] == state["stages"][0]["best_checkpoint"]
    registry = load_registry(workspace / "starter_kit_schedule/checkpoints/registry.yaml")
    assert [c["id"] for c in registry["checkpoints"]] == ["curriculum/test_plan/a"]
    assert registry["checkpoints"][0]["metrics"]["success_rate"] == pytest.approx(0.368, abs=1e-3)


def test_a_crash_resumes_at_the_right_stage_without_retraining_finished_ones(workspace, launch_log, monkeypatch):
    plan = write_plan(workspace, [_stage("a"), _stage("b", steps=200000)])
    monkeypatch.setenv("FAKE_PLAN", json.dumps({"b": "slow"}))  # 0.2 s per fake iteration: time to kill it
    proc = vbot_background(workspace, "curriculum", "run", "--plan", str(plan))

    def stage_b_running():
        try:
            cur = read_state(workspace)["curriculum"]
        except (FileNotFoundError, yaml.YAMLError, KeyError, TypeError):
            return False
        return cur["stage_index"] == 1 and cur["stages"][1]["run_dir"] is not None

    wait_for(stage_b_running, timeout=40, what="stage b training")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    wait_for(lambda: any(line.startswith("end") for line in (workspace.parent / "fake_trainer.log").read_text()
                         .splitlines()[2:]), timeout=20, what="the orphaned trainer stopping")
    state = read_state(workspace)
    assert state["curriculum"]["stages"][0]["status"] == "promoted"
    assert state["curriculum"]["stages"][1]["status"] == "training"
    status = json.loads(vbot(workspace, "curriculum", "status", "--json", check=True).stdout)
    assert status["status"] == "died" and status["current_stage"] == "b" and status["next"] == "vbot curriculum run"
    b_run = state["curriculum"]["stages"][1]["run_dir"]

    monkeypatch.setenv("FAKE_PLAN", "{}")
    out = json.loads(vbot(workspace, "curriculum", "run", "--json", timeout=60, check=True).stdout)
    assert out["status"] == "complete"
    runs = launches(launch_log)
    assert [r["stage"] for r in runs] == ["a", "b", "b"]  # a was not trained again
    assert runs[1]["checkpoint"] == str(workspace / state["curriculum"]["stages"][0]["best_checkpoint"])
    assert runs[2]["resume"] == str(workspace / b_run) and runs[2]["checkpoint"] is None
    assert out["stages"][1]["status"] == "promoted"


def test_run_refuses_a_second_plan_while_one_is_in_progress(workspace, launch_log, tmp_path):
    stuck = write_plan(workspace, [_stage("a", overrides={"ppo.learning_rate": 0.01})])
    assert curriculum.run(workspace, str(stuck), cwd=workspace, say=_quiet)["status"] == "stuck"
    other = write_plan(tmp_path, [_stage("x")], name="other")
    with pytest.raises(UsageError, match="a curriculum of plan 'test_plan' is in progress"):
        curriculum.run(workspace, str(other), cwd=workspace, say=_quiet)
    again = curriculum.run(workspace, None, cwd=workspace, say=_quiet)  # stuck, same budget: nothing retrained
    assert again["status"] == "stuck" and len(launches(launch_log)) == 1


def test_run_dry_run_says_what_would_train_and_writes_nothing(workspace, launch_log, tmp_path):
    stuck = write_plan(workspace, [_stage("a", overrides={"ppo.learning_rate": 0.01}), _stage("b")])
    state_file = workspace / "starter_kit_schedule/progress/automl_state.yaml"
    fresh = curriculum.dry_run_plan(workspace, str(stuck), cwd=workspace, say=_quiet)
    assert fresh["status"] == "not started" and fresh["env_steps_left"] == 80000 and not state_file.exists()
    assert fresh["would"] == "train stage 1/2 'a' on dummy:point_nav: up to 40,000 env steps, from fresh weights"
    assert curriculum.run(workspace, str(stuck), cwd=workspace, say=_quiet)["status"] == "stuck"
    before = state_file.read_bytes()
    held = curriculum.dry_run_plan(workspace, None, cwd=workspace, say=_quiet)
    assert held["would"].startswith("nothing: stage 1/2 'a' on dummy:point_nav is stuck (success_rate: ")
    vbot(workspace, "curriculum", "edit", "--set", "a.steps=80000", check=True)
    before = state_file.read_bytes()
    more = vbot(workspace, "curriculum", "run", "--dry-run", check=True).stdout
    assert more.startswith("dry run: nothing trained, nothing written")
    assert "run would: train stage 1/2 'a' on dummy:point_nav on to 80,000 env steps, resuming its run runs/" in more
    assert state_file.read_bytes() == before and len(launches(launch_log)) == 1
    other = write_plan(tmp_path, [_stage("x")], name="other")
    with pytest.raises(UsageError, match="a curriculum of plan 'test_plan' is in progress"):  # as `run` refuses
        curriculum.dry_run_plan(workspace, str(other), cwd=workspace, say=_quiet)
    over = curriculum.dry_run_plan(workspace, str(other), cwd=workspace, say=_quiet, restart=True)
    assert over["would"].endswith("from fresh weights") and over["next"].endswith("--restart")


def test_status_of_a_named_plan_not_started_yet(workspace):
    plans = workspace / "starter_kit_schedule/curricula"
    shutil.rmtree(plans, ignore_errors=True)  # `vbot init` seeds the shipped plans; start from none
    plans.mkdir()
    write_plan(plans, [_stage("a"), _stage("b")], name="two", file="two.yaml")
    out = curriculum.status(workspace, "two", cwd=workspace, say=_quiet)
    assert out["status"] == "not started" and [s["status"] for s in out["stages"]] == ["pending", "pending"]
    assert out["running"] is False and out["next"].startswith("vbot curriculum run --plan")  # nothing runs yet
    assert not (workspace / "starter_kit_schedule/progress/automl_state.yaml").exists()  # status writes nothing
    with pytest.raises(UsageError, match=r"no plan 'three' in .*curricula \(plans there: two\)"):
        curriculum.status(workspace, "three", cwd=workspace, say=_quiet)
    with pytest.raises(UsageError, match="no curriculum in progress"):
        curriculum.advance(workspace, cwd=workspace, say=_quiet)


# -- the commands' words ----------------------------------------------------------------------------
def test_status_without_a_curriculum_is_not_an_error_and_says_how_to_start(workspace):
    proc = vbot(workspace, "curriculum", "status")
    assert proc.returncode == 0, proc.stderr
    assert "no curriculum in progress" in proc.stdout
    assert "`vbot curriculum run --plan spawn_distance`" in proc.stdout and "terrain" in proc.stdout
    data = json.loads(vbot(workspace, "curriculum", "status", "--json", check=True).stdout)
    assert data["status"] == "none" and data["plans"] == ["ring", "spawn_distance", "terrain"]
    assert data["next"] == "vbot curriculum run --plan spawn_distance"


def test_advance_offers_no_plan_flag_and_refuses_with_a_whole_command_in_backticks(workspace):
    help_text = vbot(workspace, "curriculum", "advance", "--help", check=True).stdout
    assert "--plan" not in help_text
    proc = vbot(workspace, "curriculum", "advance", "--plan", "spawn_distance")
    assert proc.returncode == 2 and "unrecognized arguments: --plan" in proc.stderr
    proc = vbot(workspace, "curriculum", "advance")
    assert proc.returncode == 2 and "`vbot curriculum run --plan spawn_distance`" in proc.stderr
    assert proc.stderr.count("`") % 2 == 0 and "` --plan" not in proc.stderr


def test_advance_before_any_evaluation_names_the_criterion_and_its_bar(workspace):
    from vbot_agent.curriculum.session import CurriculumSession

    plan = write_plan(workspace, [_stage("a"), _stage("b")])
    session = CurriculumSession.open(workspace, str(plan), workspace, _quiet, write=True, create=True)
    session.write()  # a curriculum whose first stage has not been evaluated yet, as the real writer leaves it
    refused = vbot(workspace, "curriculum", "advance")
    assert refused.returncode == 1
    assert "stage 'a' not promoted: success_rate: not measured yet" in refused.stderr
    assert ">= 0.5 in 2 evaluations in a row" in refused.stderr


def test_promotion_can_ask_for_competition_points():
    promote = Promotion(success_rate=0.0, min_points=10.0)
    low = {"env_steps": 1, "success_rate": 0.4, "competition_points": 8.5}
    high = {"env_steps": 2, "success_rate": 0.4, "competition_points": 12.0}
    check = check_promotion(promote, [low])
    assert not check.met and check.failing[0].startswith("min_points: 8.500 competition points per robot at 1 env steps < 10")
    assert check_promotion(promote, [low, high]).met
    with pytest.raises(ValueError, match="min_points"):
        Promotion(success_rate=0.5, min_points=-1)


def test_edit_checks_the_plan_keeps_its_comments_and_lets_a_stuck_stage_go_on(workspace, launch_log):
    """`vbot curriculum edit` refuses bad values without touching the file; a larger budget or a
    lower bar marks the stuck stage stopped, and `curriculum run` continues it (trains, promotes)."""
    # lr 1e-2: each stage's fresh 40k-step run ends at success 0.37, under its bar of 0.5
    stages = [_stage("a", overrides={"ppo.learning_rate": 0.01}), _stage("b", overrides={"ppo.learning_rate": 0.01})]
    plan = write_plan(workspace, stages)
    data = yaml.safe_load(plan.read_text())  # a description long enough to be folded over two lines
    data = {"description": "flat tiles -> terrain levels -> section011 -> section012 -> section013 -> long course",
            **data}
    plan.write_text("# why this plan: a note a person wrote, long enough to be the widest line in this plan file\n" + yaml.safe_dump(data, sort_keys=False))
    assert curriculum.run(workspace, str(plan), cwd=workspace, say=_quiet)["status"] == "stuck"
    before = plan.read_bytes()
    for setting, message in [("a.promote.success_rate=2", "success_rate must be in [0, 1]"),
                             ("zzz.steps=1", "'zzz' is neither a stage (a, b) nor a plan key"),
                             ("a.name=renamed", "changed stages the curriculum already reached"),
                             ("a.env.no_such_option=1", "no_such_option")]:
        proc = vbot(workspace, "curriculum", "edit", "--set", setting)
        assert proc.returncode == 2 and message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert plan.read_bytes() == before  # nothing written

    heartbeat = read_state(workspace)["heartbeat"]
    more = json.loads(vbot(workspace, "curriculum", "edit", "--set", "a.steps=80000", "--json", check=True).stdout)
    assert more["changes"] == [{"key": "a.steps", "old": 40000, "new": 80000}] and more["next"] == "vbot curriculum run"
    changed = [(old, new) for old, new in zip(before.decode().splitlines(), plan.read_text().splitlines()) if old != new]
    assert changed == [("  steps: 40000", "  steps: 80000")]  # the file's layout kept: one line changed
    assert len(plan.read_text().splitlines()) == len(before.decode().splitlines())
    assert read_state(workspace)["curriculum"]["status"] == "stopped"
    assert read_state(workspace)["heartbeat"] == heartbeat  # an edit is not a run: the heartbeat stays
    assert campaign_status(workspace)["next"] == "vbot curriculum run"
    shown = vbot(workspace, "curriculum", "status", check=True).stdout
    assert "      stuck; `vbot curriculum run` continues it" in shown
    out = curriculum.run(workspace, None, cwd=workspace, say=_quiet)  # re-reads the edited plan file
    assert [launch["resume"] is not None for launch in launches(launch_log) if launch["stage"] == "a"] == [False, True]
    assert out["stages"][0]["status"] == "promoted" and out["status"] == "stuck" and out["current_stage"] == "b"

    half = vbot(workspace, "curriculum", "edit", "--set", "b.promote.success_rate=0.3", check=True).stdout
    assert "stage 'b' is still stuck: patience: the thresholds held for 1 evaluation in a row, 2 needed" in half
    assert "next  vbot curriculum edit --set b.steps=80000" in half
    lower = vbot(workspace, "curriculum", "edit", "--set", "b.promote.patience=1", check=True).stdout
    assert "b.promote.patience: 2 -> 1" in lower and "stage 'b' against the edited criteria: met" in lower
    trained = len(launches(launch_log))
    out = curriculum.run(workspace, None, cwd=workspace, say=_quiet)
    assert out["status"] == "complete" and [s["status"] for s in out["stages"]] == ["promoted", "promoted"]
    assert len(launches(launch_log)) == trained  # promoted on its evaluations, not trained again
    assert yaml.safe_load(plan.read_text())["stages"][1]["promote"]["success_rate"] == 0.3


def test_edit_names_comment_lines_that_still_give_the_old_value(tmp_path):
    """An edit keeps the plan's comments; those naming the old value are pointed out, so a copied
    plan's notes ("judged on 128 episodes") are not left describing a plan that no longer exists."""
    from vbot_agent.curriculum.edit import edit_plan, render_edit

    plan = tmp_path / "starter_kit_schedule" / "curricula" / "p.yaml"
    plan.parent.mkdir(parents=True)
    plan.write_text("# judged on 128 episodes; 2M env steps, promoted at 0.98 (not 0.985 or 1280)\n"
                    "name: p\nnum_envs: 8\nstages:\n"
                    "  - name: a\n    env_id: dummy:point_nav\n    steps: 2000000  # 2,000,000 at most\n"
                    "    evaluation: {episodes: 128}\n    promote: {success_rate: 0.98}\n")
    out = edit_plan(tmp_path, ["a.evaluation.episodes=64", "a.steps=3000000", "a.promote.success_rate=0.9",
                               "num_envs=16"], str(plan), cwd=tmp_path, say=_quiet)
    assert out["stale_comments"] == [{"key": "a.evaluation.episodes", "old": 128, "lines": [1]},
                                     {"key": "a.steps", "old": 2000000, "lines": [1, 7]},
                                     {"key": "a.promote.success_rate", "old": 0.98, "lines": [1]}]
    assert "check comment lines 1, 7: still say 2000000 (the old a.steps)" in render_edit(out)


def test_a_course_stage_says_where_its_points_were_measured():
    """Stage points come from the stage's own spawns and episode length, which the line names."""
    from vbot_agent.curriculum.commands import render_curriculum

    def stage(index, name, env, env_id="vbot_navigation_section011"):
        return {"index": index, "name": name, "env_id": env_id, "status": "stuck", "env": env,
                "steps": 6_000_000, "env_steps": 6_008_832, "best_success_rate": 0.0,
                "metrics": {"success_rate": 0.0, "fall_rate": 0.5, "competition_points": 1.125},
                "last_evaluation": {"success_rate": 0.0, "env_steps": 6_008_832}, "warm_plan": None,
                "criteria": {"success_rate": 0.5, "patience": 1, "min_env_steps": 0, "min_points": None},
                "check": {"met": False, "failing": ["success_rate"]}, "advanced": False, "status_word": "stuck",
                "error": None}

    mixed = stage(3, "d", {"spawn": {"course_start": "mixed"}})
    mixed["metrics"]["points_by_item"] = {"zone_left": 1.125, "zone_centre": 0.0}  # which items paid
    text = render_curriculum({"status": "stuck", "plan_name": "p", "plan": "p.yaml", "stage_index": 1,
                              "train": {"policy": {"max_noise_std": 1.0}}, "current_stage": "b", "stages": [
                                  stage(0, "a", {"spawn": {"course_start": "anywhere"}, "episode_length_s": 60.0}),
                                  stage(1, "b", {}), stage(2, "c", {}, "vbot_navigation_section001"), mixed]})
    a, b, c, d = (line for line in text.splitlines() if line.lstrip(" >").startswith(("1.", "2.", "3.", "4.")))
    assert "points 1.12 per robot on its own spawns  [" in c  # the flat arena: no course start
    assert "points 1.12 spawned anywhere on the course, 60 s episodes" in a
    assert "best checkpoint: success 0.00, falls 0.50, points 1.12 from START (items not recorded" in b
    assert "points 1.12 spawned half from START, half anywhere on the course (zone_left 1.125)  [" in d
    assert "60 s episodes (items not recorded: evaluated by an older vbot)  [" in a  # a record without items
    assert "  every stage trains with policy.max_noise_std=1.0 (the plan's train:)" in text.splitlines()


def test_another_plan_over_an_unfinished_curriculum_is_shown_with_restart(workspace, launch_log):
    """`curriculum run --plan B` is refused while plan A's curriculum is unfinished; `status --plan B`
    says so and names the command that works, instead of the refused one."""
    stuck = [_stage("a", overrides={"ppo.learning_rate": 0.01})]  # capped at 0.37: stuck
    out = curriculum.run(workspace, str(write_plan(workspace, stuck)), cwd=workspace, say=_quiet)
    assert out["status"] == "stuck"
    other = write_plan(workspace, [_stage("b")], name="other_plan", file="other.yaml")
    shown = curriculum.status(workspace, str(other), cwd=workspace, say=_quiet)
    assert shown["next"] == f"vbot curriculum run --plan {other} --restart"
    assert "plan 'test_plan' is unfinished (stuck)" in shown["message"]
    with pytest.raises(UsageError, match="start 'other_plan' over it with --restart"):
        curriculum.run(workspace, str(other), cwd=workspace, say=_quiet)
    from vbot_agent.curriculum.edit import edit_plan

    edited = edit_plan(workspace, ["b.steps=50000"], str(other), cwd=workspace, say=_quiet)
    assert edited["next"] == shown["next"]  # the edit of that plan names the same command


def test_a_warm_start_checkpoint_that_is_not_a_file_is_refused(workspace):
    """status, run and edit read a plan's checkpoint path from the workspace and refuse a missing one."""
    ckpt = workspace / "ckpts" / "start.pt"
    ckpt.parent.mkdir()
    ckpt.write_bytes(b"x")
    plan = write_plan(workspace, [_stage("a", warm_start={"checkpoint": "ckpts/start.pt"})])
    assert curriculum.status(workspace, str(plan), cwd=workspace, say=_quiet)["status"] == "not started"
    ckpt.unlink()
    for call in (lambda: curriculum.status(workspace, str(plan), cwd=workspace, say=_quiet),
                 lambda: curriculum.run(workspace, str(plan), cwd=workspace, say=_quiet)):
        with pytest.raises(UsageError, match="warm_start.checkpoint ckpts/start.pt is not a file"):
            call()
    from vbot_agent.curriculum.edit import edit_plan

    before = plan.read_text()
    with pytest.raises(UsageError, match="is not a file"):
        edit_plan(workspace, ["a.steps=50000"], str(plan), cwd=workspace, say=_quiet)
    assert plan.read_text() == before


def test_status_of_a_plan_copy_that_differs_from_the_shipped_one_says_where_that_is(tmp_path):
    from vbot_agent.workspace.init import SEED_DIR, init_workspace

    init_workspace(tmp_path)
    copy = tmp_path / "starter_kit_schedule/curricula/ring.yaml"
    assert curriculum.shipped_copy_note(tmp_path, "ring", tmp_path) is None  # as shipped: nothing to say
    copy.write_text(copy.read_text() + "# edited\n")
    note = curriculum.status(tmp_path, "ring", cwd=tmp_path, say=_quiet)["message"]
    assert "this workspace's ring.yaml differs from the plan this vbot ships" in note
    assert f"`--plan {SEED_DIR / 'curricula' / 'ring.yaml'}` uses the shipped one" in note


def test_a_shipped_plan_missing_from_an_older_workspace_is_refused_naming_vbot_init(workspace):
    """A workspace made by an older vbot lacks newer plans; the refusal says how to add them."""
    (workspace / "starter_kit_schedule/curricula/ring.yaml").unlink(missing_ok=True)
    with pytest.raises(UsageError) as info:
        curriculum.status(workspace, "ring", cwd=workspace, say=_quiet)
    assert "no plan 'ring'" in str(info.value) and "`vbot init` adds the files a workspace lacks" in str(info.value)
    with pytest.raises(UsageError) as info:
        curriculum.status(workspace, "my_own_plan", cwd=workspace, say=_quiet)
    assert "vbot init" not in str(info.value)  # not a shipped plan: nothing to add
