"""The MCP tools: one per registry action, plus four job tools. No MCP SDK import here.

Every call goes through the checks of ``vbot ask --run``: the action's own validation (types,
choices, ranges, unknown names with suggestions) and the workspace confinement of every path
parameter. Nothing reaches a shell: a short action runs in this process (in a worker thread, one at
a time), a long one (``long_running``) runs as ``python -m vbot_agent.cli ...`` in its own process
group through :mod:`vbot_agent.agent.jobs` and answers at once with a job id.
"""

from __future__ import annotations

import asyncio
import io
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vbot_agent.actions.registry import Action, Param, Registry
from vbot_agent.agent.jobs import STOP_ESCALATION_S, JobBook, run_job, vbot_argv
from vbot_agent.errors import UsageError, VbotError, suggest

# Actions that are not tools, and why.
NOT_TOOLS = {"mcp": "it is this server", "tui": "it needs a terminal"}
# Parameters a tool does not offer, with the value they take. `ask --run` would run the proposed
# action inside the server, past the job machinery: call the proposed tool instead.
FIXED_PARAMS: dict[str, dict[str, Any]] = {"ask": {"run": False}}
TOOL_NOTES = {"ask": "As a tool it only proposes: call the proposed action's tool to run it."}

JSON_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "path": "string",
              "count": ["integer", "string"]}
STATUS_WAIT_MAX_S = 300.0  # longest long-poll of job_status/job_stop (s); clients time requests out
POLL_S = 0.1  # how often a waiting job tool looks at the job (s)
STOP_WAIT_S = STOP_ESCALATION_S[-1] + 5.0  # job_stop's default wait (s): past the SIGKILL, with time to reap
SPAWN_WAIT_S = 10.0  # a new job answers once its process has started, or after this long (s)
# On close, running jobs get SIGINT and this long to finish before SIGTERM (s): under the 2 s after
# which the SDK's stdio client sends SIGTERM to a server that has not exited on EOF.
SHUTDOWN_GRACE_S = 1.5


def _job_param(name: str, type_: str, **fields: Any) -> Param:
    """A job tool's parameter; its messages name it as the tool does (``job_id``, not a CLI flag)."""
    return Param(name, type_, flag=name, **fields)


_JOB_ID = _job_param("job_id", "int", required=True, min=1, help="the job_id a long tool returned")
# The job tools take their parameters from the same Param type, so they validate like actions.
# (``func`` is unused: the Toolbox runs these itself.)
JOB_TOOLS = (
    Action("job_list", "list this session's jobs (running and finished) with status and exit code", func="", params=()),
    Action("job_status", "one job's status, exit code and last output lines; wait_s waits for it to end",
           func="", params=(
               _JOB_ID,
               _job_param("wait_s", "float", default=0.0, min=0.0, max=STATUS_WAIT_MAX_S,
                     help="seconds to wait for the job to end before answering (0: answer now)"),
               _job_param("tail", "int", default=20, min=0, max=2000, help="how many of the last output lines to include"),
           )),
    Action("job_log", "a job's output lines: the last `lines`, or from line number `since` onwards", func="", params=(
        _JOB_ID,
        _job_param("since", "int", min=0, help="first line number to return (0-based); pass the previous next_line"),
        _job_param("lines", "int", default=200, min=1, max=5000, help="at most this many lines"),
    )),
    Action("job_stop", f"stop a job: SIGINT to its process group (like Ctrl-C), SIGTERM after "
           f"{STOP_ESCALATION_S[0]:g} s, SIGKILL after {STOP_ESCALATION_S[1]:g} s; waits for the end", func="", params=(
               _JOB_ID,
               _job_param("wait_s", "float", default=STOP_WAIT_S, min=0.0, max=STATUS_WAIT_MAX_S,
                     help="seconds to wait for the job to end before answering"),
           )),
)
JOB_HINT = "Runs as a background job: answers at once with a job_id."
JOB_NEXT = "poll job_status (wait_s waits for the end), read the output with job_log, stop it with job_stop"


