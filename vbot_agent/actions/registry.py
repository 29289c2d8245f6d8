"""The action registry: the one place an operation is defined.

An :class:`Action` is a name (``"train"``, ``"bench env"``), a one-line summary, typed
:class:`Param` s and the dotted path of the function that runs it. The CLI, the TUI forms, the
skills linter and ``vbot ask`` all read this registry; none of them defines a parameter of its own.

Functions are named by string and imported only when the action runs, so listing actions (and
``vbot --help``) never imports torch or mujoco.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vbot_agent.errors import UsageError, suggest

PARAM_TYPES = ("str", "int", "float", "bool", "path", "count")  # count: a whole number >= 1, or "auto"


@dataclass(frozen=True)
class Param:
    """One typed parameter of an action.

    ``type`` is one of PARAM_TYPES. ``repeat`` makes it a list (``--set a=1 --set b=2``).
    ``const`` is the value a bare ``--flag`` takes when the flag accepts an optional value
    (``--resume`` alone means ``--resume latest``). ``positional`` params are given without a flag.
    ``inside_workspace`` paths are refused when they resolve outside the workspace (skills and
    ``vbot ask --run`` pass only such paths).
    """

    name: str
    type: str = "str"
    default: Any = None
    help: str = ""
    choices: tuple[Any, ...] | None = None
    min: float | None = None
    max: float | None = None
    required: bool = False
    positional: bool = False
    repeat: bool = False
    const: Any = None
    flag: str | None = None
    inside_workspace: bool = False

    def __post_init__(self) -> None:
        if self.type not in PARAM_TYPES:
            raise ValueError(f"param {self.name}: type {self.type!r} not in {PARAM_TYPES}")

    @property
    def option(self) -> str:
        """The CLI spelling: ``--num-envs`` for ``num_envs``."""
        return self.flag or "--" + self.name.replace("_", "-")

    def coerce(self, value: Any) -> Any:
        """Convert ``value`` (a CLI string or a Python value) to this type and check it.

        Raises UsageError with a message naming the parameter on any problem.
        """
        if self.repeat:
            if value is None:
                return []
            items = value if isinstance(value, (list, tuple)) else [value]
            return [self._coerce_one(v) for v in items]
        if value is None:
            if self.required:
                raise UsageError(f"{self.option} is required")
            return None
        return self._coerce_one(value)

    def _coerce_one(self, value: Any) -> Any:
        label = self.option if not self.positional else self.name.upper()
        try:
            if self.type == "int":
                if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                    raise ValueError
                out: Any = int(float(value)) if isinstance(value, str) and "e" in value.lower() else int(value)
            elif self.type == "float":
                if isinstance(value, bool):
                    raise ValueError
                out = float(value)
            elif self.type == "bool":
                out = _parse_bool(value)
            elif self.type == "count":  # a whole number >= 1, or "auto" (planned by the action)
                if value == "auto":
                    return value
                number = float("nan") if isinstance(value, bool) else float(value)
                if not number.is_integer() or number < 1:
                    raise ValueError
                out = int(number)
            elif self.type == "path":
                if not isinstance(value, (str, Path)) or str(value) == "":
                    raise ValueError
                out = str(value)
            else:
                if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                    raise ValueError
                out = str(value)
        except (TypeError, ValueError):
            expected = "a whole number >= 1 or auto" if self.type == "count" else self.type
            raise UsageError(f"{label}: expected {expected}, got {value!r}") from None
        if self.choices is not None and out not in self.choices:
            raise UsageError(
                f"{label}: {out!r} is not one of {', '.join(map(str, self.choices))}"
                + (suggest(str(out), [str(c) for c in self.choices]) if isinstance(out, str) else "")
            )
        if self.min is not None and out < self.min:
            raise UsageError(f"{label}: {out} is below the minimum {self.min}")
        if self.max is not None and out > self.max:
            raise UsageError(f"{label}: {out} is above the maximum {self.max}")
        return out

    def schema(self) -> dict[str, Any]:
        """A JSON-serialisable description (for the TUI forms, skills lint and ``--json`` help)."""
        return {
            "name": self.name,
            "option": self.option,
            "type": self.type,
            "default": self.default,
            "help": self.help,
            "choices": list(self.choices) if self.choices is not None else None,
            "min": self.min,
            "max": self.max,
            "required": self.required,
            "positional": self.positional,
            "repeat": self.repeat,
            "inside_workspace": self.inside_workspace,
        }


def _parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(value)


@dataclass(frozen=True)
class Action:
    """A named operation: summary, parameters, and the ``"module:function"`` that runs it.

    The function is called as ``fn(ctx, **params)`` and returns a JSON-serialisable dict.
    ``render`` (optional ``"module:function"``) turns that dict into text for a terminal;
    without it the CLI prints the dict as YAML-ish key: value lines.
    ``long_running`` marks actions the TUI runs as a subprocess with a live log.
    """

    name: str
    summary: str
    func: str
    params: tuple[Param, ...] = ()
    render: str | None = None
    long_running: bool = False
    group: str = "general"
    epilog: str = ""

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise UsageError(
            f"action {self.name!r} has no parameter {name!r}"
            + suggest(name, [p.name for p in self.params])
            + f"; valid: {', '.join(p.name for p in self.params) or 'none'}"
        )

    def validate(self, values: Mapping[str, Any], *, fill_defaults: bool = True) -> dict[str, Any]:
        """Check and coerce ``values`` (names as in ``Param.name``); unknown names are errors.

        Returns a new dict with every parameter present (defaults filled in unless
        ``fill_defaults`` is false).
        """
        out: dict[str, Any] = {}
        for key in values:
            self.param(key)  # raises on unknown names
        for p in self.params:
            if p.name in values:
                out[p.name] = p.coerce(values[p.name])
            elif fill_defaults:
                out[p.name] = p.coerce(p.default) if p.default is not None or p.required else p.default
                if p.repeat and out[p.name] is None:
                    out[p.name] = []
        return out

    def load(self) -> Callable[..., dict[str, Any]]:
        return _import(self.func)

    def run(self, ctx, params: Mapping[str, Any]) -> dict[str, Any]:
        """Call the function with checked ``params``; ``ctx.command`` becomes the `vbot` argv that does
        the same, so a run can record how to make it again however it was started."""
        ctx.command = self.command_line(params)
        return self.load()(ctx, **params)

    def load_render(self) -> Callable[[dict[str, Any]], str] | None:
        return _import(self.render) if self.render else None

    def schema(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "summary": self.summary,
            "group": self.group,
            "long_running": self.long_running,
            "params": [p.schema() for p in self.params],
        }

    def command_line(self, values: Mapping[str, Any]) -> list[str]:
        """The ``vbot`` argv that runs this action with ``values`` (used by the TUI and WAKE_UP.md)."""
        argv = ["vbot", *self.name.split()]
        for p in self.params:
            if p.name not in values:
                continue
            value = values[p.name]
            if value is None or (value == p.default and not p.positional):
                continue
            if p.positional:
                argv.append(str(value))
            elif p.type == "bool":
                if value:
                    argv.append(p.option)
            elif p.repeat:
                for item in value:
                    argv += [p.option, str(item)]
            else:
                argv += [p.option, str(value)]
        return argv


def _import(dotted: str) -> Callable[..., Any]:
    module_name, _, attr = dotted.partition(":")
    return getattr(importlib.import_module(module_name), attr)


@dataclass
class Registry:
    """Every action by name. ``get`` raises UsageError with suggestions on unknown names."""

    actions: dict[str, Action] = field(default_factory=dict)

    def add(self, action: Action) -> Action:
        if action.name in self.actions:
            raise ValueError(f"action {action.name!r} registered twice")
        names = [p.name for p in action.params]
        if len(set(names)) != len(names):
            raise ValueError(f"action {action.name!r} has duplicate parameter names")
        self.actions[action.name] = action
        return action

    def get(self, name: str) -> Action:
        try:
            return self.actions[name]
        except KeyError:
            raise UsageError(
                f"unknown action {name!r}" + suggest(name, list(self.actions)) + "; run `vbot --help` for the list"
            ) from None

    def names(self) -> list[str]:
        return sorted(self.actions)

    def __iter__(self):
        return iter(self.actions[n] for n in self.names())

    def __contains__(self, name: str) -> bool:
        return name in self.actions

    def longest_prefix(self, tokens: Sequence[str]) -> tuple[Action | None, int]:
        """The action named by the leading words of ``tokens`` (``automl worker --storage X``).

        Only the words before the first flag count. Returns (action or None, words used).
        """
        words: list[str] = []
        for token in tokens:
            if token.startswith("-"):
                break
            words.append(token)
        for n in range(min(3, len(words)), 0, -1):
            name = " ".join(words[:n])
            if name in self.actions:
                return self.actions[name], n
        return None, 0
