"""Is the search telling trials apart? Tied scores and scores at their floor, with what to change.

A campaign whose trials all score the same teaches the sampler nothing and picks its "best" by tie.
On section001 that happens whenever trials are shorter than the env steps a policy needs before it
first reaches the target: every trial then scores ``-w_time`` (no success, no points, the full
episode as time to target). Every reader (``vbot status``, WAKE_UP.md, ``vbot analyze``, the TUI) calls
``state_warnings`` on the state's trial records, so they all print the same sentences, and a state
written by an older version never shows sentences today's rule would not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from vbot_agent.workspace.state import TrialState

TIE_TOLERANCE = 1e-6  # scores closer than this are the same evaluation outcome
MIN_TRIALS = 2  # a tie needs at least two complete trials


def state_warnings(state: Mapping[str, Any]) -> list[str]:
    """``search_warnings`` of a campaign state's trial records and settings."""
    return search_warnings(state.get("trials") or [], state.get("settings") or {})


def search_warnings(trials: Sequence[Mapping[str, Any]], settings: Mapping[str, Any]) -> list[str]:
    """Plain sentences about the complete trials' scores; empty when the search can tell trials apart.

    ``trials`` are state trial records (``state``, ``score``, ``metrics``); ``settings`` the state's
    settings (for the trial length and the env).
    """
    scored = [t for t in trials if t.get("state") == TrialState.COMPLETE and isinstance(t.get("score"), (int, float))]
    if len(scored) < MIN_TRIALS:
        return []
    steps = settings.get("trial_steps")
    length = f"{steps:,} env steps" if isinstance(steps, int) else "their length"
    fix = (f"trials of {length} are too short for this env to succeed: give longer trials "
           f"(--trial-steps, at least min_trial_steps {settings.get('min_trial_steps', 4_000_000):,}) or a larger "
           "--budget-hours and let the plan choose")
    out = []
    successes = [(t.get("metrics") or {}).get("success_rate") for t in scored]
    if all(isinstance(s, (int, float)) and s == 0 for s in successes):
        out.append(f"score floor: none of the {len(scored)} complete trials reached the target in its evaluation "
                   f"episodes, so scores only measure falls and time; {fix}")
    spread = max(t["score"] for t in scored) - min(t["score"] for t in scored)
    if spread <= TIE_TOLERANCE:
        out.append(f"tied scores: all {len(scored)} complete trials scored {scored[0]['score']:.4g}, so the sampler "
                   "learns nothing and the best trial is picked by tie"
                   + ("" if out else "; more evaluation episodes (evaluation.final_episodes) or longer trials "
                      "separate them"))
    return out
