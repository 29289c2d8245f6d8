"""What an action function receives besides its parameters."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TextIO


@dataclass
class Context:
    """Where output goes and which workspace the action works in.

    ``json``: the caller wants one JSON object on stdout, so progress and prose go to stderr.
    ``workspace_override``: ``--workspace`` / ``VBOT_WORKSPACE``; otherwise found upward from the cwd.
    """

    json: bool = False
    workspace_override: str | None = None
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    cwd: Path = field(default_factory=Path.cwd)

    @property
    def interactive(self) -> bool:
        """True when a person watches a terminal (progress bars are welcome)."""
        return not self.json and hasattr(self.stdout, "isatty") and self.stdout.isatty()

    def say(self, text: str) -> None:
        """Human-readable progress: stdout normally, stderr in --json mode (stdout stays clean)."""
        stream = self.stderr if self.json else self.stdout
        print(text, file=stream, flush=True)

    def quiet(self) -> Context:
        """A copy for calling another action whose output nobody reads (JSON mode, output discarded)."""
        import io

        return replace(self, json=True, stdout=io.StringIO(), stderr=io.StringIO())

    def workspace(self, *, create: bool = False) -> Path:
        """The workspace root (the folder holding ``starter_kit_schedule/``).

        Raises UsageError when none is found and ``create`` is false.
        """
        from vbot_agent.workspace import find_workspace

        return find_workspace(self.workspace_override, cwd=self.cwd, create=create)