def tool_name(action_name: str) -> str:
    """The tool name of an action: ``bench env`` -> ``bench_env``, ``diagnose-reward`` -> ``diagnose_reward``
    (one spelling for every tool: the command's words joined by ``_``)."""
    return action_name.replace(" ", "_").replace("-", "_")


def param_schema(param: Param) -> dict[str, Any]:
    """The JSON Schema of one parameter (type, enum, bounds, default, description)."""
    item: dict[str, Any] = {"type": JSON_TYPES[param.type]}
    if param.choices is not None:
        item["enum"] = list(param.choices)
    if param.min is not None:
        item["minimum"] = param.min
    if param.max is not None:
        item["maximum"] = param.max
    notes = [param.help] if param.help else []
    if param.type == "path":
        notes.append("a path inside the workspace (relative to it, or absolute)")
    if param.type == "count":
        notes.append('a whole number >= 1, or "auto"')
    if param.const is not None:
        notes.append(f"the CLI's bare {param.option} means {param.const!r}")
    schema = {"type": "array", "items": item} if param.repeat else item
    if param.default is not None:
        schema["default"] = param.default
    if notes:
        schema["description"] = "; ".join(notes)
    return schema


def input_schema(action: Action) -> dict[str, Any]:
    """The tool's ``inputSchema``: an object with one property per parameter the tool offers."""
    hidden = FIXED_PARAMS.get(action.name, {})
    params = [p for p in action.params if p.name not in hidden]
    schema: dict[str, Any] = {"type": "object", "properties": {p.name: param_schema(p) for p in params},
                              "additionalProperties": False}
    required = [p.name for p in params if p.required]
    if required:
        schema["required"] = required
    return schema


def describe(action: Action) -> str:
    """The tool description: the summary, the CLI spelling, how a long action answers, the epilog."""
    text = f"{action.summary} (CLI: vbot {action.name})."
    if action.name in TOOL_NOTES:
        text += " " + TOOL_NOTES[action.name]
    if action.long_running:
        text += f" {JOB_HINT} Then {JOB_NEXT}."
    return text + (f"\n{action.epilog}" if action.epilog else "")


@dataclass(frozen=True)
class ToolSpec:
    """One tool as listed: name, description, input schema, and the action (or job tool) behind it."""

    name: str
    description: str
    input_schema: dict[str, Any]
    action: Action


def tool_specs(registry: Registry) -> list[ToolSpec]:
    """Every tool, actions first (registry order), then the job tools."""
    specs = [ToolSpec(tool_name(a.name), describe(a), input_schema(a), a) for a in registry if a.name not in NOT_TOOLS]
    specs += [ToolSpec(a.name, a.summary, input_schema(a), a) for a in JOB_TOOLS]
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"two tools share a name: {sorted(n for n in names if names.count(n) > 1)}")
    return specs


def plain(value: Any) -> Any:
    """``value`` as plain JSON data (numpy scalars via ``.item()``, paths and the rest as strings)."""
    return json.loads(json.dumps(value, default=lambda v: v.item() if hasattr(v, "item") else str(v)))


