"""A small column chart drawn with Unicode eighth blocks (no plotting library needed)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

BLOCKS = " ▁▂▃▄▅▆▇█"


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


def render_columns(values: Sequence[float | None], width: int, height: int) -> list[str]:
    """Rows of block characters (top row first) drawing ``values`` as columns; None -> '×' at the bottom."""
    cols = bucket(values, width)
    repeat = max(1, width // max(1, len(cols)))  # few values: draw each as a wider column
    if repeat > 1:
        gap = 1 if repeat >= 3 else 0
        cols = [v for v in cols for _ in range(repeat - gap)] if not gap else \
            [x for v in cols for x in [v] * (repeat - gap) + [math.nan]]
    real = [v for v in cols if v is not None and math.isfinite(v)]
    if not real or height <= 0:
        return []
    lo, hi = min(0.0, min(real)), max(real)
    span = (hi - lo) or 1.0
    levels = height * 8
    rows = [[" "] * len(cols) for _ in range(height)]
    for x, v in enumerate(cols):
        if v is None:
            rows[-1][x] = "×"
            continue
        if not math.isfinite(v):  # the gap between wide columns
            continue
        eighths = max(1, round((v - lo) / span * levels))
        for r in range(height):
            fill = min(8, max(0, eighths - r * 8))
            rows[height - 1 - r][x] = BLOCKS[fill]
    return ["".join(row) for row in rows]


class BarChart(Widget):
    """``values`` as columns with a caption line: title, min, max and last value.

    Values beyond the width are averaged into buckets; ``None`` (a failed trial) shows as ``×``.
    """

    DEFAULT_CSS = """
    BarChart { height: 8; }
    """

    values: reactive[tuple[float | None, ...]] = reactive((), layout=False)
    note: reactive[str] = reactive("")

    def __init__(self, title: str, *, style: str = "green", name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.title = title
        self.bar_style = style

    def render(self) -> Text:
        width, height = self.content_size.width, self.content_size.height
        real = [v for v in self.values if v is not None]
        caption = Text(self.title, style="bold")
        if real:
            caption.append(f" last {_fmt(real[-1])} ({_fmt(min(real))}…{_fmt(max(real))})", style="dim")
        caption.truncate(max(1, width), overflow="ellipsis")
        lines = render_columns(self.values, max(1, width), max(0, height - 1))
        text = Text()
        text.append_text(caption)
        if not lines:
            text.append("\n" + (self.note or "no data yet"), style="dim italic")
            return text
        for line in lines:
            text.append("\n")
            for ch in line:
                text.append(ch, style="red" if ch == "×" else self.bar_style)
        return text
