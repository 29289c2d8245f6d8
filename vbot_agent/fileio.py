"""Crash-safe file writes and plain-type checks, shared by every layer.

A reader (the watcher, the TUI, ``yaml.safe_load`` in a test hammering the file) sees either the
old file or the new one, never a half-written one: we write a temporary file in the same folder,
fsync it, rename it over the target (atomic on POSIX) and fsync the folder so the rename survives
a power cut.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> None:
    """Replace ``path`` with what ``write(handle)`` writes into a binary file, atomically: a temp file
    in the same folder, fsync, rename over ``path``, fsync the folder. The one atomic writer; the
    helpers below and the trainer's checkpoints use it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) atomically."""
    atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))


def atomic_copy(source: str | os.PathLike, target: str | os.PathLike) -> None:
    """Copy ``source`` over ``target`` atomically (a reader of ``target`` never sees half a copy)."""
    with open(source, "rb") as src:
        atomic_write(target, lambda handle: shutil.copyfileobj(src, handle))


PLAIN_SCALARS = (str, int, float, bool, type(None))


def dump_yaml(data: Any) -> str:
    """YAML text of ``data`` after checking it holds plain types only (safe_load round-trips)."""
    import yaml

    return yaml.safe_dump(plain(data), sort_keys=False, allow_unicode=True, default_flow_style=False)


def atomic_write_yaml(path: str | os.PathLike, data: Any) -> None:
    atomic_write_text(path, dump_yaml(data))


def atomic_write_json(path: str | os.PathLike, data: Any) -> None:
    atomic_write_text(path, json.dumps(plain(data), indent=2) + "\n")


def plain(value: Any, where: str = "") -> Any:
    """Return ``value`` as plain YAML/JSON types: dict (str keys), list, str, int, float, bool, None.

    numpy scalars become Python numbers, tuples become lists, Paths become strings. NaN/inf floats
    become None (YAML and JSON readers disagree on them; a missing measurement is None). Anything
    else raises TypeError naming where it sits, so an unreadable state file is never written.
    """
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return str(value)  # a WordEnum member becomes its word
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): plain(v, f"{where}.{k}" if where else str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    item = getattr(value, "item", None)
    if callable(item):  # numpy scalar (and 0-d arrays)
        return plain(item(), where)
    raise TypeError(f"{where or 'value'}: {type(value).__name__} is not a plain YAML type")


def read_json(path: str | os.PathLike) -> Any:
    """Parsed JSON of ``path``; None when the file does not exist (yet)."""
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        return None
