"""The run list of the runs view: one row per run folder, its columns fitted to the width."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import events
from textual.widgets import DataTable

from vbot_agent.tui.data import RunInfo
from vbot_agent.tui.widgets.columns import Column, fit_columns

RUN_COLUMNS: tuple[Column, ...] = (("name", "run", 19), ("status", "status", 8), ("progress", "done", 4),
                                   ("success", "succ", 4), ("reward", "reward", 6), ("ckpts", "ckpt", 4))
RUN_DROP_ORDER = ("ckpts", "reward", "success", "progress")  # the detail pane shows each of these
NAME_MAX_WIDTH = 32  # longer run names are cut (the detail pane shows them in full)
STATUS_STYLE = {"running": "cyan", "finished": "green", "failed": "red"}


def _num(value: Any, fmt: str) -> str:
    return format(value, fmt) if isinstance(value, (int, float)) and not isinstance(value, bool) else "—"


def run_cells(run: RunInfo) -> dict[str, Any]:
    """The cells of one run, by column key."""
    return {"name": run.name.removesuffix("_PPO"),
            "status": Text(run.status, style=STATUS_STYLE.get(run.status, "yellow")),
            "progress": _num(run.fraction, ".0%"), "success": _num(run.progress.get("success_rate"), ".0%"),
            "reward": _num(run.progress.get("reward"), ".3g"), "ckpts": str(len(run.checkpoints))}


class RunsTable(DataTable):
    """Set the rows with :meth:`show` (keyed by the run folder); the cursor stays on its run."""

    DEFAULT_CSS = """
    RunsTable { overflow-x: hidden; scrollbar-gutter: stable; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._runs: list[RunInfo] = []
        self._layout: tuple = ()

    def show(self, runs: list[RunInfo]) -> None:
        self._runs = list(runs)
        self._rebuild()

    def on_mount(self) -> None:
        self._rebuild()

    def on_resize(self, event: events.Resize) -> None:
        if self._fit() != self._layout:
            self._rebuild()

    def _fit(self) -> tuple[Column, ...]:
        names = [len(run_cells(r)["name"]) for r in self._runs]
        name_width = min(NAME_MAX_WIDTH, max([RUN_COLUMNS[0][2], *names]))
        columns = [("name", "run", name_width), *RUN_COLUMNS[1:]]
        return tuple(fit_columns(columns, self.scrollable_content_region.width, RUN_DROP_ORDER)[0])

    def _rebuild(self) -> None:
        current = self._current_key()
        self._layout = self._fit()
        self.clear(columns=True)
        for key, label, width in self._layout:
            self.add_column(label, key=key, width=width)
        for run in self._runs:
            cells = run_cells(run)
            self.add_row(*(cells[key] for key, _, _ in self._layout), key=str(run.path))
        if current is not None and current in self.rows:
            self.move_cursor(row=self.get_row_index(current))

    def _current_key(self) -> str | None:
        if self.row_count == 0 or not self.is_valid_row_index(self.cursor_row):
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
