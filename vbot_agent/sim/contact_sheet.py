"""A contact sheet: rendered frames of one episode in a grid, each with its caption, beside a top-down
map of the path, composed into one image (``vbot play --frames``).

Pure image composition (Pillow): it knows nothing of envs or policies. Sizes are chosen so the
sheet stays readable after an image viewer shrinks it to about 1.2 megapixels (captions at 17 px
become ~13 px).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

# A caption line is plain text, or coloured segments (text, RGB) drawn one after the other.
Segment = tuple[str, tuple[int, int, int]]
Line = str | Sequence[Segment]

COLUMNS = 4
TILE_W, TILE_H = 352, 264  # px, 4:3 like the renderer's frames
FONT_PX, LINE_PX = 17, 21
CAPTION_LINES = 3
HEADER_PX = 58
PAD = 6  # px between tiles
BACKGROUND = (24, 26, 30)
TEXT = (235, 235, 235)
DIM = (160, 165, 175)
GOOD, BAD, WARN = (120, 220, 130), (255, 120, 110), (255, 205, 90)


@dataclass(frozen=True)
class Panel:
    """One frame: ``image`` uint8 [H, W, 3] (scaled to the tile) and up to three caption lines."""

    image: np.ndarray
    caption: tuple[Line, ...]


@dataclass(frozen=True)
class PathMap:
    """Top-down view of one episode: base positions ``path_xy`` [T, 2] (m), the target, the index into
    ``path_xy`` of each panel (drawn as numbered marks), and whether the episode ended in a fall."""

    path_xy: np.ndarray
    target_xy: np.ndarray
    reach_radius: float  # m, drawn as the target circle
    fence_radius: float  # m, drawn as the inner fence
    marks: tuple[int, ...] = ()
    fell: bool = False
    notes: tuple[Line, ...] = field(default=())  # lines under the map (the episode's summary)


@lru_cache(maxsize=4)
def _font(size: int, bold: bool = False):
    """DejaVu Sans from matplotlib's own data (a dependency), so text looks the same everywhere."""
    import matplotlib
    from PIL import ImageFont

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name), size)


def _draw_line(draw, xy: tuple[int, int], line: Line, font, default=TEXT) -> None:
    x, y = xy
    segments = [(line, default)] if isinstance(line, str) else list(line)
    for text, colour in segments:
        draw.text((x, y), text, font=font, fill=colour)
        x += int(draw.textlength(text, font=font))


