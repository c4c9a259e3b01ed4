"""Landscape layout for charts with columns (kb/flowcharts.yaml `columns`): each column is laid
out on its own by Graphviz `dot` (so every column starts at the top under its title), then the
columns are placed left to right, in one row or wrapped into two or three, whichever lets the
chart be shown largest on the page it is meant for (a 16:9 slide; an A4 sheet for PDF). The result is a position for every node and dot's drawing of the
edges inside a column; the final drawing keeps both (`layout=nop2`) and lets Graphviz route only
the edges between columns, so those never disturb the columns themselves.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from functools import lru_cache

from engine.flowchart import dotexe

SLIDE = (1920.0, 1080.0)  # a 16:9 slide: the target of SVG and PNG
A4 = (842.0, 595.0)  # an A4 sheet, landscape, in points: the target of PDF
COLUMN_GAP = 54.0  # points between columns
ROW_GAP = 40.0  # points between rows of columns
ROW_GAIN = 1.25  # wrap into one more row only when the chart grows by this much


@dataclass
class _Frame:
    """A column's bounding box in its own layout (points, y upwards)."""

    names: list[str]
    left: float
    top: float
    w: float
    h: float


@lru_cache(maxsize=32)
def _layouts(sources: tuple[str, ...]) -> list[tuple[dict, dict]]:
    """The dot layouts of several graphs, computed by one Graphviz process (it reads them in
    turn; starting a process and loading the fonts is most of the cost). Remembered: the SVG,
    PNG and PDF of one chart share their layout (the callers only read the result)."""
    raw = dotexe.pipe("json0", "\n".join(sources).encode("utf-8")).decode("utf-8")
    decoder, i = json.JSONDecoder(), 0
    out: list[tuple[dict, dict]] = []
    while len(out) < len(sources):
        while raw[i].isspace():
            i += 1
        data, i = decoder.raw_decode(raw, i)
        out.append(_read(data))
    return out


def _read(data: dict) -> tuple[dict, dict]:
    """Node name -> (x, y, width, height) in points (y upwards), and (tail, head) -> {pos, lp}
    of the drawn edges, from Graphviz's JSON."""
    boxes, names = {}, {}
    for obj in data.get("objects", []):
        if "pos" not in obj or obj.get("name", "").startswith("cluster"):
            continue
        names[obj["_gvid"]] = obj["name"]
        x, y = (float(v) for v in obj["pos"].split(","))
        boxes[obj["name"]] = (x, y, float(obj["width"]) * 72, float(obj["height"]) * 72)
    edges = {}
    for e in data.get("edges", []):
        if e.get("style") == "invis" or "pos" not in e:
            continue
        edges[(names[e["tail"]], names[e["head"]])] = {k: e[k] for k in ("pos", "lp") if k in e}
    return boxes, edges


def _shift(value: str, dx: float, dy: float) -> str:
    """A Graphviz point list (`e,x,y x,y ...` or `x,y`) moved by (dx, dy)."""
    out = []
    for token in value.split():
        parts = token.split(",")
        prefix = parts[:-2]
        x, y = float(parts[-2]) + dx, float(parts[-1]) + dy
        out.append(",".join([*prefix, f"{x:.1f}", f"{y:.1f}"]))
    return " ".join(out)


def _arrange(sizes: list[tuple[float, float]], title_height: float, page: tuple[float, float]) -> list[list[int]]:
    """Columns (index lists) per row: the columns in order, cut into one, two or three rows,
    whichever shows the chart largest on `page` (its proportions: a 16:9 slide, an A4 sheet);
    a further row only when it makes the chart clearly larger (ROW_GAIN)."""

    def scale(rows):
        width = max(sum(sizes[i][0] for i in row) + COLUMN_GAP * (len(row) - 1) for row in rows)
        height = sum(max(sizes[i][1] for i in row) for row in rows) + ROW_GAP * (len(rows) - 1) + title_height
        return min(page[0] / width, page[1] / height)

    n = len(sizes)
    best = [list(range(n))]
    for count in (2, 3):
        cuts = [c for c in itertools.combinations(range(1, n), count - 1)]
        options = [[list(range(a, b)) for a, b in zip((0, *c), (*c, n), strict=True)] for c in cuts]
        if options:
            candidate = max(options, key=scale)
            if scale(candidate) > ROW_GAIN * scale(best):
                best = candidate
    return best


