"""The `vbot` CLI end to end, as a user runs it (subprocesses)."""

import json
import subprocess
import sys

import pytest


def vbot(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "vbot_agent.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def assert_usage_error(result, pattern):
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # one line, no traceback
    assert pattern in lines[0]
    assert result.stdout == ""


def test_help_lists_every_action():
    from vbot_agent.actions import REGISTRY

    result = vbot("--help")
    assert result.returncode == 0
    for action in REGISTRY:
        assert action.name in result.stdout


def test_envs_lists_one_line_each():
    result = vbot("envs")
    assert result.returncode == 0
    assert result.stdout.splitlines()[0].startswith("vbot_navigation_section001 ")
    data = json.loads(vbot("envs", "--json").stdout)
    assert data["envs"][0]["env_id"] == "vbot_navigation_section001"


def test_envs_of_one_course_lists_its_start_run_and_every_item():
    """`vbot envs --env ID`: what `vbot play --competition` measures there, from the course itself."""
    from vbot_agent.sim.courses import COURSES

    data = json.loads(vbot("envs", "--env", "vbot_navigation_section012", "--json").stdout)
    assert data["competition"]["run_s"] == 60.0 and data["competition"]["start"].startswith("x -4..4, y 7.1..8.6")
    assert [i["item"] for i in data["items"]] == [i.name for i in COURSES["section012"]().items]
    assert data["sections"] == [{"section": "section012", "max_points": 60}]
    text = vbot("envs", "--env", "vbot_navigation_section013").stdout
    assert "15 instead when a ball was touched" in text and "sit still 1 s on the platform" in text
    assert "(base within 0.675 m of a ball's centre, whichever of the two moved)" in text  # what a touch is
    assert "120 s per competition run (`play --competition` sets the episode to it" in text  # not training's
    bad = vbot("envs", "--env", "vbot_navigation_section099")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1


def test_view_writes_a_png(tmp_path):
    out = tmp_path / "scene.png"
    result = vbot("view", "--image", str(out), "--width", "320", "--height", "240", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["image"] == str(out)
    import imageio.v3 as iio

    picture = iio.imread(out)
    assert picture.shape == (240, 320, 3)
    assert picture.std() > 10  # a scene, not a blank frame


def test_unknown_env_is_one_line_with_the_valid_ids():
    assert_usage_error(vbot("view", "--env", "nope"), "valid: vbot_navigation_section001")


def test_unknown_command_and_flag():
    assert_usage_error(vbot("veiw"), "did you mean view")
    assert_usage_error(vbot("view", "--widht", "3"), "unrecognized arguments: --widht 3 (did you mean --width")
    assert_usage_error(vbot("view", "--width", "abc"), "--width: expected int, got 'abc'")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("env: [unclosed\n", "malformed YAML"),
        ("- just\n- a list\n", "expected a mapping"),
        ("env:\n  spawn:\n    layuot: competition\n", "unknown key 'env.spawn.layuot'"),
        ("reward:\n  scales:\n    progres: 1\n", "unknown reward term 'progres'"),
    ],
)
def test_bad_yaml_is_one_line(tmp_path, text, message):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(text)
    assert_usage_error(vbot("view", "--config", str(cfg), "--image", str(tmp_path / "x.png")), message)


def test_missing_config_file(tmp_path):
    assert_usage_error(vbot("view", "--config", str(tmp_path / "none.yaml")), "file not found")


def test_json_mode_keeps_stdout_clean_on_error():
    result = vbot("view", "--env", "nope", "--json")
    assert result.returncode == 2 and result.stdout == ""


@pytest.mark.parametrize("command", ["train", "play"])
def test_env_help_names_every_registered_env_without_importing_mujoco(command):
    from vbot_agent.sim.registry import ENV_IDS

    probe = ("import sys\nfrom vbot_agent.cli import run\ncode = run(['" + command + "', '--help'])\n"
             "heavy = [m for m in ('mujoco', 'torch') if m in sys.modules]\nprint('HEAVY', heavy)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    help_text = " ".join(result.stdout.split())  # argparse wraps lines
    for env_id in ENV_IDS:
        assert env_id in help_text
    assert "vbot envs" in help_text and "HEAVY []" in result.stdout
def test_a_command_group_lists_its_commands():
    result = vbot("curriculum", "--help")
    assert result.returncode == 0, result.stderr
    for name in ("curriculum advance", "curriculum edit", "curriculum run", "curriculum status"):
        assert name in result.stdout
    assert_usage_error(vbot("curriculum"), "`vbot curriculum` needs one of: advance, edit, run, status")
    assert_usage_error(vbot("curriculum", "stat"), "unknown command 'curriculum stat' (did you mean curriculum status?)")
    assert "did you mean" not in vbot("curriculum", "zzz").stderr


def test_help_into_a_closed_pipe_is_quiet():
    reader = subprocess.run(f"'{sys.executable}' -m vbot_agent.cli --help | head -1", shell=True,
                            capture_output=True, text=True, timeout=120)
    assert reader.stdout.startswith("vbot ") and reader.stderr == ""


def test_mistyped_flag_suggests_the_closest_ones_in_process():
    from vbot_agent.actions.command_line import parse_given
    from vbot_agent.errors import UsageError

    with pytest.raises(UsageError, match=r"--max-env-step=5 \(did you mean --max-env-steps"):
        parse_given(["train", "--max-env-step=5"])
    with pytest.raises(UsageError) as far:
        parse_given(["train", "--zzzzqq", "1"])
    assert "did you mean" not in str(far.value)  # nothing close: no guess


def test_text_output_rounds_floats_json_keeps_them():
    from vbot_agent.textout import render_default, rounded

    assert rounded({"a": 0.1 + 0.2, "b": [123456.789, 2], "c": "x", "d": float("nan")})["a"] == 0.3
    assert rounded([123456.789])[0] == 123457.0
    assert render_default({"rate": 0.1 + 0.2, "steps": 7}) == "rate:  0.3\nsteps: 7"
    assert "0.333333\n" in render_default({"nested": {"third": 1 / 3}}) + "\n"


def test_text_output_prints_typed_words_as_words():
    """`vbot trial` (no --json) returns its result.json status as a TrialOutcome: the nested YAML
    rendering used to fail on it ("cannot represent an object")."""
    from vbot_agent.textout import render_default
    from vbot_agent.trials.outcomes import TrialOutcome

    text = render_default({"status": TrialOutcome.COMPLETE, "metrics": {"state": TrialOutcome.FAIL}})
    assert text == "status: complete\nmetrics:\n  state: fail"


@pytest.mark.parametrize("given, expected", [("3", 3), (4.0, 4), ("1e6", 1_000_000), ("auto", "auto")])
def test_a_count_is_a_whole_number_or_auto(given, expected):
    from vbot_agent.actions.registry import Param

    assert Param("hp_trials", "count").coerce(given) == expected


@pytest.mark.parametrize("given", ["0", "2.5", "many", True])
def test_a_bad_count_names_its_flag(given):
    from vbot_agent.actions.registry import Param
    from vbot_agent.errors import UsageError

    with pytest.raises(UsageError, match=r"^--hp-trials: expected a whole number >= 1 or auto, got "):
        Param("hp_trials", "count").coerce(given)
