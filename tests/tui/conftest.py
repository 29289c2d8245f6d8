"""Fixtures for the TUI tests: a frozen-time fixture workspace and helpers to drive the app."""

from __future__ import annotations

import asyncio
import functools
import time
from pathlib import Path

import pytest

from tests.tui.workspace_fixture import frozen_clock, make_workspace


def async_test(fn):
    """Run an ``async def`` test with asyncio.run (no pytest plugin needed)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return asyncio.run(fn(*args, **kwargs))

    return wrapper


@pytest.fixture
def workspace(tmp_path) -> Path:
    return make_workspace(tmp_path / "ws")


@pytest.fixture
def make_app(workspace):
    """``make_app(workspace=None, **kwargs)`` -> a VbotApp on the fixture workspace, frozen clock, no timer."""
    from vbot_agent.tui.app import VbotApp

    def factory(path: Path | str | None = None, **kwargs):
        kwargs.setdefault("refresh_s", 0)
        kwargs.setdefault("clock", frozen_clock)
        return VbotApp(str(path or workspace), **kwargs)

    return factory


async def settle(pilot, app) -> None:
    """Wait until the background readers have finished and the screen has caught up."""
    for _ in range(2):  # a worker's result may mount widgets that start another worker
        await app.workers.wait_for_complete()
        await pilot.pause()


async def wait_for(pilot, predicate, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)
        await pilot.pause()


def screen_text(app) -> str:
    """Everything visible on the current screen as plain text, one line per row."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())
