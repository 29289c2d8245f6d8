"""`vbot status` in a workspace made by `vbot init` and never used: exit 0, no campaign yet, what to run."""

import json

from vbot_agent.cli import run


def test_status_of_a_fresh_workspace_says_there_is_no_campaign_yet(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VBOT_WORKSPACE", raising=False)
    assert run(["init"]) == 0
    capsys.readouterr()
    assert run(["status"]) == 0
    out = capsys.readouterr()
    assert "no campaign" in out.out and "vbot automl --mode stage" in out.out and out.err == ""
    assert run(["status", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "none" and data["next"].startswith("vbot automl")
    from vbot_agent.agent.lint import check_command

    check_command(data["next"])  # the suggested command parses
