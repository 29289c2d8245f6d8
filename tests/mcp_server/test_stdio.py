"""`vbot mcp` as a coding agent runs it: a subprocess spoken to over stdio by the SDK's client."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.mcp_server.conftest import REPO, text_of
from tests.mcp_server.test_server import _gone
from vbot_agent.actions import REGISTRY
from vbot_agent.mcp_server.tools import tool_specs

HEAVY = {"torch", "mujoco", "optuna", "textual", "tensorboard", "matplotlib"}


@pytest.mark.slow
def test_vbot_mcp_over_stdio_end_to_end(workspace, tmp_path):
    errlog = tmp_path / "server_stderr.txt"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    params = StdioServerParameters(command=sys.executable, cwd=str(tmp_path), env=env,
                                   args=["-X", "importtime", "-m", "vbot_agent.cli", "mcp", "--workspace", str(workspace)])

    async def body() -> int:
        with errlog.open("w") as err:
            async with Client(stdio_client(params, errlog=err)) as client:
                assert [t.name for t in (await client.list_tools()).tools] == [s.name for s in tool_specs(REGISTRY)]
                listed = await client.call_tool("skills_list", {})
                assert not listed.is_error, text_of(listed)
                assert "training-pipeline" in [s["name"] for s in json.loads(text_of(listed))["result"]["skills"]]
                # a relative path means the workspace's folder, whatever the client's working directory
                audit = await client.call_tool("reward_audit", {"config": "starter_kit_schedule/reward_library/lazy_robot.yaml"})
                assert not audit.is_error, text_of(audit)
                job = (await client.call_tool("watch", {"watch": True, "poll": True, "no_diagnosis": True})).structured_content
                status = (await client.call_tool("job_status", {"job_id": job["job_id"], "wait_s": 1})).structured_content
                assert status["running"] and status["pid"], status
                return status["pid"]

    job_pid = anyio.run(body)
    assert _gone(job_pid), "the server left its job running after the client disconnected"
    imported = {line.split("|")[-1].strip().split(".")[0] for line in errlog.read_text().splitlines()
                if line.startswith("import time:")}
    assert "mcp" in imported and "mujoco" in imported  # the parse sees the SDK, and reward_audit's physics
    assert not imported & HEAVY - {"mujoco"}  # no tool called here needs torch, the TUI or the search


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_ends_the_server_and_stops_its_jobs(workspace, sig):
    """Ctrl-C in a terminal, or the SIGTERM a client sends to a server slow to exit: no job left running."""
    server = subprocess.Popen([sys.executable, "-m", "vbot_agent.cli", "mcp"], cwd=workspace, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def ask(request_id: int, method: str, params: dict) -> dict:
        server.stdin.write(json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}) + "\n")
        server.stdin.flush()
        while (reply := json.loads(server.stdout.readline())).get("id") != request_id:
            pass
        return reply["result"]

    try:
        ask(1, "initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                              "clientInfo": {"name": "test", "version": "1"}})
        job = ask(2, "tools/call", {"name": "watch", "arguments": {"watch": True, "poll": True,
                                                                   "no_diagnosis": True}})["structuredContent"]
        assert job["running"] and job["pid"], job
        server.send_signal(sig)
        assert server.wait(timeout=60) == 128 + sig
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert _gone(job["pid"]), "the job outlived the server"


def test_without_the_sdk_one_line_and_exit_2(workspace):
    hide_sdk = ("import sys; sys.modules.update(mcp=None, mcp_types=None); sys.argv = ['vbot', 'mcp']; "
                "from vbot_agent.cli import main; main()")
    result = subprocess.run([sys.executable, "-c", hide_sdk], capture_output=True, text=True, timeout=120,
                            cwd=workspace, stdin=subprocess.DEVNULL)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "needs the MCP Python SDK" in lines[0] and "pip install" in lines[0], result.stderr
    assert result.stdout == ""


def test_help_does_not_import_the_sdk():
    probe = subprocess.run([sys.executable, "-X", "importtime", "-m", "vbot_agent.cli", "--help"], cwd=REPO,
                           capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0 and "  mcp " in probe.stdout
    imported = {line.split("|")[-1].strip().split(".")[0] for line in probe.stderr.splitlines()
                if line.startswith("import time:")}
    assert not imported & {"mcp", "mcp_types", "pydantic", "anyio"}
