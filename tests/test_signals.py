"""GracefulStop: a signal becomes a reason; a second one gives up when asked; handlers come back."""

import os
import signal

import pytest

from vbot_agent.signals import GracefulStop


def test_signal_sets_the_reason_and_handlers_are_restored():
    before = signal.getsignal(signal.SIGTERM)
    with GracefulStop(prefix="signal ") as stop:
        assert not stop.requested
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)  # the first reason is kept
        assert stop.requested and stop.reason == "signal SIGTERM"
    assert signal.getsignal(signal.SIGTERM) is before


def test_second_signal_raises_only_when_asked():
    with GracefulStop(second_raises=True) as stop:
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.reason == "SIGINT"
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    with GracefulStop() as patient:
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)
        assert patient.reason == "SIGINT"


def test_a_reason_set_by_the_owner_stops_too():
    stop = GracefulStop()
    stop.reason = "budget exhausted"
    assert stop.requested
