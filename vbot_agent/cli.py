"""The ``vbot`` command line, built from the action registry.

Exit codes: 0 ok; 2 bad input (one line on stderr); 1 the work failed; 130 interrupted.
With ``--json`` stdout carries exactly one JSON object and everything else goes to stderr.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from vbot_agent.errors import Interrupted, UsageError, VbotError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting, so errors stay one line."""

    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message}")


def build_parser(action) -> argparse.ArgumentParser:
    """An argparse parser for one action; every value stays a string until the registry coerces it."""
    parser = _Parser(
        prog=" ".join(["vbot", *action.name.split()]),
        description=action.summary,
        epilog=action.epilog or None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,  # a drifted flag in a skill must not parse as a prefix of a real one
    )
    for p in action.params:
        default_text = "" if p.default in (None, [], ()) else f" (default: {p.default})"
        choices_text = f" [{'|'.join(map(str, p.choices))}]" if p.choices else ""
        help_text = (p.help + choices_text + default_text) or None
        if p.positional:
            parser.add_argument(p.name, nargs=None if p.required else "?", default=None, help=help_text,
                                metavar=p.name.upper())
        elif p.type == "bool":
            parser.add_argument(p.option, dest=p.name, action="store_const", const=True, default=None,
                                help=help_text)
        elif p.repeat:
            parser.add_argument(p.option, dest=p.name, action="append", default=None, help=help_text,
                                metavar=p.name.upper())
        elif p.const is not None:
            parser.add_argument(p.option, dest=p.name, nargs="?", const=p.const, default=None,
                                help=help_text, metavar=p.name.upper())
        else:
            parser.add_argument(p.option, dest=p.name, default=None, help=help_text, metavar=p.name.upper())
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument("--workspace", default=None, help="workspace folder (default: found upward, or $VBOT_WORKSPACE)")
    return parser


def parse_command(argv: Sequence[str]):
    """Resolve ``argv`` (without the program name) to ``(action, params, json, workspace)``.

    ``params`` are validated with defaults filled. Raises UsageError on unknown actions or bad values.
    """
    action, given, json_mode, workspace = parse_given(argv)
    return action, action.validate(given), json_mode, workspace


def parse_given(argv: Sequence[str], registry=None):
    """Resolve ``argv`` to ``(action, given, json, workspace)``; ``given`` holds only the values
    written on the command line, not yet validated. ``registry`` defaults to the real one (the
    skills linter passes a fixture registry in its tests). Raises UsageError.
    """
    if registry is None:
        from vbot_agent.actions import REGISTRY as registry

    argv = list(argv)
    json_mode, workspace = False, None
    # Global flags may come before the action words.
    while argv and argv[0] in ("--json", "--workspace"):
        if argv[0] == "--json":
            json_mode = True
            argv.pop(0)
        else:
            if len(argv) < 2:
                raise UsageError("--workspace needs a folder")
            workspace = argv[1]
            del argv[:2]
    action, used = registry.longest_prefix(argv)
    if action is None:
        first = argv[0] if argv and not argv[0].startswith("-") else None
        raise UsageError(_unknown(first, registry) if first else "no command given; run `vbot --help`")
    namespace = build_parser(action).parse_args(argv[used:])
    given = {p.name: getattr(namespace, p.name) for p in action.params if getattr(namespace, p.name) is not None}
    return action, given, json_mode or namespace.json, namespace.workspace or workspace


def _unknown(word: str, registry) -> str:
    from vbot_agent.errors import suggest

    firsts = sorted({n.split()[0] for n in registry.names()})
    return f"unknown command {word!r}" + suggest(word, firsts) + "; run `vbot --help` for the list"


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


def render_default(result: Any) -> str:
    """key: value lines for a flat dict; YAML for nested results."""
    if isinstance(result, dict) and all(not isinstance(v, (dict, list)) for v in result.values()):
        width = max((len(str(k)) for k in result), default=0) + 1
        return "\n".join(f"{k + ':':<{width + 1}}{v}" for k, v in result.items())
    import yaml

    return yaml.safe_dump(result, sort_keys=False, allow_unicode=True).rstrip()


def run(argv: Sequence[str]) -> int:
    from vbot_agent.actions.context import Context

    argv = list(argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(top_level_help())
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
        result = action.load()(ctx, **params)
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
    try:
        if json_mode:
            print(json.dumps(result, indent=2, default=_json_default))
        else:
            render = action.load_render()
            text = render(result) if render else render_default(result)
            if text:
                print(text)
        sys.stdout.flush()
    except BrokenPipeError:  # `vbot ... | head`: the reader left; not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silences the flush at interpreter exit


def _json_default(value: Any) -> Any:
    """numpy scalars and paths in results become plain JSON values."""
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def main() -> None:
    code = run(sys.argv[1:])
    # Interpreter shutdown garbage-collects every object left; with torch imported that alone takes
    # ~0.4 s on 2 cores, paid by every trainer a campaign starts. Frozen objects are skipped (atexit
    # handlers still run).
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    main()
