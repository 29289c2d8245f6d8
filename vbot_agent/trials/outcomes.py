"""How one trial ended, as its process reports it and as its parent saw it."""

from __future__ import annotations

from vbot_agent.enums import WordEnum


class TrialOutcome(WordEnum):
    """``status`` in a trial's ``result.json``."""

    COMPLETE = "complete"  # trained and scored
    BUDGET = "budget"  # the campaign's budget ran out; scored on the episodes it had
    STOPPED = "stopped"  # by a signal
    FAIL = "fail"  # crashed, stalled or unscorable; ``error`` says which


class StopCause(WordEnum):
    """Why the parent stopped a trial process (``TrialProcessOutcome.stopped_by``)."""

    PRUNED = "pruned"  # the pruner said so after an intermediate score
    INTERRUPTED = "interrupted"  # the parent got a signal
