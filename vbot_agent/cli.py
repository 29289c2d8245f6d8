"""The ``vbot`` command line, built from the action registry.

Exit codes: 0 ok; 2 bad input (one line on stderr); 1 the work failed; 130 interrupted.
With ``--json`` stdout carries exactly one JSON object and everything else goes to stderr.
Parsing and rendering live in ``vbot_agent.actions.command_line`` (shared with the linter and the TUI).
"""

from __future__ import annotations

import gc
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from vbot_agent.actions.command_line import json_default, parse_command
from vbot_agent.errors import Interrupted, UsageError, VbotError
from vbot_agent.textout import render_default

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def top_level_help() -> str:
    from vbot_agent import __version__
    from vbot_agent.actions import REGISTRY

    lines = [
        f"vbot {__version__} - train the VBot quadruped and run campaigns around it",
        "",
        "usage: vbot [--workspace DIR] [--json] COMMAND [options]",
        "       vbot COMMAND --help",
        "",
    ]
    groups: dict[str, list] = {}
    for action in REGISTRY:
        groups.setdefault(action.group, []).append(action)
    width = max(len(a.name) for a in REGISTRY) + 2
    for group, actions in groups.items():
        lines.append(f"{group}:")
        lines += [f"  {a.name:<{width}}{a.summary}" for a in actions]
        lines.append("")
    lines += [
        "exit codes: 0 ok, 2 bad input (one line on stderr), 1 the work failed, 130 interrupted.",
        "--json prints one JSON object on stdout; progress and errors go to stderr.",
    ]
    return "\n".join(lines)


def run(argv: Sequence[str]) -> int:
    from vbot_agent.actions.context import Context

    argv = list(argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        _emit(top_level_help())
        return EXIT_OK
    if argv[0] == "--version":
        from vbot_agent import __version__

        print(f"vbot {__version__}")
        return EXIT_OK
    json_mode = "--json" in argv
    stop_message = None
    try:
        action, params, json_mode, workspace = parse_command(argv)
        ctx = Context(json=json_mode, workspace_override=workspace)
        result = action.run(ctx, params)
    except Interrupted as exc:  # stopped cleanly: print what was done, then how to go on
        result, stop_message = exc.result, f"vbot: stopped: {exc}"
    except UsageError as exc:
        print(f"vbot: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except VbotError as exc:
        print(f"vbot: failed: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("vbot: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SystemExit as exc:  # argparse --help
        return int(exc.code or 0)
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:
        if os.environ.get("VBOT_DEBUG"):
            raise
        print(f"vbot: internal error: {type(exc).__name__}: {exc} (set VBOT_DEBUG=1 for the traceback)",
              file=sys.stderr)
        return EXIT_FAILED
    if result is not None:
        _print_result(action, result, json_mode)
    if stop_message is not None:
        print(stop_message, file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK


def _print_result(action, result: Any, json_mode: bool) -> None:
    if json_mode:
        _emit(json.dumps(result, indent=2, default=json_default))
    else:
        render = action.load_render()
        text = render(result) if render else render_default(result)
        if text:
            _emit(text)


def _emit(text: str) -> None:
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:  # `vbot ... | head`: the reader left; not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silences the flush at interpreter exit


def main() -> None:
    code = run(sys.argv[1:])
    # Interpreter shutdown garbage-collects every object left; with torch imported that alone takes
    # ~0.4 s on 2 cores, paid by every trainer a campaign starts. Frozen objects are skipped (atexit
    # handlers still run).
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    main()
