"""Command lines of actions: ``vbot`` argv -> (action, values), and results -> text.

Shared by everything that reads or shows a command line: the CLI (``vbot_agent/cli.py``), the skills
linter and router (``vbot_agent.agent``) and the TUI. One parser per action, built from its
declaration; a mistyped flag is refused with the closest real ones.
"""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Sequence
from typing import Any

from vbot_agent.errors import UsageError, suggest


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting, so errors stay one line; an
    unknown flag gets the closest real ones."""

    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message}{self._flag_hint(message)}")

    def _flag_hint(self, message: str) -> str:
        prefix = "unrecognized arguments: "
        if not message.startswith(prefix):
            return ""
        flags = [o for action in self._actions for o in action.option_strings if o.startswith("--")]
        for word in message[len(prefix):].split():
            flag = word.split("=", 1)[0]
            if flag.startswith("--"):
                hint = suggest(flag, flags)
                if hint:
                    return hint
        return ""


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
        if first is None:
            raise UsageError("no command given; run `vbot --help`")
        _group_or_unknown(first, argv[1:], registry)
    namespace = build_parser(action).parse_args(argv[used:])
    given = {p.name: getattr(namespace, p.name) for p in action.params if getattr(namespace, p.name) is not None}
    return action, given, json_mode or namespace.json, namespace.workspace or workspace


def _group_or_unknown(first: str, rest: list[str], registry) -> None:
    """``vbot curriculum --help`` lists the group's commands (exit 0); ``vbot curriculum`` alone or
    with a mistyped second word is a usage error naming them. Any other word is an unknown command."""
    group = [a for a in registry if a.name.split()[0] == first and " " in a.name]
    if not group:
        firsts = sorted({n.split()[0] for n in registry.names()})
        raise UsageError(f"unknown command {first!r}" + suggest(first, firsts) + "; run `vbot --help` for the list")
    if rest and rest[0] in ("-h", "--help"):
        width = max(len(a.name) for a in group) + 2
        print("\n".join([f"usage: vbot {first} COMMAND [options]", ""]
                        + [f"  {a.name:<{width}}{a.summary}" for a in group]
                        + ["", f"`vbot {first} COMMAND --help` for one command's options"]))
        raise SystemExit(0)
    subs = [a.name.split(" ", 1)[1] for a in group]
    if rest and not rest[0].startswith("-"):
        close = difflib.get_close_matches(rest[0], subs, n=3, cutoff=0.6)
        hint = f" (did you mean {' or '.join(f'{first} {c}' for c in close)}?)" if close else ""
        raise UsageError(f"unknown command '{first} {rest[0]}'{hint}; `vbot {first}` has: {', '.join(subs)}")
    raise UsageError(f"`vbot {first}` needs one of: {', '.join(subs)} (e.g. `vbot {group[0].name} --help`)")


def json_default(value: Any) -> Any:
    """numpy scalars and paths in results become plain JSON values."""
    if hasattr(value, "item"):
        return value.item()
    return str(value)
