"""Fixtures for the MCP server: a workspace made by `vbot init`, and an in-process SDK client."""

from __future__ import annotations

import contextlib
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from mcp import Client

from vbot_agent.actions import REGISTRY
from vbot_agent.mcp_server.server import build_server
from vbot_agent.mcp_server.tools import Toolbox

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def workspace(tmp_path, monkeypatch) -> Path:
    """A workspace created by the real `vbot init`; the test runs from inside it, as `vbot mcp` does."""
    from vbot_agent.cli import run

    root = tmp_path / "ws"
    with contextlib.redirect_stdout(io.StringIO()):
        assert run(["init", str(root)]) == 0
    monkeypatch.chdir(root)
    monkeypatch.delenv("VBOT_WORKSPACE", raising=False)
    return root


@contextlib.asynccontextmanager
async def connected(root: Path) -> AsyncIterator[Client]:
    """The SDK's own client, talking to the server in this process."""
    async with Client(build_server(Toolbox(REGISTRY, root))) as client:
        yield client


def text_of(result) -> str:
    return "\n".join(block.text for block in result.content)
