"""Progress display for ``vbot train``: a rich bar on a terminal, plain periodic lines otherwise."""

from __future__ import annotations

import time
from collections.abc import Callable

from vbot_agent import tensorboard_tags as tags
from vbot_agent.rl.runner import IterationStats


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def steps_text(env_steps: int, max_env_steps: int, steps_per_iteration: int) -> str:
    """``73,728/200,000 (37%)`` while training; once the target is reached, what happened instead of
    a count past the total: iterations are whole, so the last one usually ends past the target."""
    if env_steps < max_env_steps:
        return f"{env_steps:,}/{max_env_steps:,} ({100.0 * env_steps / max_env_steps:.0f}%)"
    over = env_steps - max_env_steps
    if over == 0:
        return f"{env_steps:,} (done)"
    return (f"{env_steps:,} (done: target {max_env_steps:,} reached; the last iteration of "
            f"{steps_per_iteration:,} steps ran {over:,} past it)")


class PlainProgress:
    """One line every ``interval_s`` seconds (and on the last iteration) through ``say``."""

    def __init__(self, say: Callable[[str], None], max_env_steps: int, interval_s: float,
                 steps_per_iteration: int) -> None:
        self.say, self.max_env_steps, self.interval_s = say, max_env_steps, interval_s
        self.steps_per_iteration = steps_per_iteration
        self._last = -float("inf")
        self._reward: float | None = None
        self._success: float | None = None

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc) -> None:
        pass

    def __call__(self, stats: IterationStats) -> None:
        self._reward = stats.scalars.get(tags.EPISODE_RETURN, self._reward)
        self._success = stats.scalars.get(tags.SUCCESS_RATE, self._success)
        now = time.monotonic()
        if now - self._last < self.interval_s and stats.env_steps < self.max_env_steps:
            return
        self._last = now
        self.say(
            f"iter {stats.iteration}  steps {steps_text(stats.env_steps, self.max_env_steps, self.steps_per_iteration)}  "
            f"{stats.env_steps_per_s:,.0f} steps/s  return {_fmt(self._reward, '.2f')}  "
            f"success {_fmt(self._success, '.0%')}"
        )


class RichProgress:
    """A rich progress bar: steps, steps/s, ETA, episode return and success rate."""

    def __init__(self, max_env_steps: int, start_steps: int = 0) -> None:
        self.max_env_steps = max_env_steps
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(), TextColumn("{task.fields[summary]}"),
        )
        self.task = self.progress.add_task("train", total=max_env_steps, completed=start_steps,
                                           rate="", summary="")
        self._reward: float | None = None
        self._success: float | None = None

    def __enter__(self) -> RichProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def __call__(self, stats: IterationStats) -> None:
        self._reward = stats.scalars.get(tags.EPISODE_RETURN, self._reward)
        self._success = stats.scalars.get(tags.SUCCESS_RATE, self._success)
        done = stats.env_steps >= self.max_env_steps
        self.progress.update(
            # The bar stops at the target; the steps the last whole iteration ran past it are named.
            self.task, completed=min(stats.env_steps, self.max_env_steps), rate=f"{stats.env_steps_per_s:,.0f} steps/s",
            summary=(f"done, {stats.env_steps:,} steps  " if done else "")
            + f"return {_fmt(self._reward, '.2f')}  success {_fmt(self._success, '.0%')}",
        )
