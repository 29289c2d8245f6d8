"""Live training runs: one row each with a progress bar, env steps/s, reward and success rate."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Label, ProgressBar, Static

from vbot_agent.tui.data import RunInfo


def _num(value, fmt: str) -> str:
    return format(value, fmt) if isinstance(value, (int, float)) else "—"


def run_stats(run: RunInfo) -> Text:
    p = run.progress
    text = Text()
    text.append(f"{_num(p.get('env_steps_per_s'), ',.0f')} steps/s", style="bold")
    text.append(f"  it {p.get('iteration', '—')}  reward {_num(p.get('reward'), '.3g')}"
                f"  train success {_num(p.get('success_rate'), '.0%')}")
    return text


class LiveRunRow(Horizontal):
    """One live run; call :meth:`update_run` to refresh it in place."""

    def __init__(self, run: RunInfo) -> None:
        super().__init__(classes="live-run")
        self.run = run

    def compose(self) -> ComposeResult:
        yield Label(self.run.name.removesuffix("_PPO"), classes="live-run-name")
        yield ProgressBar(total=1.0, show_eta=False, classes="live-run-bar")
        yield Label(run_stats(self.run), classes="live-run-stats")

    def on_mount(self) -> None:
        self.update_run(self.run)

    def update_run(self, run: RunInfo) -> None:
        self.run = run
        bar = self.query_one(ProgressBar)
        fraction = run.fraction
        if fraction is None:
            bar.update(total=None)
        else:
            bar.update(total=1.0, progress=fraction)
        self.query_one(".live-run-stats", Label).update(run_stats(run))


class LiveRuns(VerticalScroll):
    """Set :meth:`show` with the live runs; rows are added, updated and removed in place."""

    def compose(self) -> ComposeResult:
        yield Static("No live runs.", classes="empty-note")

    def show(self, runs: list[RunInfo]) -> None:
        rows = {row.run.path: row for row in self.query(LiveRunRow)}
        wanted = {run.path for run in runs}
        for path, row in rows.items():
            if path not in wanted:
                row.remove()
        for run in runs:
            if run.path in rows:
                rows[run.path].update_run(run)
            else:
                self.mount(LiveRunRow(run))
        self.query_one(".empty-note").display = not runs
