"""Landscape layout for charts with columns (kb/flowcharts.yaml `columns`): each column is laid
out on its own by Graphviz `dot` (so every column starts at the top under its title), then the
columns are placed left to right, in one row or wrapped into two, whichever lets the chart be
shown largest on a 16:9 slide. The result is a position for every node; the final drawing pins
them and lets Graphviz route the edges (`neato` with fixed positions), so edges between columns
never disturb the columns themselves.
"""
from __future__ import annotations

import json

import graphviz

SLIDE = (1920.0, 1080.0)      # the target: a 16:9 slide
COLUMN_GAP = 54.0             # points between columns
ROW_GAP = 40.0                # points between rows of columns
TITLE_GAP = 10.0              # points between a column's title and its first node


def _boxes(source: str) -> dict[str, tuple[float, float, float, float]]:
    """Graphviz's layout of `source`: node name -> (x, y, width, height) in points (y upwards)."""
    data = json.loads(graphviz.pipe("dot", "json", source.encode("utf-8")))
    out = {}
    for obj in data.get("objects", []):
        if "pos" not in obj or obj.get("name", "").startswith("cluster"):
            continue
        x, y = (float(v) for v in obj["pos"].split(","))
        out[obj["name"]] = (x, y, float(obj["width"]) * 72, float(obj["height"]) * 72)
    return out


def _arrange(sizes: list[tuple[float, float]], title_height: float) -> list[list[int]]:
    """Columns (index lists) per row: one row, or two rows split where the chart fits a
    16:9 slide at the largest scale."""
    def scale(rows):
        width = max(sum(sizes[i][0] for i in row) + COLUMN_GAP * (len(row) - 1) for row in rows)
        height = sum(max(sizes[i][1] for i in row) for row in rows) + ROW_GAP * (len(rows) - 1) + title_height
        return min(SLIDE[0] / width, SLIDE[1] / height)
    n = len(sizes)
    options = [[list(range(n))]] + [[list(range(k)), list(range(k, n))] for k in range(1, n)]
    return max(options, key=scale)


def column_positions(sources: dict[str, str], columns: list[dict], members: dict[str, list[str]],
                     titles: dict[str, str], title_height: float) -> dict[str, tuple[float, float]]:
    """Node name -> (x, y) in points for the whole chart. `sources` holds a DOT graph per column
    (its title, nodes and own edges), laid out separately so that no column's ranks stretch
    another's; `members` lists each column's nodes and `titles` names each column's title node."""
    boxes: dict[str, tuple[float, float, float, float]] = {}
    for col in columns:
        boxes.update(_boxes(sources[col["id"]]))
    frames = []
    for col in columns:
        names = [titles[col["id"]]] + members[col["id"]]
        left = min(boxes[n][0] - boxes[n][2] / 2 for n in names)
        right = max(boxes[n][0] + boxes[n][2] / 2 for n in names)
        top = max(boxes[n][1] + boxes[n][3] / 2 for n in names)
        bottom = min(boxes[n][1] - boxes[n][3] / 2 for n in names)
        frames.append({"names": names, "left": left, "top": top, "w": right - left, "h": top - bottom})
    rows = _arrange([(f["w"], f["h"]) for f in frames], title_height)
    pos: dict[str, tuple[float, float]] = {}
    y0 = 0.0
    for row in rows:
        x0 = 0.0
        row_height = max(frames[i]["h"] for i in row)
        for i in row:
            f = frames[i]
            for n in f["names"]:
                x, y, _, _ = boxes[n]
                pos[n] = (x - f["left"] + x0, y - f["top"] + y0)
            x0 += f["w"] + COLUMN_GAP
        y0 -= row_height + ROW_GAP
    return pos
