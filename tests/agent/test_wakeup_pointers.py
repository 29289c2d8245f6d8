"""WAKE_UP.md of a fresh `vbot init` workspace points only at things that exist there.

The agent who reads it has the workspace and the `vbot` command, not this repository: every file
it names must exist in the workspace, and every `vbot ...` command it quotes must parse.
"""

import re

from vbot_agent.agent.lint import check_command
from vbot_agent.cli import run


def test_wake_up_of_a_fresh_workspace_names_only_real_files_and_commands(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VBOT_WORKSPACE", raising=False)
    assert run(["init"]) == 0
    assert run(["watch", "--snapshot"]) == 0
    capsys.readouterr()
    text = (tmp_path / "WAKE_UP.md").read_text()
    quoted = re.findall(r"`([^`\n]+)`", text)
    files = [q for q in quoted if q.endswith((".md", ".yaml", ".json")) and "*" not in q and "<" not in q
             and not q.startswith("vbot ") and not q.startswith("/")]
    for name in files:
        assert (tmp_path / name).exists() or name in ("WAKE_UP.md", "starter_kit_schedule/progress/automl_state.yaml"), \
            f"WAKE_UP.md points to {name!r}, which a fresh workspace does not have"
    commands = [q for q in quoted if q.startswith("vbot ") and "<" not in q and "NAME" not in q]
    commands += [line.split("#")[0].strip() for line in text.splitlines() if line.startswith("vbot ")]
    assert any(c.startswith("vbot skills show") for c in commands) and "vbot runs" in commands
    for command in commands:
        check_command(command)


def test_the_diagnosis_of_a_healthy_run_gives_no_warning_lines(tmp_path):
    import importlib.util

    from tests.agent.conftest import REPO
    from vbot_agent.agent.watcher import diagnose

    spec = importlib.util.spec_from_file_location("diagnosis_fixtures", REPO / "tests/rewards/test_diagnosis.py")
    fixtures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fixtures)
    (tmp_path / "starter_kit_schedule").mkdir()
    run_dir = tmp_path / "runs" / "dummy_point_nav" / "x_PPO"
    config = {**fixtures.healthy_config(), "env_id": "dummy:point_nav"}  # no audit: quick
    fixtures.write_run(run_dir, fixtures.healthy_series(), config)
    assert diagnose(tmp_path, "runs/dummy_point_nav/x_PPO") == ([], 0)
