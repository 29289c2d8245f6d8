"""``vbot mcp``: the MCP server over stdio, built on the official MCP Python SDK (2.x, low-level API).

The SDK is imported here only, and this module only when ``vbot mcp`` runs, so ``vbot --help``
never pays for it. The tools and resources themselves live in ``tools.py`` and ``resources.py``
(no SDK there); this module turns their dicts into MCP results and errors into error results.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from vbot_agent.errors import UsageError, VbotError

SDK_HINT = "pip install 'vbot-agent[mcp]' (or: pip install 'mcp>=2.3,<3')"


def instructions(long_tools: list[str]) -> str:
    """What the server tells the agent at initialisation (``long_tools``: the tools that start jobs)."""
    return (
        "vbot trains the VBot quadruped (MuJoCo, PPO) and runs training campaigns. Start by reading the "
        "resource vbot://wake-up (where things stand and the next commands) and vbot://skills/training-pipeline. "
        "Each tool is a `vbot` CLI action with the same parameters (words joined by underscores: `curriculum "
        f"run` is curriculum_run). Long actions ({', '.join(long_tools)}) start a background job and answer at "
        "once with a job_id: poll job_status (wait_s waits for the end), read job_log, stop with job_stop. "
        "Jobs belong to this server: when it exits they are stopped as by Ctrl-C (a trainer saves; `train` "
        "with resume=latest continues it). Paths must lie inside the workspace; relative ones are relative to it."
    )


def load_sdk() -> Any:
    """Import the SDK pieces used here; UsageError (exit 2, one line) when the SDK is missing or too old."""
    try:
        import anyio
        import mcp_types
        from mcp.server.lowlevel import Server
        from mcp.server.stdio import stdio_server
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in ("mcp", "mcp_types", "anyio"):
            raise VbotError(f"the MCP Python SDK failed to import ({exc}); reinstall it: {SDK_HINT}") from None
        import importlib.util

        if exc.name == "mcp_types" and importlib.util.find_spec("mcp") is not None:
            raise UsageError(f"`vbot mcp` needs the MCP Python SDK 2.x; the installed one is older: {SDK_HINT}") from None
        raise UsageError(f"`vbot mcp` needs the MCP Python SDK 2.x, which is not installed "
                         f"(no module {exc.name!r}): {SDK_HINT}") from None
    return anyio, mcp_types, Server, stdio_server


def build_server(toolbox):
    """The SDK ``Server`` serving ``toolbox`` (a :class:`~vbot_agent.mcp_server.tools.Toolbox`): its
    tools, the resources of its workspace, and a lifespan that stops its jobs when the session ends.
    """
    _, types, Server, _ = load_sdk()
    from vbot_agent import __version__
    from vbot_agent.mcp_server import resources

    long_tools = [s.name for s in toolbox.specs.values() if s.action.long_running]
    tools = [types.Tool(name=s.name, description=s.description, input_schema=s.input_schema)
             for s in toolbox.specs.values()]

    @asynccontextmanager
    async def lifespan(_server) -> AsyncIterator[Any]:
        try:
            yield toolbox
        finally:
            await toolbox.close()

    async def list_tools(ctx, params) -> Any:
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx, params) -> Any:
        try:
            reply = await toolbox.call(params.name, params.arguments)
        except UsageError as exc:
            return _error(types, f"bad input: {exc}")
        except VbotError as exc:
            return _error(types, f"failed: {exc}")
        except Exception as exc:  # an action's bug: the agent gets the message, the server keeps serving
            return _error(types, f"internal error: {type(exc).__name__}: {exc}")
        return types.CallToolResult(content=[types.TextContent(type="text", text=json.dumps(reply, indent=2))],
                                    structured_content=reply)

    async def list_resources(ctx, params) -> Any:
        specs = await _in_thread(resources.list_resources)
        return types.ListResourcesResult(resources=[
            types.Resource(uri=s.uri, name=s.name, description=s.description, mime_type=s.mime_type) for s in specs])

    async def read_resource(ctx, params) -> Any:
        try:
            mime_type, text = await _in_thread(resources.read_resource, str(params.uri), toolbox.root)
        except VbotError as exc:  # an MCP error with this message (a plain exception would lose it)
            from mcp.shared.exceptions import MCPError

            code = types.INVALID_PARAMS if isinstance(exc, UsageError) else types.INTERNAL_ERROR
            raise MCPError(code=code, message=str(exc)) from None
        return types.ReadResourceResult(contents=[types.TextResourceContents(uri=str(params.uri), mime_type=mime_type,
                                                                             text=text)])

    return Server("vbot", version=__version__, instructions=instructions(long_tools), lifespan=lifespan,
                  on_list_tools=list_tools, on_call_tool=call_tool, on_list_resources=list_resources,
                  on_read_resource=read_resource)


def _error(types, text: str) -> Any:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=True)


async def _in_thread(fn, *args) -> Any:
    import asyncio

    return await asyncio.to_thread(fn, *args)


def serve(ctx) -> None:
    """The ``mcp`` action: serve the workspace over stdin/stdout until the client closes stdin.

    The workspace is ``--workspace``, else found upward from the current folder, else the current
    folder (where the ``init`` tool can create one). The server works from the workspace folder, so
    relative paths in tool arguments mean the same to the confinement check and to the action.
    """
    if ctx.json:
        raise UsageError("`vbot mcp` speaks MCP on stdout; --json does not apply")
    anyio, _, _, stdio_server = load_sdk()
    from vbot_agent.actions import REGISTRY
    from vbot_agent.mcp_server.tools import Toolbox
    from vbot_agent.workspace import MARKER

    root = ctx.workspace(create=True)
    toolbox = Toolbox(REGISTRY, root)
    server = build_server(toolbox)
    os.chdir(root)
    # stderr: stdout carries the protocol, nothing else may be written to it
    note = "" if (root / MARKER).is_dir() else " (not a workspace yet: the init tool makes it one)"
    print(f"vbot mcp: serving {root}{note} over stdio (Model Context Protocol) until stdin closes; "
          "`vbot mcp --help` shows how to register it with a coding agent", file=ctx.stderr, flush=True)

    async def main() -> None:
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())

    _exit_on_signals(toolbox)
    anyio.run(main)
    return None


def _exit_on_signals(toolbox) -> None:
    """On SIGINT or SIGTERM: SIGINT to every running job's process group, then exit 128 + signal.

    The SDK reads stdin in a thread it cannot cancel, so after Ctrl-C the server would wait for a
    line that never comes; an agent's client sends SIGTERM when the server is slow to exit on EOF.
    Either way the jobs are stopped as by Ctrl-C (a trainer still saves), not left running.
    """
    import signal

    def handle(signum, _frame) -> None:
        for job in toolbox.jobs.running():
            job.signal_group(signal.SIGINT)
        os._exit(128 + signum)  # the protocol stream has nothing to flush; exiting now is the point

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handle)
