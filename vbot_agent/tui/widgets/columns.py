"""Fitting a table's columns to its width, so a table never scrolls sideways."""

from __future__ import annotations

from collections.abc import Sequence

CELL_PADDING = 1  # DataTable's default padding on each side of every cell

Column = tuple[str, str, int]  # (key, label, width in cells without padding)


def fit_columns(columns: Sequence[Column], width: int, drop_order: Sequence[str],
                rest_min: int = 0) -> tuple[list[Column], int]:
    """The columns that fit in ``width`` cells, and the width left for one more flexible column.

    Columns are dropped in ``drop_order`` until the rest is at least ``rest_min`` (with ``rest_min``
    0: until the columns fit). The rest is 0 when it stays below ``rest_min`` (or below 1) even with
    every droppable column gone.
    """
    shown = list(columns)
    drop = list(drop_order)
    while True:
        used = sum(w + 2 * CELL_PADDING for _, _, w in shown)
        rest = width - used - (2 * CELL_PADDING if rest_min else 0)
        if (rest >= rest_min and rest >= 0) or not drop:
            return shown, rest if rest >= max(1, rest_min) else 0
        gone = drop.pop(0)
        shown = [c for c in shown if c[0] != gone]
