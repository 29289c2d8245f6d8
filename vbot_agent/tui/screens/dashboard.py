"""The dashboard: campaign status, trials table, plots, live runs, WAKE_UP.md preview."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Markdown, Static, TabbedContent, TabPane

from vbot_agent.tui.data import Snapshot
from vbot_agent.tui.widgets.bar_chart import BarChart
from vbot_agent.tui.widgets.campaign_status import CampaignStatus
from vbot_agent.tui.widgets.live_runs import LiveRuns
from vbot_agent.tui.widgets.trials_table import TrialsTable


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "—" if value is None else str(value)


def trial_detail(trial: dict[str, Any] | None) -> Group | Text:
    """Everything about one trial: state, score, metrics, params, reward scales, run, error."""
    if not trial:
        return Text("Select a trial in the table.", style="dim italic")
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row("trial", f"#{trial.get('number')} {trial.get('state')}  score {_fmt(trial.get('score'))}")
    for key in ("started_at", "finished_at", "run_dir", "checkpoint"):
        if trial.get(key):
            grid.add_row(key, str(trial[key]))
    parts: list[Any] = [grid]
    for section in ("metrics", "params", "reward_scales"):
        values = trial.get(section) or {}
        if values:
            table = Table(title=section, title_justify="left", show_header=False, box=None, padding=(0, 1))
            table.add_column(style="cyan", overflow="fold")  # a long key wraps; its value stays whole
            table.add_column(justify="right", no_wrap=True)
            for k, v in values.items():
                table.add_row(str(k), _fmt(v))
            parts.append(table)
    if trial.get("error"):
        parts.append(Text(f"error: {trial['error']}", style="red"))
    return Group(*parts)


class DashboardScreen(Screen):
    """Watches ``app.snapshot`` and shows it (attributes down)."""

    TABS = Binding.Group("tabs", compact=True)
    BINDINGS = [
        Binding("t", "focus_trials", "Trials", show=False, id="dashboard.trials"),
        Binding("p", "tab('plots')", "Plots", id="dashboard.plots", group=TABS),
        Binding("i", "tab('trial')", "Trial info", id="dashboard.trial", group=TABS),
        Binding("w", "tab('wake')", "WAKE_UP.md", id="dashboard.wake", group=TABS),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._wake_text: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield CampaignStatus(id="campaign-status")
        with Horizontal(id="dash-main"):
            with Vertical(id="dash-left"):
                yield TrialsTable(id="trials")
                yield LiveRuns(id="live-runs")
            with TabbedContent(id="dash-right", initial="plots"):
                with TabPane("Plots", id="plots"):
                    yield BarChart("score per trial", style="green", id="score-chart")
                    yield BarChart("best run reward", style="cyan", gaps=False, id="curve-chart")
                with TabPane("Trial", id="trial"), VerticalScroll():
                    yield Static(trial_detail(None), id="trial-detail")
                with TabPane("WAKE_UP", id="wake"), VerticalScroll(id="wake-scroll"):
                    yield Markdown("", id="wake-md")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.watch(self.app, "snapshot", self.show_snapshot)

    def show_snapshot(self, snap: Snapshot | None) -> None:
        self.query_one(CampaignStatus).snapshot = snap
        if snap is None:
            return
        trials = snap.trials
        self.query_one(TrialsTable).show(trials)
        plotted = [t for t in sorted(trials, key=lambda t: t.get("number") or 0) if t.get("state") != "running"]
        chart = self.query_one("#score-chart", BarChart)
        chart.values = tuple(t.get("score") if t.get("state") != "fail" else None for t in plotted)
        chart.x_labels = (f"#{plotted[0].get('number')}", f"#{plotted[-1].get('number')}") if plotted else ("", "")
        chart.note = "no campaign state" if snap.state is None else "no finished trials yet"
        curve = self.query_one("#curve-chart", BarChart)
        curve.values = snap.best_curve
        # the snapshot keeps the values only, so the x axis counts the logged points
        curve.x_labels = ("1", f"{len(snap.best_curve)} logged") if snap.best_curve else ("", "")
        curve.note = snap.best_curve_note
        self.query_one(LiveRuns).show([r for r in snap.runs if r.is_live(snap.read_at)])
        wake = snap.wake_up if snap.wake_up is not None else f"*{snap.wake_up_error or snap.workspace_error}*"
        if wake != self._wake_text:
            self._wake_text = wake
            self.query_one("#wake-md", Markdown).update(wake)

    def on_trials_table_trial_highlighted(self, event: TrialsTable.TrialHighlighted) -> None:
        self.query_one("#trial-detail", Static).update(trial_detail(event.trial))

    def on_data_table_row_selected(self, event) -> None:
        self.action_tab("trial")

    def action_focus_trials(self) -> None:
        self.query_one(TrialsTable).focus()

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
