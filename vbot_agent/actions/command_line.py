"""Command lines of actions: ``vbot`` argv -> (action, values), and results -> text.

Shared by everything that reads or shows a command line: the CLI (``vbot_agent/cli.py``), the skills
linter and router (``vbot_agent.agent``) and the TUI. One parser per action, built from its
declaration; a mistyped flag is refused with the closest real ones.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from typing import Any

from vbot_agent.errors import UsageError, suggest

FLOAT_DIGITS = 6  # significant digits of floats in text output (JSON keeps every digit)


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
        raise UsageError(_unknown(first, registry) if first else "no command given; run `vbot --help`")
    namespace = build_parser(action).parse_args(argv[used:])
    given = {p.name: getattr(namespace, p.name) for p in action.params if getattr(namespace, p.name) is not None}
    return action, given, json_mode or namespace.json, namespace.workspace or workspace


def _unknown(word: str, registry) -> str:
    firsts = sorted({n.split()[0] for n in registry.names()})
    return f"unknown command {word!r}" + suggest(word, firsts) + "; run `vbot --help` for the list"


def render_default(result: Any) -> str:
    """key: value lines for a flat dict; YAML for nested results. Floats keep FLOAT_DIGITS digits."""
    result = rounded(result)
    if isinstance(result, dict) and all(not isinstance(v, (dict, list)) for v in result.values()):
        width = max((len(str(k)) for k in result), default=0) + 1
        return "\n".join(f"{k + ':':<{width + 1}}{v}" for k, v in result.items())
    import yaml

    return yaml.safe_dump(result, sort_keys=False, allow_unicode=True).rstrip()


def rounded(value: Any, digits: int = FLOAT_DIGITS) -> Any:
    """``value`` with every finite float rounded to ``digits`` significant digits (0.30000000000000004
    -> 0.3, 123456.789 -> 123457.0), through dicts, lists and tuples; anything else unchanged."""
    if isinstance(value, float) and math.isfinite(value):
        return float(f"{value:.{digits}g}")
    if isinstance(value, dict):
        return {k: rounded(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(v, digits) for v in value]
    return value


def json_default(value: Any) -> Any:
    """numpy scalars and paths in results become plain JSON values."""
    if hasattr(value, "item"):
        return value.item()
    return str(value)
