"""End to end through the real CLI (in-process): run folder, tags, checkpoints, meta, bad input -> exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from vbot_agent.cli import run
from vbot_agent.config import to_dict
from vbot_agent.rl.checkpoint import load_checkpoint, load_policy
from vbot_agent.rl.config import config_from_checkpoint, resolve_train_config

TINY = [
    "--env", "dummy:point_nav", "--num-envs", "8", "--max-env-steps", "384", "--check-point-interval", "3",
    "--seed", "3", "--set", "ppo.num_steps_per_env=8", "--set", "ppo.num_mini_batches=2",
    "--set", "policy.actor_hidden_dims=[16]", "--set", "policy.critic_hidden_dims=[16]",
    "--set", "env.episode_length_s=0.4", "--set", "eval.episodes=4", "--set", "torch_threads=1",
    "--set", "reward.scales.fall=-2",
]

# docs/design.md, "Trainer", plus one `Reward Instant / <term> (mean)` per reward term.
EXPECTED_TAGS = [
    "Reward / Instantaneous reward (mean)", "Reward / Total reward (mean)", "Episode / Total timesteps (mean)",
    "metrics / distance_to_target", "metrics / success_rate", "metrics / fall_rate",
    "Loss / surrogate", "Loss / value_function", "Loss / entropy", "Policy / std (mean)",
    "Learning / learning_rate", "Perf / env_steps_per_s",
]


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = run(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def trained(tmp_path_factory, capsys, monkeypatch):
    cwd = tmp_path_factory.mktemp("cli")
    monkeypatch.chdir(cwd)
    monkeypatch.delenv("VBOT_WORKSPACE", raising=False)
    code, out, err = _cli(capsys, "train", *TINY, "--json")
    assert code == 0, err
    return cwd, json.loads(out)


def test_train_writes_the_run_folder(trained):
    cwd, result = trained
    assert {"run_dir", "env_steps", "iterations", "env_steps_per_s", "final_reward", "success_rate"} <= set(result)
    run_dir = Path(result["run_dir"])
    assert run_dir.parent == cwd / "runs" / "dummy_point_nav" and run_dir.name.endswith("_PPO")
    assert result["env_steps"] == 384 and result["iterations"] == 6

    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    terms = load_checkpoint(run_dir / "checkpoints" / "last.pt")["config"]["reward"]["scales"]
    expected = set(EXPECTED_TAGS) | {f"Reward Instant / {t} (mean)" for t in terms}
    assert expected <= tags, sorted(expected - tags)
    assert [e.step for e in acc.Scalars("Loss / surrogate")] == [64 * i for i in range(1, 7)]

    ckpts = {p.name for p in (run_dir / "checkpoints").iterdir()}
    assert {"model_3.pt", "model_6.pt", "last.pt", "best.pt"} <= ckpts
    policy = load_policy(run_dir / "checkpoints" / "best.pt")
    assert policy(__import__("numpy").zeros((2, 8), "float32")).shape == (2, 2)

    meta = json.loads((run_dir / "experiment_meta.json").read_text())
    assert meta["config"]["reward"]["scales"]["fall"] == -2.0
    assert {"command", "versions", "git_revision", "seed"} <= set(meta)
    # what `policy.precision: auto` chose here and why (measured on this machine, or fp32 by rule)
    choice = meta["compute"]["precision_choice"]
    assert meta["compute"]["precision"] == choice["precision"] in ("fp32", "bf16")
    assert choice["reason"] in ("measured", "cached", "no-native-bf16")
    assert load_checkpoint(run_dir / "checkpoints" / "last.pt")["precision"] == choice["precision"]
    rebuilt = resolve_train_config(base=meta["config"])
    assert to_dict(rebuilt) == meta["config"]
    assert rebuilt == config_from_checkpoint(load_checkpoint(run_dir / "checkpoints" / "last.pt")["config"])

    progress = json.loads((run_dir / "progress.json").read_text())
    assert progress["status"] == "finished" and progress["env_steps"] == 384
    assert {"env_id", "iteration", "max_env_steps", "env_steps_per_s", "reward", "success_rate",
            "distance_to_target", "started_at", "updated_at", "pid"} <= set(progress)


def test_resume_latest_and_play(trained, capsys):
    cwd, result = trained
    code, out, err = _cli(capsys, "train", "--resume", "--max-env-steps", "512", "--json")
    assert code == 0, err
    resumed = json.loads(out)
    assert resumed["run_dir"] == result["run_dir"] and resumed["env_steps"] == 512

    code, out, err = _cli(capsys, "play", "--policy", "latest", "--episodes", "12", "--competition", "--json")
    assert code == 0, err
    played = json.loads(out)
    assert {"episodes", "success_rate", "fall_rate", "mean_return", "mean_time_to_target_s",
            "competition_points"} <= set(played)
    assert played["episodes"] == 20 and played["competition_max_points"] == 20
    assert len(played["competition_points_per_round"]) == 2
    assert sum(played["competition_points_per_round"]) / 2 == played["competition_points"]
    missed = played["robots_missed"]  # the first round's robots that did not reach the target
    assert missed == sorted(missed) and all(0 <= r < 10 for r in missed)
    code, _, err = _cli(capsys, "play", "--policy", "latest", "--episodes", "4", "--robot", "4")
    assert code == 2 and "--robot 4: the first round has robots 0-3" in err
    code, _, err = _cli(capsys, "play", "--policy", result["run_dir"], "--env", "vbot_navigation_terrain", "--competition")
    assert code == 2 and "vbot_navigation_terrain has no competition scoring" in err


def test_warm_start_from_checkpoint(trained, capsys):
    cwd, result = trained
    ckpt = str(Path(result["run_dir"]) / "checkpoints" / "last.pt")
    code, out, err = _cli(capsys, "train", *TINY, "--checkpoint", ckpt, "--reset-optimizer", "--lr-multiplier",
                          "0.5", "--freeze-normalizer", "--json")
    assert code == 0, err
    run_dir = Path(json.loads(out)["run_dir"])
    assert run_dir != Path(result["run_dir"])
    meta = json.loads((run_dir / "experiment_meta.json").read_text())
    assert meta["config"]["ppo"]["learning_rate"] == pytest.approx(5e-4)
    assert meta["warm_start"]["checkpoint"] == str(Path(ckpt).resolve())
    before, after = load_checkpoint(ckpt)["normalizer"], load_checkpoint(run_dir / "checkpoints" / "last.pt")
    assert after["normalizer_frozen"] and after["normalizer"]["mean"].equal(before["mean"])


def test_warm_start_from_a_name_resolves_against_the_env_trained(trained, capsys):
    """`--checkpoint latest` is the newest run of the env being trained (as `play --policy latest`);
    `best` with nothing registered for it is refused in one line naming --checkpoint."""
    _, result = trained
    code, out, err = _cli(capsys, "train", *TINY, "--checkpoint", "latest", "--json")
    assert code == 0, err
    meta = json.loads((Path(json.loads(out)["run_dir"]) / "experiment_meta.json").read_text())
    assert meta["warm_start"]["checkpoint"] == str((Path(result["run_dir"]) / "checkpoints" / "best.pt").resolve())
    code, _, err = _cli(capsys, "train", *TINY, "--checkpoint", "best")
    assert code == 2 and err.count("\n") == 1
    assert "--checkpoint best: no checkpoint registered" in err and "for dummy:point_nav" in err


def test_dry_run_checks_and_shows_what_would_train_without_a_run_folder(trained, capsys):
    cwd, result = trained
    runs = sorted(str(p) for p in (cwd / "runs").rglob("*_PPO"))
    code, out, err = _cli(capsys, "train", *TINY, "--checkpoint", "latest", "--lr-multiplier", "0.5",
                          "--set", "policy.final_noise_std=null", "--dry-run", "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["dry_run"] and shown["learning_rate"] == pytest.approx(5e-4) and shown["max_env_steps"] == 384
    assert shown["warm_start"].endswith("best.pt") and shown["config"]["policy"]["actor_hidden_dims"] == [16]
    assert shown["warm_start_check"].startswith("checked: its observations") and shown["env_changes"] == []
    # what a warm start carries over that the config cannot show: the action noise and the Adam state
    std = load_checkpoint(Path(shown["warm_start"]))["ppo"]["model"]["log_std"].exp()
    assert std.max() < 0.99  # trained with the default annealing
    assert f"its action noise std is {std.mean():.2f} on average (at most {std.max():.2f})" in shown["warm_start_check"]
    assert "policy.max_noise_std is null, so it is kept and may grow" in shown["warm_start_check"]
    assert "its Adam state is kept" in shown["warm_start_check"]
    code, out, err = _cli(capsys, "train", *TINY, "--checkpoint", "latest", "--set", "policy.init_noise_std=0.2",
                          "--set", "policy.max_noise_std=0.2", "--reset-optimizer", "--dry-run", "--json")
    check = json.loads(out)["warm_start_check"]
    assert "policy.max_noise_std 0.2 caps every joint's std at 0.2 at load and after every update" in check and "the optimiser starts fresh" in check
    code, out, err = _cli(capsys, "train", *TINY, "--checkpoint", "latest", "--set", "policy.final_noise_std=0.3",
                          "--reset-optimizer", "--dry-run", "--json")
    check = json.loads(out)["warm_start_check"]
    assert "policy.final_noise_std 0.3 then lowers the cap linearly from 1 to 0.3 over the run" in check
    code, out, err = _cli(capsys, "train", *TINY, "--set", "env.episode_length_s=0.8", "--checkpoint", "latest",
                          "--dry-run", "--json")
    assert json.loads(out)["env_changes"] == ["env.episode_length_s 0.4 -> 0.8"]  # kept: the network, not the env
    assert "env options differ from the checkpoint's (its -> this run's): env.episode_length_s 0.4 -> 0.8" in err
    assert sorted(str(p) for p in (cwd / "runs").rglob("*_PPO")) == runs  # nothing made
    code, _, err = _cli(capsys, "train", *TINY, "--set", "ppo.learning_rat=1", "--dry-run")
    assert code == 2 and "did you mean learning_rate" in err
    code, out, _ = _cli(capsys, "train", *TINY, "--dry-run")
    assert code == 0 and out.startswith("dry run: nothing trained") and "\nconfig:\n" in out


def test_config_from_a_run_continues_it_with_its_own_settings(trained, capsys, tmp_path):
    """`--config RUN` (a run folder, a curriculum stage's folder, a checkpoint or a name) takes that run's whole
    config, so continuing it needs no copying of env options; flags and --set still win."""
    _, result = trained
    run_dir = Path(result["run_dir"])
    stage = tmp_path / "stage"  # a curriculum stage's folder keeps only its best.pt
    stage.mkdir()
    (stage / "best.pt").write_bytes((run_dir / "checkpoints" / "best.pt").read_bytes())
    meta_path = run_dir / "experiment_meta.json"  # as a curriculum stage's run: the curriculum evaluated it
    meta = json.loads(meta_path.read_text())
    meta["config"]["eval"]["enabled"] = False
    meta_path.write_text(json.dumps(meta))
    for source in (run_dir, stage, run_dir / "checkpoints" / "last.pt", "latest"):  # latest: the newest run
        code, out, err = _cli(capsys, "train", "--config", str(source), "--checkpoint", str(source),
                              "--max-env-steps", "96", "--set", "ppo.entropy_coef=0.001", "--dry-run", "--json")
        assert code == 0, err
        shown = json.loads(out)
        config = shown["config"]
        assert shown["env_id"] == "dummy:point_nav" and shown["num_envs"] == 8 and shown["max_env_steps"] == 96
        assert config["env"]["episode_length_s"] == 0.4 and config["reward"]["scales"]["fall"] == -2
        assert config["policy"]["actor_hidden_dims"] == [16] and config["ppo"]["entropy_coef"] == 0.001
        assert config["eval"]["enabled"] and config["eval"]["episodes"] == 4  # on, so the run keeps a best.pt
        assert shown["env_changes"] == [] and shown["warm_start"].endswith(".pt")
    code, _, err = _cli(capsys, "train", "--config", str(tmp_path), "--dry-run")
    assert code == 2 and err.count("\n") == 1 and "a folder must be a run folder" in err


def test_a_warm_start_keeps_the_checkpoint_s_network(trained, capsys):
    """Sizes left at the default follow the checkpoint (16, not the default's 256-128-64); sizes set
    to something else are refused in one line instead of failing to load the weights."""
    _, result = trained
    ckpt = str(Path(result["run_dir"]) / "checkpoints" / "last.pt")
    default_sizes = TINY[:14] + TINY[18:]  # TINY without its two network sizes
    assert not any("hidden_dims" in a for a in default_sizes)
    code, out, err = _cli(capsys, "train", *default_sizes, "--checkpoint", ckpt, "--json")
    assert code == 0, err
    meta = json.loads((Path(json.loads(out)["run_dir"]) / "experiment_meta.json").read_text())
    assert meta["config"]["policy"]["actor_hidden_dims"] == [16] and meta["config"]["policy"]["critic_hidden_dims"] == [16]
    code, _, err = _cli(capsys, "train", *default_sizes, "--set", "policy.actor_hidden_dims=[32, 32]",
                        "--checkpoint", ckpt)
    assert code == 2 and err.count("\n") == 1
    assert "has policy.actor_hidden_dims 16 but this run sets 32-32; a warm start keeps the checkpoint's network" in err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["train", "--env", "vbot_navigation_section01"], "unknown env id"),
        (["train", "--env", "gym:NoSuchEnv-v0"], "unknown Gymnasium env"),
        (["train", "--set", "ppo.learning_rat=1e-3"], "did you mean learning_rate"),
        (["train", "--set", "reward.scales.progres=1"], "did you mean progress"),
        (["train", "--checkpoint", "missing.pt"], "not found"),
        (["train", "--resume", "runs/nowhere"], "does not exist"),
        (["train", "--reset-optimizer"], "need --checkpoint"),
        (["play", "--policy", "missing.pt"], "not found"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, needle, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = _cli(capsys, *argv)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and needle in err, err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("*_PPO"))


def test_corrupt_and_foreign_checkpoints_exit_2(trained, capsys, tmp_path):
    bad = tmp_path / "corrupt.pt"
    bad.write_bytes(b"not a checkpoint at all")
    code, _, err = _cli(capsys, "train", *TINY, "--checkpoint", str(bad))
    assert code == 2 and "unreadable" in err and len(err.strip().splitlines()) == 1
    code, _, err = _cli(capsys, "play", "--policy", str(bad))
    assert code == 2 and "unreadable" in err

    # A checkpoint cut short by a crash: one plain line saying so, not torch's loader internals.
    last = Path(trained[1]["run_dir"]) / "checkpoints" / "last.pt"
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(last.read_bytes()[: last.stat().st_size // 2])
    code, _, err = _cli(capsys, "play", "--policy", str(truncated))
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "truncated" in err and "use another checkpoint" in err and err.rstrip().endswith("retrain"), err
    for internal in ("PytorchStreamReader", "miniz", "weights_only", "central directory"):
        assert internal not in err, err

    _, result = trained
    ckpt = str(Path(result["run_dir"]) / "checkpoints" / "last.pt")
    runs_before = set(Path("runs").rglob("*_PPO"))
    code, _, err = _cli(capsys, "train", "--env", "gym:Pendulum-v1", "--num-envs", "2", "--checkpoint", ckpt)
    assert code == 2 and "obs 8, actions 2" in err and len(err.strip().splitlines()) == 1, err
    assert set(Path("runs").rglob("*_PPO")) == runs_before  # no dead run folder left behind


def test_ctrl_c_exits_130_and_prints_the_exact_resume_command(capsys, tmp_path, monkeypatch):
    import os
    import shlex
    import signal

    from vbot_agent.rl.progress import PlainProgress

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VBOT_WORKSPACE", raising=False)
    report = PlainProgress.__call__

    def ctrl_c_at_iteration_2(self, stats):  # what a person pressing Ctrl-C mid-run does
        report(self, stats)
        if stats.iteration == 2:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(PlainProgress, "__call__", ctrl_c_at_iteration_2)
    code, out, err = _cli(capsys, "train", *TINY, "--json")
    assert code == 130, err
    stopped = json.loads(out)  # --json still prints the run's summary
    assert stopped["status"] == "stopped" and stopped["env_steps"] == 128
    last_line = err.strip().splitlines()[-1]
    assert last_line.startswith("vbot: stopped: at 128 of 384 env steps"), last_line
    command = last_line.split("continue with: ")[1]
    run_dir = Path(stopped["run_dir"])
    assert command == f"vbot train --resume {run_dir.relative_to(tmp_path)}"

    monkeypatch.setattr(PlainProgress, "__call__", report)
    code, out, err = _cli(capsys, *shlex.split(command)[1:], "--json")  # the printed command, as given
    assert code == 0, err
    resumed = json.loads(out)
    assert resumed["run_dir"] == str(run_dir) and resumed["env_steps"] == 384 and resumed["status"] == "finished"


def test_train_names_its_checkpoint_score_and_explains_it(trained, capsys):
    from vbot_agent.actions import REGISTRY
    from vbot_agent.rl.commands import render_train
    from vbot_agent.rl.evaluate import CHECKPOINT_SCORE_FORMULA

    _, result = trained
    assert "best_score" not in result and isinstance(result["best_checkpoint_score"], float)
    assert result["best_checkpoint_score_formula"] == CHECKPOINT_SCORE_FORMULA
    progress = json.loads((Path(result["run_dir"]) / "progress.json").read_text())
    assert progress["best_checkpoint_score"] == result["best_checkpoint_score"] and "best_score" not in progress
    text = render_train(result)
    assert "best_checkpoint_score = success_rate - 0.5*fall_rate" in text and "campaign" in text.lower()
    assert "e-" not in text.split("best_checkpoint_score:")[1].splitlines()[0]  # rounded, not 16 digits
    # --help says the same formula (the epilog is written out, so check it against the code's text).
    epilog = REGISTRY.get("train").epilog.replace("\n  ", " ")
    assert CHECKPOINT_SCORE_FORMULA.split(" over ")[0] in epilog and "not a campaign's trial score" in epilog


def test_progress_past_the_target_says_done_instead_of_a_larger_count():
    from vbot_agent.rl.progress import PlainProgress, steps_text
    from vbot_agent.rl.runner import IterationStats

    assert steps_text(73_728, 200_000, 6_144) == "73,728/200,000 (37%)"
    assert steps_text(200_000, 200_000, 6_144) == "200,000 (done)"
    lines: list[str] = []
    progress = PlainProgress(lines.append, 200_000, interval_s=0.0, steps_per_iteration=6_144)
    progress(IterationStats(iteration=33, env_steps=202_752, env_steps_per_s=2_000.0))
    assert "202,752/200,000" not in lines[0] and "(100%)" not in lines[0]
    assert "202,752 (done: target 200,000 reached; the last iteration of 6,144 steps ran 2,752 past it)" in lines[0]


def test_play_real_env_writes_a_video(capsys, tmp_path, monkeypatch):
    """The VBot env end to end: one tiny training iteration, then play --competition --video (headless)."""
    monkeypatch.chdir(tmp_path)
    code, out, err = _cli(capsys, "train", "--env", "vbot_navigation_section001", "--num-envs", "2",
                          "--max-env-steps", "16", "--set", "ppo.num_steps_per_env=8", "--set", "ppo.num_mini_batches=1",
                          "--set", "env.episode_length_s=0.1", "--set", "eval.episodes=2", "--json")
    assert code == 0, err
    video, sheet = tmp_path / "play.mp4", tmp_path / "sheet.png"
    code, out, err = _cli(capsys, "play", "--episodes", "10", "--competition", "--video", str(video),
                          "--frames", str(sheet), "--json")
    assert code == 0, err
    played = json.loads(out)
    assert played["episodes"] == 10 and played["competition_points"] == 0.0  # 0.1 s: nobody gets 10 m
    import imageio.v3 as iio
    import imageio_ffmpeg

    assert played["video"] == str(video) and imageio_ffmpeg.count_frames_and_secs(str(video))[0] == 3
    assert "video play.mp4: 3 frames written" in err  # the progress on stderr, stdout stays one JSON object
    assert played["frames"] == str(sheet) and iio.imread(sheet).shape[2] == 3 and played["frames_render_s"] > 0


def test_bench_train_reports_both_rates(capsys):
    code, out, err = _cli(capsys, "bench", "train", "--env", "dummy:point_nav", "--num-envs", "8", "--iterations", "1",
                          "--set", "ppo.num_steps_per_env=8", "--set", "torch_threads=1", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["train_env_steps_per_s"] > 0 and result["physics_steps_per_s"] > 0
    assert result["ratio"] == pytest.approx(result["train_env_steps_per_s"] / result["physics_steps_per_s"], abs=2e-3)
    assert result["precision"] in ("fp32", "bf16") and result["precision_reason"] in ("measured", "cached",
                                                                                      "no-native-bf16")
