"""Runs and checkpoints: every run folder with its key metrics, its reward-term breakdown (from
TensorBoard, read in a worker), diagnosis and evaluation of a checkpoint through the actions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Header, OptionList, Static

from vbot_agent.actions.registry import Action
from vbot_agent.tui.data import (
    REWARD_TAG,
    SUCCESS_TAG,
    TERM_PREFIX,
    RunInfo,
    Snapshot,
    format_age,
    parse_time,
    read_meta,
    reward_terms,
)
from vbot_agent.tui.messages import RequestAction
from vbot_agent.tui.widgets.runs_table import RunsTable

EVAL_ACTION = "play"
DIAGNOSE_ACTION = "diagnose-reward"
RUN_PARAM_NAMES = ("run", "run_dir", "path", "policy", "checkpoint")
TERM_BAR_WIDTH = 16  # cells of the largest reward term's bar


def _num(value: Any, fmt: str) -> str:
    return format(value, fmt) if isinstance(value, (int, float)) and not isinstance(value, bool) else "—"


def run_param(action: Action) -> str | None:
    """The parameter of ``action`` that names a run folder (by name, else its first positional)."""
    names = [p.name for p in action.params]
    for name in RUN_PARAM_NAMES:
        if name in names:
            return name
    positional = [p.name for p in action.params if p.positional]
    return positional[0] if positional else None


def terms_table(terms: dict[str, float], width: int = 0) -> Table | Text:
    """Reward terms (last logged mean per step) as signed bars, largest magnitude first; the bars
    fit in ``width`` cells (0: no limit) and are at most ``TERM_BAR_WIDTH`` long."""
    if not terms:
        return Text("No `Reward Instant / <term>` tags in this run's TensorBoard logs.", style="dim italic")
    biggest = max(abs(v) for v in terms.values()) or 1.0
    labels = max(len(t) for t in terms) + max(len(f"{v:+.3g}") for v in terms.values()) + 8  # cells, padding, scrollbar
    bar_width = TERM_BAR_WIDTH if width <= 0 else max(4, min(TERM_BAR_WIDTH, width - labels))
    table = Table(title="reward terms (last mean)", title_justify="left", box=None, padding=(0, 1),
                  show_header=False)
    table.add_column(style="cyan", no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    table.add_column(no_wrap=True)
    for term, value in sorted(terms.items(), key=lambda kv: -abs(kv[1])):
        if value == 0:  # a term that contributes nothing draws no bar
            table.add_row(Text(term, style="dim"), Text("0", style="dim"), "")
            continue
        width = max(1, round(abs(value) / biggest * bar_width))  # the smallest non-zero term still shows
        table.add_row(term, f"{value:+.3g}", Text("█" * width, style="green" if value > 0 else "red"))
    return table


def run_summary(run: RunInfo, meta: dict[str, Any] | None, meta_error: str | None, now: float) -> Group:
    p = run.progress
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row("run", run.name)
    grid.add_row("env", str(p.get("env_id") or run.env_folder))
    try:
        updated = parse_time(p.get("updated_at"))
    except ValueError:
        updated = None
    grid.add_row("status", f"{run.status}  updated {format_age(None if updated is None else now - updated)} ago")
    steps, total = p.get("env_steps"), p.get("max_env_steps")
    grid.add_row("steps", f"{_num(steps, ',')} / {_num(total, ',')}  ({_num(run.fraction, '.0%')})"
                          f"  {_num(p.get('env_steps_per_s'), ',.0f')} steps/s")
    grid.add_row("training", f"reward {_num(p.get('reward'), '.4g')}  success {_num(p.get('success_rate'), '.1%')}"
                            f"  distance {_num(p.get('distance_to_target'), '.2f')} m")
    if run.error:
        grid.add_row("problem", Text(run.error, style="red"))
    if meta:
        grid.add_row("seed", str(meta.get("seed")))
        cmd = meta.get("command")
        if cmd:
            grid.add_row("command", " ".join(map(str, cmd)) if isinstance(cmd, list) else str(cmd))
    elif meta_error:
        grid.add_row("meta", Text(meta_error, style="dim"))
    return Group(grid)


class RunsScreen(Screen):
    """Watches ``app.snapshot`` for the run list; loads one run's TensorBoard terms on demand."""

    PANES = Binding.Group("panes", compact=True)
    BINDINGS = [
        Binding("v", "evaluate", "Evaluate", tooltip="evaluate the selected checkpoint", id="runs.evaluate"),
        Binding("g", "diagnose", "Diagnose", id="runs.diagnose"),
        Binding("k", "focus_checkpoints", "Checkpoints", id="runs.checkpoints", group=PANES),
        Binding("n", "focus_runs", "Run list", id="runs.list", group=PANES),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.runs: dict[str, RunInfo] = {}
        self.selected: RunInfo | None = None
        self._signature: tuple = ()

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="runs-main"):
            yield RunsTable(id="runs-table")
            with Vertical(id="runs-right"):
                with VerticalScroll(id="run-detail-scroll"):
                    yield Static("Select a run.", id="run-detail")
                    yield Static("", id="run-terms")
                yield OptionList(id="run-checkpoints")
                with Horizontal(id="run-buttons"):
                    yield Button("Evaluate (v)", id="run-evaluate", compact=True)
                    yield Button("Diagnose (g)", id="run-diagnose", compact=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        from vbot_agent.actions import REGISTRY

        self.query_one("#run-evaluate", Button).disabled = EVAL_ACTION not in REGISTRY
        diagnose = self.query_one("#run-diagnose", Button)
        diagnose.disabled = DIAGNOSE_ACTION not in REGISTRY
        if diagnose.disabled:
            diagnose.tooltip = f"the `{DIAGNOSE_ACTION}` action is not installed"
        self.watch(self.app, "snapshot", self.show_snapshot)

    def show_snapshot(self, snap: Snapshot | None) -> None:
        if snap is None:
            return
        if snap.workspace is None:
            self.query_one("#run-detail", Static).update(Text(snap.workspace_error or "", style="red"))
            return
        signature = tuple((r.path, r.status, r.progress.get("env_steps"), r.checkpoints) for r in snap.runs)
        self.runs = {str(r.path): r for r in snap.runs}
        if signature != self._signature:
            self._signature = signature
            self.query_one(RunsTable).show(snap.runs)
        if not snap.runs:
            self.query_one("#run-detail", Static).update(
                Text(f"No runs under {snap.workspace / 'runs'} yet: start one with `vbot train` (press a).",
                     style="dim"))
        elif self.selected is not None and str(self.selected.path) in self.runs:
            self.selected = self.runs[str(self.selected.path)]
            self._show_summary()

    @on(DataTable.RowHighlighted, "#runs-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        run = self.runs.get(event.row_key.value) if event.row_key is not None else None
        if run is None or (self.selected is not None and run.path == self.selected.path):
            return
        self.selected = run
        self._show_summary()
        checkpoints = self.query_one("#run-checkpoints", OptionList)
        checkpoints.clear_options()
        checkpoints.add_options(run.checkpoints or ["(no checkpoints)"])
        checkpoints.highlighted = 0
        self.query_one("#run-terms", Static).update(Text("reading TensorBoard logs…", style="dim italic"))
        self.load_terms(run.path, self.query_one("#run-terms", Static).content_size.width)

    def _show_summary(self) -> None:
        run = self.selected
        if run is None:
            return
        try:
            meta, meta_error = read_meta(run.path), None
        except FileNotFoundError:
            meta, meta_error = None, "no experiment_meta.json"
        except (ValueError, OSError) as exc:
            meta, meta_error = None, str(exc)
        self.query_one("#run-detail", Static).update(run_summary(run, meta, meta_error, self.app.clock()))

    @work(thread=True, exclusive=True, group="run-terms")
    def load_terms(self, run_dir: Path, width: int) -> None:
        try:
            scalars = self.app.reader.tb.scalars(run_dir, (TERM_PREFIX, REWARD_TAG, SUCCESS_TAG))
            renderable: Any = terms_table(reward_terms(scalars), width)
        except Exception as exc:  # tensorboard raises many types on broken files; show them
            renderable = Text(f"cannot read TensorBoard logs: {type(exc).__name__}: {exc}", style="red")
        self.app.call_from_thread(self._show_terms, run_dir, renderable)

    def _show_terms(self, run_dir: Path, renderable: Any) -> None:
        if self.selected is not None and self.selected.path == run_dir:
            self.query_one("#run-terms", Static).update(renderable)

    def selected_checkpoint(self) -> Path | None:
        if self.selected is None or not self.selected.checkpoints:
            return None
        options = self.query_one("#run-checkpoints", OptionList)
        names = self.selected.checkpoints
        index = options.highlighted
        if index is None or index >= len(names):
            index = names.index("best.pt") if "best.pt" in names else 0
        return self.selected.path / "checkpoints" / names[index]

    @on(Button.Pressed, "#run-evaluate")
    def action_evaluate(self) -> None:
        from vbot_agent.actions import REGISTRY

        ckpt = self.selected_checkpoint()
        if EVAL_ACTION not in REGISTRY:
            self.notify(f"the `{EVAL_ACTION}` action is not installed", severity="warning")
        elif ckpt is None:
            self.notify("Select a run with a checkpoint first.", severity="warning")
        else:
            values: dict[str, Any] = {"policy": str(ckpt)}
            env_id = self.selected.progress.get("env_id") if self.selected else None
            if env_id and "env" in [p.name for p in REGISTRY.get(EVAL_ACTION).params]:
                values["env"] = env_id
            self.post_message(RequestAction(EVAL_ACTION, values))

    @on(Button.Pressed, "#run-diagnose")
    def action_diagnose(self) -> None:
        from vbot_agent.actions import REGISTRY

        if DIAGNOSE_ACTION not in REGISTRY:
            self.notify(f"the `{DIAGNOSE_ACTION}` action is not installed yet", severity="warning")
            return
        if self.selected is None:
            self.notify("Select a run first.", severity="warning")
            return
        param = run_param(REGISTRY.get(DIAGNOSE_ACTION))
        self.post_message(RequestAction(DIAGNOSE_ACTION, {param: str(self.selected.path)} if param else {}))

    def action_focus_checkpoints(self) -> None:
        self.query_one("#run-checkpoints").focus()

    def action_focus_runs(self) -> None:
        self.query_one("#runs-table").focus()