def column_positions(
    sources: dict[str, str],
    columns: list[dict],
    members: dict[str, list[str]],
    titles: dict[str, str],
    title_height: float,
    page: tuple[float, float] = SLIDE,
) -> tuple[dict, dict]:
    """Node name -> (x, y) in points for the whole chart. `sources` holds a DOT graph per column
    (its title, nodes and own edges), laid out separately so that no column's ranks stretch
    another's; `members` lists each column's nodes and `titles` names each column's title node.
    Also returns (tail, head) -> {pos, lp} for the edges inside a column, as dot drew them."""
    boxes: dict[str, tuple[float, float, float, float]] = {}
    drawn: dict[str, dict] = {}
    for col, (b, e) in zip(columns, _layouts(tuple(sources[c["id"]] for c in columns)), strict=True):
        boxes.update(b)
        drawn[col["id"]] = e
    frames: list[_Frame] = []
    for col in columns:
        names = [titles[col["id"]]] + members[col["id"]]
        left = min(boxes[n][0] - boxes[n][2] / 2 for n in names)
        right = max(boxes[n][0] + boxes[n][2] / 2 for n in names)
        top = max(boxes[n][1] + boxes[n][3] / 2 for n in names)
        bottom = min(boxes[n][1] - boxes[n][3] / 2 for n in names)
        frames.append(_Frame(names, left, top, right - left, top - bottom))
    rows = _arrange([(f.w, f.h) for f in frames], title_height, page)
    pos: dict[str, tuple[float, float]] = {}
    edges: dict[tuple[str, str], dict] = {}
    y0 = 0.0
    for row in rows:
        x0 = 0.0
        row_height = max(frames[i].h for i in row)
        for i in row:
            f = frames[i]
            dx, dy = x0 - f.left, y0 - f.top
            for n in f.names:
                x, y, _, _ = boxes[n]
                pos[n] = (x + dx, y + dy)
            for key, attrs in drawn[columns[i]["id"]].items():
                edges[key] = {k: _shift(v, dx, dy) for k, v in attrs.items()}
            x0 += f.w + COLUMN_GAP
        y0 -= row_height + ROW_GAP
    return pos, edges


PAGE_MARGIN = 100.0  # points a page needs beyond its columns and the estimated title block
MIN_PAGE_SCALE = 0.75  # a PDF page holds as many columns as fit an A4 sheet at this scale or larger


def page_groups(
    sources: dict[str, str],
    columns: list[dict],
    members: dict[str, list[str]],
    titles: dict[str, str],
    title_height: float,
) -> list[list[str]]:
    """The columns (ids) of each A4 page: consecutive columns as long as they fit a sheet,
    landscape or portrait, at MIN_PAGE_SCALE or larger (one column per page at least)."""
    boxes: dict[str, tuple[float, float, float, float]] = {}
    for b, _ in _layouts(tuple(sources[c["id"]] for c in columns)):
        boxes.update(b)
    sizes = {}
    for col in columns:
        names = [titles[col["id"]]] + members[col["id"]]
        w = max(boxes[n][0] + boxes[n][2] / 2 for n in names) - min(boxes[n][0] - boxes[n][2] / 2 for n in names)
        h = max(boxes[n][1] + boxes[n][3] / 2 for n in names) - min(boxes[n][1] - boxes[n][3] / 2 for n in names)
        sizes[col["id"]] = (w, h)

    def scale(ids: list[str]) -> float:
        # the page also holds Graphviz's padding, the title block and the labels of edges between columns
        width = sum(sizes[i][0] for i in ids) + COLUMN_GAP * (len(ids) - 1) + PAGE_MARGIN
        height = max(sizes[i][1] for i in ids) + title_height + PAGE_MARGIN
        return max(min(A4[0] / width, A4[1] / height), min(A4[1] / width, A4[0] / height))

    pages: list[list[str]] = []
    for col in columns:
        if pages and scale(pages[-1] + [col["id"]]) >= MIN_PAGE_SCALE:
            pages[-1].append(col["id"])
        else:
            pages.append([col["id"]])
    return pages
