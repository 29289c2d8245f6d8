"""Typed, frozen configuration: parsed once at the edge, never mutated, unknown keys refused.

Every layer owns a frozen dataclass (``NavConfig`` in sim, ``PPOConfig`` in rl...). This module
turns plain mappings (YAML) into those dataclasses and back, and applies ``--set a.b.c=value``
overrides, always naming the valid keys when one is wrong.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from vbot_agent.errors import UsageError, suggest

T = TypeVar("T")


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping with the safe loader; UsageError for a missing, malformed or non-mapping file."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise UsageError(f"{path}: file not found") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UsageError(f"{path}:{where} malformed YAML: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a mapping of keys at the top, got {type(data).__name__}")
    return data


def from_mapping(cls: type[T], data: Mapping[str, Any] | None, *, where: str = "") -> T:
    """Build dataclass ``cls`` from ``data``; nested dataclasses recurse; missing keys keep defaults.

    Raises UsageError for unknown keys (naming the valid ones) and for values of the wrong type.
    """
    if data is None:
        data = {}
    if isinstance(data, cls):
        return data
    if not isinstance(data, Mapping):
        raise UsageError(f"{where or cls.__name__}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key not in fields:
            raise UsageError(
                f"unknown key {_join(where, str(key))!r}{suggest(str(key), list(fields))}; "
                f"valid keys{' under ' + where if where else ''}: {', '.join(fields)}"
            )
        kwargs[key] = _convert(hints[key], value, _join(where, key))
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{where or cls.__name__}: {exc}") from None


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _convert(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return from_mapping(hint, value, where=where)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        non_none = [a for a in args if a is not type(None)]
        errors = []
        for option in non_none:
            try:
                return _convert(option, value, where)
            except UsageError as exc:
                errors.append(str(exc))
        raise UsageError(errors[0])
    if origin is typing.Literal:
        if value not in args:
            raise UsageError(f"{where}: {value!r} is not one of {', '.join(map(repr, args))}")
        return value
    if origin in (tuple, list, Sequence):
        if not isinstance(value, (list, tuple)):
            raise UsageError(f"{where}: expected a list, got {value!r}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                raise UsageError(f"{where}: expected {len(args)} items, got {len(value)}")
            return tuple(_convert(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, value)))
        inner = args[0] if args else Any
        return tuple(_convert(inner, v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise UsageError(f"{where}: expected a mapping, got {value!r}")
        key_t, val_t = args if args else (Any, Any)
        return {_convert(key_t, k, where): _convert(val_t, v, f"{where}.{k}") for k, v in value.items()}
    if hint is Any:
        return value
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise UsageError(f"{where}: expected true/false, got {value!r}")
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or float(value) != int(value):
            raise UsageError(f"{where}: expected an integer, got {value!r}")
        return int(value)
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise UsageError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise UsageError(f"{where}: expected a string, got {value!r}")
        return value
    return value


def flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"policy": {"max_noise_std": 1.0}} -> {"policy.max_noise_std": 1.0}: the dotted keys of `--set`."""
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, dotted + "."))
        else:
            out[dotted] = value
    return out


def to_dict(obj: Any) -> Any:
    """Plain YAML/JSON types (dict, list, str, int, float, bool, None) from a dataclass tree."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): to_dict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalar
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    return obj


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"ppo.learning_rate=3e-4"`` -> (["ppo", "learning_rate"], 0.0003). Values are YAML-typed."""
    import yaml

    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise UsageError(f"--set {text!r}: expected key=value, e.g. ppo.learning_rate=3e-4")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    if isinstance(value, str):
        value = _number_or_text(value)
    return key.split("."), value


def _number_or_text(text: str) -> Any:
    """YAML 1.1 reads ``3e-4`` as text; people mean a number."""
    try:
        return float(text)
    except ValueError:
        return text


def apply_overrides(cls: type[T], base: T | Mapping[str, Any], overrides: Sequence[str]) -> T:
    """Return a new ``cls`` = ``base`` with each ``key=value`` applied (dotted keys, typed).

    Unknown keys raise UsageError naming the valid ones at the level where the path went wrong.
    """
    data = to_dict(base) if dataclasses.is_dataclass(base) else dict(base)
    for text in overrides:
        path, value = parse_override(text)
        node: Any = data
        node_cls: Any = cls
        for depth, part in enumerate(path):
            prefix = ".".join(path[:depth])
            last = depth == len(path) - 1
            if dataclasses.is_dataclass(node_cls):
                names = [f.name for f in dataclasses.fields(node_cls)]
                if part not in names:
                    raise UsageError(
                        f"--set {'.'.join(path)}: unknown key {part!r}{suggest(part, names)}; "
                        f"valid keys{' under ' + prefix if prefix else ''}: {', '.join(names)}"
                    )
                hint = typing.get_type_hints(node_cls)[part]
            else:  # a free-form mapping such as reward scales; its owner validates the keys
                hint = typing.get_args(node_cls)[1] if typing.get_args(node_cls) else Any
            if last:
                node[part] = value
            else:
                if not isinstance(node.get(part), dict):
                    node[part] = {}
                node = node[part]
                node_cls = _unwrap_optional(hint)
    return from_mapping(cls, data)


def _unwrap_optional(hint: Any) -> Any:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        non_none = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(non_none) == 1:
            return non_none[0]
    return hint
