"""A small column chart with axes, drawn with Unicode eighth blocks (no plotting library needed).

Columns grow up from zero (down for negative values), so a reward that starts below zero reads as
such. The y axis is labelled at the top, at zero and at the bottom; the x axis with ``x_labels``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

BLOCKS = " ▁▂▃▄▅▆▇█"  # k/8 of a cell filled from the bottom
FAIL = "×"  # a None value (a failed trial), drawn on the zero line
AXIS_ROWS = 2  # the x axis line and its labels
MIN_ROWS_FOR_AXES = 3  # fewer plot rows than this and the axes are left out


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def bucket(values: Sequence[float | None], width: int) -> list[float | None]:
    """Reduce ``values`` to at most ``width`` columns (mean of each bucket; None when all are None)."""
    if len(values) <= width or width <= 0:
        return list(values)
    out: list[float | None] = []
    for i in range(width):
        lo, hi = i * len(values) // width, (i + 1) * len(values) // width
        chunk = [v for v in values[lo:hi] if v is not None]
        out.append(sum(chunk) / len(chunk) if chunk else None)
    return out


def _widen(cols: list[float | None], width: int, gaps: bool) -> list[float | None]:
    """Few values: draw each as a wider column. With ``gaps`` each is a whole number of cells and
    a one-cell gap (NaN) follows it once it is 3 cells wide; without, they stretch over the width."""
    if not cols or len(cols) >= width:
        return cols
    if not gaps:
        return [cols[x * len(cols) // width] for x in range(width)]
    repeat = width // len(cols)
    if repeat == 1:
        return cols
    gap = 1 if repeat >= 3 else 0
    return [x for v in cols for x in [v] * (repeat - gap) + [math.nan] * gap]


def value_range(values: Sequence[float | None]) -> tuple[float, float] | None:
    """(low, high) of the finite values, always including zero; None without any."""
    real = [v for v in values if v is not None and math.isfinite(v)]
    if not real:
        return None
    return min(0.0, min(real)), max(0.0, max(real))


def zero_row(lo: float, hi: float, height: int) -> int:
    """The row (counted from the bottom) whose lower edge is the zero line."""
    return round((0.0 - lo) / ((hi - lo) or 1.0) * height)


def _cell_up(eighths: int) -> str:
    return BLOCKS[min(8, max(0, eighths))]


def _cell_down(eighths: int) -> str:
    """A cell filled from its top: only half and full blocks exist, so round to those."""
    return " " if eighths <= 0 else "▔" if eighths <= 2 else "▀" if eighths <= 5 else "█"


def render_columns(values: Sequence[float | None], width: int, height: int, gaps: bool = True) -> list[str]:
    """Rows of block characters (top row first) drawing ``values`` as columns from the zero line.

    None draws ``×`` on the zero line; a value that is not zero fills at least one eighth.
    """
    cols = _widen(bucket(values, width), width, gaps)
    bounds = value_range(cols)
    if bounds is None or height <= 0:
        return []
    lo, hi = bounds
    span = (hi - lo) or 1.0
    base = zero_row(lo, hi, height)
    rows = [[" "] * len(cols) for _ in range(height)]
    for x, v in enumerate(cols):
        if v is None:
            rows[height - 1 - min(base, height - 1)][x] = FAIL
            continue
        if not math.isfinite(v) or v == 0:  # the gap between wide columns; zero draws nothing
            continue
        eighths = max(1, round(abs(v) / span * height * 8))
        for r in range(height):  # r counts rows from the bottom
            if v > 0 and r >= base:
                rows[height - 1 - r][x] = _cell_up(eighths - (r - base) * 8)
            elif v < 0 and r < base:
                rows[height - 1 - r][x] = _cell_down(eighths - (base - 1 - r) * 8)
    return ["".join(row) for row in rows]


def y_labels(lo: float, hi: float, height: int) -> list[str]:
    """The y axis labels, one per row (top first): the top, zero and the bottom, others blank."""
    labels = [""] * height
    labels[0] = _fmt(hi)
    labels[-1] = _fmt(lo)
    row = height - 1 - zero_row(lo, hi, height)  # positive columns start at the bottom of this row
    if lo < 0 < hi and 0 < row < height - 1:
        labels[row] = "0"
    return labels


class BarChart(Widget):
    """``values`` as columns under a caption (title, last, min…max), with a y and an x axis.

    Values beyond the width are averaged into buckets; ``None`` (a failed trial) shows as ``×``.
    ``x_labels`` names the first and the last value (e.g. ``("#0", "#23")``). ``gaps`` separates
    few values into distinct columns (one per trial); without, a curve stretches over the width.
    """

    DEFAULT_CSS = """
    BarChart { height: 8; }
    """

    values: reactive[tuple[float | None, ...]] = reactive((), layout=False)
    x_labels: reactive[tuple[str, str]] = reactive(("", ""))
    note: reactive[str] = reactive("")

    def __init__(self, title: str, *, style: str = "green", gaps: bool = True, name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.title = title
        self.bar_style = style
        self.gaps = gaps

    def render(self) -> Text:
        width, height = self.content_size.width, self.content_size.height
        real = [v for v in self.values if v is not None]
        caption = Text(self.title, style="bold")
        if real:
            caption.append(f" last {_fmt(real[-1])} ({_fmt(min(real))}…{_fmt(max(real))})", style="dim")
        caption.truncate(max(1, width), overflow="ellipsis")
        text = Text(no_wrap=True, overflow="crop")
        text.append_text(caption)
        bounds = value_range(self.values)
        plot_rows = height - 1 - AXIS_ROWS
        if bounds is None or height < 2:
            text.append("\n" + (self.note or "no data yet"), style="dim italic")
            return text
        if plot_rows < MIN_ROWS_FOR_AXES:  # too short for axes: the columns alone
            self._append_columns(text, render_columns(self.values, max(1, width), height - 1, self.gaps), [])
            return text
        labels = y_labels(*bounds, plot_rows)
        gutter = max(len(label) for label in labels)
        lines = render_columns(self.values, max(1, width - gutter - 1), plot_rows, self.gaps)
        self._append_columns(text, lines, [label.rjust(gutter) + ("┤" if label else "│") for label in labels])
        text.append("\n" + " " * gutter + "└" + "─" * max(0, width - gutter - 1), style="dim")
        first, last = self.x_labels
        room = max(0, width - gutter - 1 - len(first) - len(last))
        text.append("\n" + " " * (gutter + 1) + first + " " * room + last, style="dim")
        return text

    def _append_columns(self, text: Text, lines: list[str], axis: list[str]) -> None:
        for i, line in enumerate(lines):
            text.append("\n")
            if axis:
                text.append(axis[i], style="dim")
            for ch in line:
                text.append(ch, style="red" if ch == FAIL else self.bar_style)