class Toolbox:
    """Runs the tools of one server session in the workspace ``root``.

    ``call`` returns a JSON-ready dict or raises UsageError (bad input) / VbotError (the work
    failed); the server turns either into an error result. Call ``close`` when the session ends:
    it stops the jobs still running.
    """

    def __init__(self, registry: Registry, root: Path) -> None:
        self.root = Path(root).resolve()
        self.specs = {s.name: s for s in tool_specs(registry)}
        self.jobs = JobBook()
        self._tasks: set[asyncio.Task] = set()
        self._inline = threading.Lock()  # short actions run one at a time (shared torch/mujoco state)

    def check(self, name: str, arguments: Mapping[str, Any] | None) -> tuple[ToolSpec, dict[str, Any]]:
        """The tool and its validated parameters (defaults filled); UsageError on any problem."""
        spec = self.specs.get(name)
        if spec is None:
            raise UsageError(f"unknown tool {name!r}" + suggest(name, list(self.specs)))
        arguments = dict(arguments or {})
        offered = spec.input_schema["properties"]
        for key in arguments:
            if key not in offered:
                raise UsageError(f"tool {name!r} has no parameter {key!r}" + suggest(key, list(offered))
                                 + f"; valid: {', '.join(offered) or 'none'}")
        params = spec.action.validate({**arguments, **FIXED_PARAMS.get(spec.action.name, {})})
        if spec.action not in JOB_TOOLS:
            from vbot_agent.agent.ask import check_paths_inside

            check_paths_inside(spec.action, params, self.root)
        return spec, params

    async def call(self, name: str, arguments: Mapping[str, Any] | None = None) -> dict[str, Any]:
        spec, params = self.check(name, arguments)
        action = spec.action
        if action in JOB_TOOLS:
            return await getattr(self, action.name)(**params)
        if action.long_running:
            return await self.start_job(action, params)
        return await asyncio.to_thread(self._run_inline, action, params)

    # ------------------------------------------------------------------------- short actions
    def _run_inline(self, action: Action, params: dict[str, Any]) -> dict[str, Any]:
        from vbot_agent.actions.context import Context

        out, err = io.StringIO(), io.StringIO()
        ctx = Context(json=True, workspace_override=str(self.root), stdout=out, stderr=err, cwd=self.root)
        with self._inline:
            try:
                result = action.run(ctx, params)
            except VbotError as exc:  # keep what it printed first (skills lint lists its issues)
                kind = UsageError if isinstance(exc, UsageError) else VbotError
                raise kind(_with_output(str(exc), out.getvalue() + err.getvalue())) from None
        reply: dict[str, Any] = {"result": plain(result)}
        output = (out.getvalue() + err.getvalue()).strip()
        if output:
            reply["output"] = output
        return reply

    # ------------------------------------------------------------------------------- jobs
    async def start_job(self, action: Action, params: dict[str, Any]) -> dict[str, Any]:
        """Launch ``vbot <action> ...`` as a background job; answers once its process exists (with its pid)."""
        command = action.command_line(params)
        job = self.jobs.new(action.name, command, vbot_argv(command, self.root), values=dict(params), cwd=self.root)
        task = asyncio.get_running_loop().create_task(run_job(job, lambda _job: None), name=f"vbot job {job.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SPAWN_WAIT_S
        while job.status == "starting" and loop.time() < deadline:
            await asyncio.sleep(0.01)
        return {**job.summary(), "next": JOB_NEXT}

    async def job_list(self) -> dict[str, Any]:
        return {"jobs": [j.summary() for j in self.jobs.jobs]}

    async def job_status(self, job_id: int, wait_s: float = 0.0, tail: int = 20) -> dict[str, Any]:
        job = self.jobs.get(job_id)
        await _wait_until_done(job, wait_s)
        return {**job.summary(), "tail": job.log(limit=tail)["lines"] if tail else []}

    async def job_log(self, job_id: int, since: int | None = None, lines: int = 200) -> dict[str, Any]:
        job = self.jobs.get(job_id)
        return {"job_id": job.id, "status": job.status, **job.log(since, lines)}

    async def job_stop(self, job_id: int, wait_s: float = STOP_WAIT_S) -> dict[str, Any]:
        job = self.jobs.get(job_id)
        if not job.running:
            return {**job.summary(), "note": f"the job had already ended ({job.status})",
                    "tail": job.log(limit=20)["lines"]}
        job.stop()
        await _wait_until_done(job, wait_s)
        return {**job.summary(), "tail": job.log(limit=20)["lines"]}

    async def close(self, grace_s: float = SHUTDOWN_GRACE_S) -> None:
        """Stop every running job (SIGINT, as Ctrl-C), wait up to ``grace_s``, then cancel the readers
        (which sends SIGTERM to what is left)."""
        running = self.jobs.running()
        for job in running:
            job.stop()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace_s  # one grace period for all of them, not one each
        while any(j.running for j in running) and loop.time() < deadline:
            await asyncio.sleep(POLL_S)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


async def _wait_until_done(job, wait_s: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    while job.running and loop.time() < deadline:
        await asyncio.sleep(POLL_S)


def _with_output(message: str, output: str) -> str:
    """An error message followed by what the action printed before failing (skills lint lists issues)."""
    output = output.strip()
    return f"{message}\n{output}" if output else message
