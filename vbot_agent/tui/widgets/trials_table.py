"""The trials table: one row per trial, sortable by any column, updated in place as trials land.

The columns always fit the table's width (no horizontal scrolling): the params column takes what the
metric columns leave, and when that is too little the least useful metrics are dropped first. The
params show only the keys that differ between trials, each by its last dotted segment
(``ppo.entropy_coef`` -> ``entropy_coef``); the Trial tab shows every key in full.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist

from vbot_agent.tui.data import trial_row
from vbot_agent.tui.widgets.columns import Column, fit_columns

COLUMNS: tuple[Column, ...] = (
    ("number", "#", 3), ("state", "state", 8), ("score", "score", 7), ("success_rate", "success", 7),
    ("fall_rate", "fall", 5), ("competition_points", "pts/robot", 9), ("time_to_target_s", "t→goal s", 8),
)
PARAMS_KEY = "params"
LABELS = {key: label for key, label, _ in COLUMNS} | {PARAMS_KEY: "params"}
DROP_ORDER = ("fall_rate", "time_to_target_s", "competition_points", "success_rate")  # first dropped first
PARAMS_MIN_WIDTH = 20  # narrower than this and the params column says too little to be worth its space
STATE_STYLE = {"complete": "green", "pruned": "yellow", "fail": "red", "running": "cyan", "waiting": "dim"}


def layout_columns(width: int) -> tuple[list[Column], int]:
    """The metric columns that fit in ``width`` cells, and the width left for the params column
    (0 when even #, state and score leave less than ``PARAMS_MIN_WIDTH``)."""
    return fit_columns(COLUMNS, width, DROP_ORDER, PARAMS_MIN_WIDTH)


def short_param_names(keys: list[str]) -> dict[str, str]:
    """Each dotted key by its last segment, or by more segments where the last one is shared."""
    out: dict[str, str] = {}
    for key in keys:
        parts = key.split(".")
        for n in range(1, len(parts) + 1):
            short = ".".join(parts[-n:])
            if sum(1 for other in keys if other == short or other.endswith("." + short)) == 1:
                break
        out[key] = short
    return out


def initials(names: dict[str, str]) -> dict[str, str]:
    """Shorter still, for a narrow column: ``learning_rate`` -> ``lr`` (unless two would clash)."""
    short = {k: "".join(w[0] for w in n.replace(".", "_").split("_") if w) if "_" in n else n
             for k, n in names.items()}
    clashes = {v for v in short.values() if list(short.values()).count(v) > 1}
    return {k: names[k] if short[k] in clashes else short[k] for k in names}


def varying_params(trials: list[dict[str, Any]]) -> list[str]:
    """The param keys whose values differ between trials (all keys when there is nothing to compare)."""
    keys: list[str] = []
    for trial in trials:
        keys += [k for k in trial.get("params") or {} if k not in keys]
    if len(trials) < 2:
        return keys
    return [k for k in keys if len({repr((t.get("params") or {}).get(k)) for t in trials}) > 1]


def _short(value: Any) -> str:
    """A compact number: 0.0003 -> 3e-4, 0.000375 -> 3.75e-4, 0.05 -> 0.05, 1024 -> 1024."""
    if not isinstance(value, float):
        return str(value)
    if value == 0 or 1e-2 <= abs(value) < 1e5:
        return f"{value:.3g}"
    mantissa, exponent = f"{value:.2e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def _cell(key: str, value: Any) -> Text:
    if value is None:
        return Text("—", style="dim", justify="right")
    if key == "state":
        return Text(str(value), style=STATE_STYLE.get(str(value), ""))
    if isinstance(value, float):
        return Text(f"{value:.4g}", justify="right")
    return Text(str(value), justify="right")


def params_cell(params: dict[str, Any], names: dict[str, str]) -> Text:
    return Text(" ".join(f"{names[k]}={_short(params[k])}" for k in names if k in params),
                style="dim", no_wrap=True, overflow="ellipsis")


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

    DEFAULT_CSS = """
    TrialsTable { overflow-x: hidden; scrollbar-gutter: stable; }
    """

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
        self._rows: list[dict[str, Any]] = []
        self._signature: tuple = ()
        self._layout: tuple = ()

    @property
    def shown_columns(self) -> list[str]:
        """The keys of the columns on screen, left to right."""
        return [str(column.key.value) for column in self.ordered_columns]

    def on_mount(self) -> None:
        self._rebuild()

    def show(self, trials: list[dict[str, Any]]) -> None:
        """Replace the rows with ``trials`` (keeps the cursor on the same trial; no-op when unchanged)."""
        signature = tuple((t.get("number"), t.get("state"), t.get("score"), str(t.get("metrics")),
                           str(t.get("params"))) for t in trials)
        if signature == self._signature:
            return
        self._signature = signature
        self._trials = {str(t.get("number")): t for t in trials}
        self._rows = [trial_row(t) for t in trials]
        self._rebuild()

    def on_resize(self, event: events.Resize) -> None:
        if self._fit() != self._layout:
            self._rebuild()

    def _fit(self) -> tuple:
        columns, params_width = layout_columns(self.scrollable_content_region.width)
        return tuple(columns), params_width

    def _rebuild(self) -> None:
        """Lay the columns out for the current width and add the rows in the current sort order."""
        current = self._current_key()
        self._layout = self._fit()
        columns, params_width = self._layout
        self.clear(columns=True)
        for key, label, width in columns:
            self.add_column(label, key=key, width=width)
        if params_width:
            self.add_column(LABELS[PARAMS_KEY], key=PARAMS_KEY, width=params_width)
        names = short_param_names(varying_params(list(self._trials.values())))
        if params_width and any(len(params_cell(r[PARAMS_KEY], names)) > params_width for r in self._rows):
            names = initials(names)  # the Trial tab (i) shows the full names
        reverse = self.sort_reverse
        rows = sorted(self._rows, key=lambda r: sort_key(_cell(self.sort_column, r.get(self.sort_column)), reverse),
                      reverse=reverse)
        for row in rows:
            cells = [_cell(key, row[key]) for key, _, _ in columns]
            if params_width:
                cells.append(params_cell(row[PARAMS_KEY], names))
            self.add_row(*cells, key=str(row["number"]))
        if current in self._trials:
            self.move_cursor(row=self.get_row_index(current))

    def _current_key(self) -> str | None:
        if self.row_count == 0:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except CellDoesNotExist:  # no valid cursor yet
            return None

    def sort_by(self, column: str, reverse: bool | None = None) -> None:
        if reverse is None:
            reverse = not self.sort_reverse if column == self.sort_column else column in ("score", "success_rate")
        self.sort_column, self.sort_reverse = column, reverse
        self._rebuild()
        self.notify(f"trials sorted by {LABELS[column]} {'↓' if reverse else '↑'}", timeout=2)

    def action_cycle_sort(self) -> None:
        keys = [k for k in self.shown_columns if k != PARAMS_KEY]
        nxt = keys[(keys.index(self.sort_column) + 1) % len(keys)] if self.sort_column in keys else keys[0]
        self.sort_by(nxt)

    def action_reverse_sort(self) -> None:
        self.sort_by(self.sort_column, not self.sort_reverse)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        if event.column_key.value != PARAMS_KEY:
            self.sort_by(str(event.column_key.value))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        key = event.row_key.value if event.row_key is not None else None
        self.post_message(self.TrialHighlighted(self._trials.get(key)))
