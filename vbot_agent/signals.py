"""Graceful stop: SIGINT/SIGTERM ask a long job to stop at its next safe point instead of killing it.

The trainer finishes its iteration and saves ``last.pt``; a trial stops its trainer; a campaign or a
curriculum writes its state and exits 130. One class for all four, so they agree on what a second
Ctrl-C means and always restore the handlers they replaced.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class GracefulStop:
    """While entered (``with stop:``), SIGINT/SIGTERM set ``reason`` instead of raising.

    ``reason`` is ``<prefix><signal name>`` (e.g. ``SIGINT``), or whatever the owner set itself (a
    budget or a stall stops a trial the same way). With ``second_raises`` a second signal raises
    KeyboardInterrupt: the person pressing Ctrl-C twice gives up on the clean stop. Handlers are
    installed in the main thread only (Python allows no other) and restored on exit.
    """

    def __init__(self, *, second_raises: bool = False, prefix: str = "") -> None:
        self.reason: str | None = None
        self._second_raises, self._prefix = second_raises, prefix
        self._previous: dict[int, Any] = {}

    @property
    def requested(self) -> bool:
        return self.reason is not None

    def __enter__(self) -> GracefulStop:
        if threading.current_thread() is threading.main_thread():
            for sig in STOP_SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame: object) -> None:
        if self.reason is not None and self._second_raises:
            raise KeyboardInterrupt
        self.reason = self.reason or f"{self._prefix}{signal.Signals(signum).name}"
