"""Messages that widgets and screens post upward; the app handles them (messages up)."""

from __future__ import annotations

from typing import Any

from textual.message import Message


class RequestAction(Message):
    """Open the form of action ``name`` with ``prefill`` values (param name -> value)."""

    def __init__(self, name: str, prefill: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.name = name
        self.prefill = dict(prefill or {})


class RequestSkill(Message):
    """Show skill ``name`` in the skills browser."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
