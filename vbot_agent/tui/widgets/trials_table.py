"""The trials table: one row per trial, sortable by any column, updated in place as trials land."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist

from vbot_agent.tui.data import trial_row

COLUMNS = (  # (key, label)
    ("number", "#"), ("state", "state"), ("score", "score"), ("success_rate", "success"),
    ("fall_rate", "fall"), ("competition_points", "points"), ("time_to_target_s", "t→goal s"),
    ("params", "params"),
)
STATE_STYLE = {"complete": "green", "pruned": "yellow", "fail": "red", "running": "cyan", "waiting": "dim"}


def _cell(key: str, value: Any) -> Text:
    if value is None:
        return Text("—", style="dim", justify="right")
    if key == "state":
        return Text(str(value), style=STATE_STYLE.get(str(value), ""))
    if key == "params":
        return Text(" ".join(f"{k}={_short(v)}" for k, v in value.items()), style="dim", no_wrap=True)
    if isinstance(value, float):
        return Text(f"{value:.4g}", justify="right")
    return Text(str(value), justify="right")


def _short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def sort_key(value: Any, reverse: bool = False) -> tuple:
    """Numbers sort numerically, text as text, and missing values ("—") last in either order."""
    if isinstance(value, Text):
        value = value.plain
    if value in ("—", None, ""):
        return (-1 if reverse else 1, 0.0, "")
    try:
        return (0, float(value), "")
    except (TypeError, ValueError):
        return (0, 0.0, str(value))


class TrialsTable(DataTable):
    """Set rows with :meth:`show`; ``o`` cycles the sort column, ``O`` flips the order."""

    BINDINGS = [
        Binding("o", "cycle_sort", "Sort", id="trials.sort"),
        Binding("O", "reverse_sort", "Reverse", show=False, id="trials.reverse"),
    ]

    class TrialHighlighted(Message):
        def __init__(self, trial: dict[str, Any] | None) -> None:
            super().__init__()
            self.trial = trial

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.sort_column = "number"
        self.sort_reverse = False
        self._trials: dict[str, dict[str, Any]] = {}
        self._signature: tuple = ()

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    def show(self, trials: list[dict[str, Any]]) -> None:
        """Replace the rows with ``trials`` (keeps the cursor on the same trial; no-op when unchanged)."""
        signature = tuple((t.get("number"), t.get("state"), t.get("score"), str(t.get("metrics"))) for t in trials)
        if signature == self._signature:
            return
        self._signature = signature
        current = self._current_key()
        self.clear()
        self._trials = {}
        for trial in trials:
            row = trial_row(trial)
            key = str(row["number"])
            self._trials[key] = trial
            self.add_row(*(_cell(k, row[k]) for k, _ in COLUMNS), key=key)
        self._apply_sort()
        if current in self._trials:
            self.move_cursor(row=self.get_row_index(current))

    def _current_key(self) -> str | None:
        if self.row_count == 0:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except CellDoesNotExist:  # no valid cursor yet
            return None

    def _apply_sort(self) -> None:
        if self.row_count:
            reverse = self.sort_reverse
            self.sort(self.sort_column, key=lambda v: sort_key(v, reverse), reverse=reverse)

    def sort_by(self, column: str, reverse: bool | None = None) -> None:
        current = self._current_key()
        if reverse is None:
            reverse = not self.sort_reverse if column == self.sort_column else column in ("score", "success_rate")
        self.sort_column, self.sort_reverse = column, reverse
        self._apply_sort()
        if current in self._trials:
            self.move_cursor(row=self.get_row_index(current))
        self.notify(f"trials sorted by {dict(COLUMNS)[column]} {'↓' if reverse else '↑'}", timeout=2)

    def action_cycle_sort(self) -> None:
        keys = [k for k, _ in COLUMNS if k != "params"]
        nxt = keys[(keys.index(self.sort_column) + 1) % len(keys)] if self.sort_column in keys else keys[0]
        self.sort_by(nxt)

    def action_reverse_sort(self) -> None:
        self.sort_by(self.sort_column, not self.sort_reverse)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by(str(event.column_key.value))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        key = event.row_key.value if event.row_key is not None else None
        self.post_message(self.TrialHighlighted(self._trials.get(key)))