def compose_sheet(title: Sequence[Line], panels: Sequence[Panel], path_map: PathMap) -> np.ndarray:
    """The sheet as uint8 [H, W, 3]: ``title`` lines on top, ``panels`` in rows of four (numbered from
    1, caption below each), the map in a column on the right."""
    from PIL import Image, ImageDraw

    rows = max(1, -(-len(panels) // COLUMNS))
    cell_h = TILE_H + CAPTION_LINES * LINE_PX + PAD
    width = PAD + (COLUMNS + 1) * (TILE_W + PAD)
    height = HEADER_PX + rows * cell_h + PAD
    sheet = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    for i, line in enumerate(title[:2]):
        _draw_line(draw, (PAD + 4, 6 + i * 25), line, _font(19, bold=i == 0))
    for index, panel in enumerate(panels):
        x = PAD + (index % COLUMNS) * (TILE_W + PAD)
        y = HEADER_PX + (index // COLUMNS) * cell_h
        tile = Image.fromarray(np.asarray(panel.image, dtype=np.uint8)).resize((TILE_W, TILE_H), Image.BILINEAR)
        sheet.paste(tile, (x, y))
        _badge(draw, (x + 4, y + 4), str(index + 1))
        for i, line in enumerate(panel.caption[:CAPTION_LINES]):
            _draw_line(draw, (x + 2, y + TILE_H + 1 + i * LINE_PX), line, _font(FONT_PX))
    map_x = PAD + COLUMNS * (TILE_W + PAD)
    map_image = draw_path_map(path_map, TILE_W)
    sheet.paste(Image.fromarray(map_image), (map_x, HEADER_PX))
    for i, line in enumerate(path_map.notes):
        y = HEADER_PX + TILE_W + 6 + i * LINE_PX
        if y + LINE_PX > height:
            break
        _draw_line(draw, (map_x + 2, y), line, _font(FONT_PX))
    return np.asarray(sheet)


def _badge(draw, xy: tuple[int, int], text: str) -> None:
    """The panel number, white on a dark box in the frame's top-left corner."""
    font = _font(18, bold=True)
    w = int(draw.textlength(text, font=font))
    x, y = xy
    draw.rectangle((x, y, x + w + 10, y + 24), fill=(0, 0, 0))
    draw.text((x + 5, y + 2), text, font=font, fill=(255, 255, 255))


def draw_path_map(path_map: PathMap, size: int) -> np.ndarray:
    """A ``size`` x ``size`` top-down map -> uint8 [size, size, 3]: 1 m grid, target with its reach
    circle (red) and inner fence (amber), the path from its start (green dot) with the panel numbers,
    and a red cross where a fall ended it. x to the right, y up; equal scale on both axes."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (size, size), (238, 238, 232))
    draw = ImageDraw.Draw(image)
    path = np.asarray(path_map.path_xy, dtype=np.float64).reshape(-1, 2)
    target = np.asarray(path_map.target_xy, dtype=np.float64)
    points = np.vstack([path, target[None, :] + path_map.fence_radius, target[None, :] - path_map.fence_radius])
    low, high = points.min(axis=0), points.max(axis=0)
    span = float(max(high - low)) * 1.15 + 0.5  # m shown across the map, with a margin
    centre = (low + high) / 2
    margin = 24  # px kept free for the scale label
    scale = (size - margin) / span  # px per metre

    def px(xy) -> tuple[float, float]:
        return (size / 2 + (xy[0] - centre[0]) * scale, (size - margin) / 2 - (xy[1] - centre[1]) * scale)

    step = 1.0 if span <= 12 else 5.0  # m between grid lines
    for k in np.arange(np.floor((centre[0] - span) / step), np.ceil((centre[0] + span) / step) + 1) * step:
        x = px((k, 0))[0]
        draw.line((x, 0, x, size - margin), fill=(215, 215, 208))
    for k in np.arange(np.floor((centre[1] - span) / step), np.ceil((centre[1] + span) / step) + 1) * step:
        y = px((0, k))[1]
        draw.line((0, y, size, y), fill=(215, 215, 208))
    tx, ty = px(target)
    for radius, colour in ((path_map.fence_radius, (230, 160, 30)), (path_map.reach_radius, (210, 40, 30))):
        r = radius * scale
        draw.ellipse((tx - r, ty - r, tx + r, ty + r), outline=colour, width=2)
    draw.ellipse((tx - 3, ty - 3, tx + 3, ty + 3), fill=(210, 40, 30))
    if len(path) > 1:
        draw.line([px(p) for p in path], fill=(40, 90, 200), width=3)
    if len(path):
        sx, sy = px(path[0])
        draw.ellipse((sx - 6, sy - 6, sx + 6, sy + 6), fill=(40, 170, 60))
        placed: list[tuple[float, float, float, float]] = []  # label boxes already drawn
        font = _font(14, bold=True)
        for label, (mx, my) in mark_labels([px(path[min(i, len(path) - 1)]) for i in path_map.marks]):
            draw.ellipse((mx - 3, my - 3, mx + 3, my + 3), fill=(20, 20, 20))
            box = place_label((mx, my), draw.textlength(label, font=font), 16.0, placed)
            placed.append(box)
            draw.text((box[0], box[1]), label, font=font, fill=(20, 20, 20))
        if path_map.fell:
            ex, ey = px(path[-1])
            draw.line((ex - 8, ey - 8, ex + 8, ey + 8), fill=(220, 30, 30), width=4)
            draw.line((ex - 8, ey + 8, ex + 8, ey - 8), fill=(220, 30, 30), width=4)
    label = f"grid {step:g} m - start green, target red"
    draw.text((6, size - margin + 4), label, font=_font(14), fill=(60, 60, 60))
    return np.asarray(image)


def place_label(mark: tuple[float, float], width: float, height: float,
                placed: list[tuple[float, float, float, float]]) -> tuple[float, float, float, float]:
    """A label box beside its mark: the first of eight spots around it (right, left, above, below
    and the corners) that covers no label placed before, else the one that covers least. A label
    never drifts away from its mark."""
    mx, my = mark
    spots = [(5, -height - 1), (5, 1), (-5 - width, -height - 1), (-5 - width, 1), (-width / 2, -height - 5),
             (-width / 2, 5), (8, -height / 2), (-8 - width, -height / 2)]

    def covered(box: tuple[float, float, float, float]) -> float:
        return sum(max(0.0, min(box[2], b[2]) - max(box[0], b[0])) * max(0.0, min(box[3], b[3]) - max(box[1], b[1]))
                   for b in placed)

    boxes = [(mx + dx, my + dy, mx + dx + width, my + dy + height) for dx, dy in spots]
    return min(boxes, key=covered)  # min keeps the first of equals: the preferred free spot


def mark_labels(points: list[tuple[float, float]], min_px: float = 14.0) -> list[tuple[str, tuple[float, float]]]:
    """Number the panel positions from 1; runs of consecutive panels closer than ``min_px`` to the
    first of the run share one label ("4-12" where the robot stood still)."""
    labels: list[tuple[str, tuple[float, float]]] = []
    first = 0
    for i in range(1, len(points) + 1):
        if i < len(points) and np.hypot(points[i][0] - points[first][0], points[i][1] - points[first][1]) < min_px:
            continue
        text = str(first + 1) if i - 1 == first else f"{first + 1}-{i}"
        labels.append((text, points[first]))
        first = i
    return labels
