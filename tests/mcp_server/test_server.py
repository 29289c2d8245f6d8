"""The server through the SDK's own client, in process: tools, jobs and resources."""

from __future__ import annotations

import json
import os
import time

import anyio
import pytest
from mcp.shared.exceptions import MCPError

from tests.mcp_server.conftest import REPO, connected, text_of
from vbot_agent.mcp_server.server import build_server
from vbot_agent.mcp_server.tools import Toolbox, tool_name, tool_specs


def _gone(pid: int, within_s: float = 10.0) -> bool:
    """True once no process has ``pid`` (waits up to ``within_s``)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_lists_every_tool_and_runs_a_short_action(workspace):
    from vbot_agent.actions import REGISTRY

    told = build_server(Toolbox(REGISTRY, workspace)).instructions  # what an agent reads at initialisation
    assert all(tool_name(a.name) in told for a in REGISTRY if a.long_running)

    async def body():
        async with connected(workspace) as client:
            listed = (await client.list_tools()).tools
            assert [t.name for t in listed] == [s.name for s in tool_specs(REGISTRY)]
            result = await client.call_tool("envs", {})
            assert not result.is_error, text_of(result)
            env_ids = [e["env_id"] for e in result.structured_content["result"]["envs"]]
            assert "vbot_navigation_section001" in env_ids
            shown = await client.call_tool("reward_show", {"name": "lazy_robot"})
            assert not shown.is_error and "lazy_robot" in text_of(shown)

    anyio.run(body)


def test_bad_input_and_failures_come_back_as_error_results(workspace):
    broken = workspace / "my_skills" / "broken"
    broken.mkdir(parents=True)
    (broken / "SKILL.md").write_text("---\nname: broken\ndescription: x\n---\nRun `vbot trian --fast`.\n")

    async def body():
        async with connected(workspace) as client:
            bad = await client.call_tool("train", {"num_envs": "many"})
            assert bad.is_error and text_of(bad) == "bad input: --num-envs: expected int, got 'many'"
            outside = await client.call_tool("skills_lint", {"path": "/etc"})
            assert outside.is_error and "outside the workspace" in text_of(outside)
            failed = await client.call_tool("skills_lint", {"path": "my_skills"})
            assert failed.is_error and text_of(failed).startswith("failed: ")
            assert "metadata must be a mapping" in text_of(failed)  # what the action printed before failing
            # the server keeps serving after errors
            assert not (await client.call_tool("reward_list", {})).is_error

    anyio.run(body)


def test_a_long_action_is_a_job_whose_status_outlives_it(workspace):
    async def body():
        async with connected(workspace) as client:
            started = await client.call_tool("watch", {"snapshot": True})
            assert not started.is_error, text_of(started)
            job = started.structured_content
            assert job["job_id"] == 1 and job["command"] == "vbot watch --snapshot" and job["pid"], job
            status = (await client.call_tool("job_status", {"job_id": 1, "wait_s": 120})).structured_content
            assert status["status"] == "finished" and status["returncode"] == 0, status
            assert status["tail"][-1] == "[exit code 0]"
            assert any("WAKE_UP.md" in line for line in status["tail"])
            assert (workspace / "WAKE_UP.md").is_file()
            # read the log in two pages: next_line carries on where the first page stopped
            first = (await client.call_tool("job_log", {"job_id": 1, "since": 0, "lines": 1})).structured_content
            rest = (await client.call_tool("job_log", {"job_id": 1, "since": first["next_line"]})).structured_content
            assert first["lines"] + rest["lines"] == status["tail"][-status["lines"]:]
            assert rest["next_line"] == status["lines"]
            again = (await client.call_tool("job_stop", {"job_id": 1})).structured_content
            assert again["status"] == "finished" and "already ended" in again["note"]
            listed = (await client.call_tool("job_list", {})).structured_content["jobs"]
            assert [j["job_id"] for j in listed] == [1]
            unknown = await client.call_tool("job_status", {"job_id": 7})
            assert unknown.is_error and "no job 7 in this session (jobs: 1)" in text_of(unknown)

    anyio.run(body)


def test_job_stop_ends_a_running_job(workspace):
    async def body():
        async with connected(workspace) as client:
            job = (await client.call_tool("watch", {"watch": True, "poll": True, "no_diagnosis": True})).structured_content
            for _ in range(600):  # until it is watching (it prints its path once started)
                status = (await client.call_tool("job_status", {"job_id": job["job_id"]})).structured_content
                if any("watching" in line for line in status["tail"]):
                    break
                await anyio.sleep(0.1)
            assert status["running"], status
            stopped = (await client.call_tool("job_stop", {"job_id": job["job_id"]})).structured_content
            assert stopped["status"] == "stopped" and not stopped["running"], stopped
            return stopped["pid"]

    assert _gone(anyio.run(body))


def test_closing_the_session_stops_its_jobs(workspace):
    async def body():
        async with connected(workspace) as client:
            job = (await client.call_tool("watch", {"watch": True, "poll": True, "no_diagnosis": True})).structured_content
            status = (await client.call_tool("job_status", {"job_id": job["job_id"], "wait_s": 1})).structured_content
            assert status["running"] and status["pid"], status
            return status["pid"]

    assert _gone(anyio.run(body))


def test_resources_wake_up_state_runs_and_skills(workspace):
    async def body():
        async with connected(workspace) as client:
            uris = [r.uri for r in (await client.list_resources()).resources]
            assert uris[:3] == ["vbot://wake-up", "vbot://campaign/state", "vbot://runs"]
            assert "vbot://skills/training-pipeline" in uris
            wake = (await client.read_resource("vbot://wake-up")).contents[0]
            assert wake.mime_type == "text/markdown" and wake.text == (workspace / "WAKE_UP.md").read_text()
            assert "No campaign in this workspace yet" in wake.text
            state = (await client.read_resource("vbot://campaign/state")).contents[0].text
            assert '"state": null' in state
            runs = (await client.read_resource("vbot://runs")).contents[0].text
            assert '"runs": []' in runs
            skill = (await client.read_resource("vbot://skills/training-pipeline")).contents[0].text
            assert skill == (REPO / "skills" / "training-pipeline" / "SKILL.md").read_text()
            with pytest.raises(MCPError, match="unknown resource 'vbot://run'.*did you mean vbot://runs"):
                await client.read_resource("vbot://run")

    anyio.run(body)


def test_resources_without_a_workspace_say_how_to_make_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    async def body():
        async with connected(tmp_path) as client:
            with pytest.raises(MCPError, match="not a workspace.*vbot init"):
                await client.read_resource("vbot://wake-up")
            made = await client.call_tool("init", {})
            assert not made.is_error, text_of(made)
            wake = (await client.read_resource("vbot://wake-up")).contents[0].text
            assert wake.startswith("# WAKE_UP")

    anyio.run(body)


@pytest.mark.slow
def test_train_as_a_job_then_the_run_is_a_resource(workspace):
    """A real (tiny) training run through the job tools; the runs resource then shows it finished."""

    async def body():
        async with connected(workspace) as client:
            job = (await client.call_tool("train", {"env": "dummy:point_nav", "max_env_steps": 2000,
                                                    "num_envs": 8})).structured_content
            assert job["command"] == "vbot train --env dummy:point_nav --num-envs 8 --max-env-steps 2000"
            status = (await client.call_tool("job_status", {"job_id": job["job_id"], "wait_s": 240})).structured_content
            assert status["status"] == "finished" and status["returncode"] == 0, status
            listed = json.loads((await client.read_resource("vbot://runs")).contents[0].text)["runs"]
            assert len(listed) == 1 and listed[0]["run"].startswith("runs/dummy_point_nav/")
            assert listed[0]["status"] == "finished", listed[0]

    anyio.run(body)
