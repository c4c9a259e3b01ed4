"""A chart as slides: a 16:9 PDF for a trainer's projector (`medtech flowchart J --slides`).

The first page is an overview: one box per stage (column) listing its steps, with the arrows
between stages as the chart has them. Then one page per stage: its steps as the chart draws them,
laid out top-down or left-right (whichever is read larger), with the stage's arrows kept: an
arrow from or to another stage ends at a box naming that stage (来自 ① … / 转到 ③ …). A stage too
long to be read at MIN_TEXT_PX on one page continues on the next (（续）).

Pages are SLIDE_PT (PowerPoint's 16:9, 13.333 × 7.5 in); each page's drawing is Graphviz's (vector,
cairo), scaled into the page by pypdf. `slide_pages` reports each page's smallest text in pixels
of a 1920 × 1080 screen, which the pages are built to keep at MIN_TEXT_PX or more.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import graphviz
import networkx as nx

from engine.flowchart.render import (
    _chart_spec,
    _edge_attrs,
    _html_lines,
    _node_style,
    _pipe,
    _quiet_split_edges,
    html_text,
    wrap,
)

SLIDE_PT = (960.0, 540.0)  # 16:9 in points
SCREEN_PX = (1920.0, 1080.0)
PX_PER_PT = SCREEN_PX[0] / SLIDE_PT[0]
MARGIN_PT = 18.0
MIN_TEXT_PX = 18.0
OVERVIEW_WRAPS = (11, 9, 8, 7)  # characters a line in the overview's boxes, widest first


@dataclass
class SlidePage:
    """One page: the drawing (Graphviz's PDF), its size in points, its scale into the page, its smallest text."""

    title: str
    pdf: bytes
    size: tuple[float, float]
    scale: float
    min_font_pt: float

    @property
    def min_text_px(self) -> float:
        """The smallest text on the page in pixels of a 1920 × 1080 screen."""
        return self.min_font_pt * self.scale * PX_PER_PT


def _page(title: str, source: str) -> SlidePage:
    """A page for a DOT source: drawn as PDF (its media box is the drawing's size), the smallest font
    size read from the same drawing as SVG (the same points)."""
    from pypdf import PdfReader

    pdf = _pipe(source, "pdf")
    box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    size = (float(box.width), float(box.height))
    fonts = [float(f) for f in re.findall(r'font-size="([\d.]+)"', _pipe(source, "svg").decode("utf-8"))]
    scale = min((SLIDE_PT[0] - 2 * MARGIN_PT) / size[0], (SLIDE_PT[1] - 2 * MARGIN_PT) / size[1])
    return SlidePage(title, pdf, size, scale, min(fonts) if fonts else 0.0)


def _label(title: str, subtitle: str) -> str:
    return (
        f'<<FONT POINT-SIZE="20"><B>{html_text(title)}</B></FONT><BR/>'
        f'<FONT POINT-SIZE="14" COLOR="#374151">{html_text(subtitle)}</FONT><BR/> >'
    )


def _graph(G: nx.DiGraph, spec: dict, name: str, label: str, rankdir: str) -> graphviz.Digraph:
    return graphviz.Digraph(
        name=name,
        graph_attr={
            "rankdir": rankdir,
            "fontname": spec["font"],
            "label": label,
            "labelloc": "t",
            "nodesep": "0.3",
            "ranksep": "0.45",
            "bgcolor": "white",
            "pad": "0.1",
            "charset": "UTF-8",
        },
        node_attr={"fontname": spec["font"], "fontsize": "12", "margin": "0.15,0.08"},
        edge_attr={"fontname": spec["font"], "fontsize": "11", "color": "#4b5563", "arrowsize": "0.9"},
    )


def _overview(G: nx.DiGraph, spec: dict) -> SlidePage:
    """The stages side by side, each listing its steps; lines as narrow as needed for the text to be read."""
    pages = []
    for width in OVERVIEW_WRAPS:
        pages.append(_overview_page(G, spec, width))
        if pages[-1].min_text_px >= MIN_TEXT_PX:
            break
    return max(pages, key=lambda p: p.min_text_px)


def _overview_page(G: nx.DiGraph, spec: dict, width: int) -> SlidePage:
    columns = list(G.graph["columns"])
    column_of = {n: d.get("column") for n, d in G.nodes(data=True)}
    dot = _graph(G, spec, "overview", _label(G.graph["title"], f"{G.graph['jurisdiction_name']} · 总览"), "LR")
    for i, col in enumerate(columns):
        steps = [d["lines"][0]["text"] for n, d in G.nodes(data=True) if column_of[n] == col["id"] and d.get("lines")]
        head = "<BR/>".join(html_text(x) for x in wrap(col["title"], width + 2))
        rows = [f'<TR><TD><FONT POINT-SIZE="15"><B>{head}</B></FONT></TD></TR>']
        for text in dict.fromkeys(steps):
            lines = "<BR/>".join(html_text(x) for x in wrap(text, width))
            rows.append(f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="12">· {lines}</FONT></TD></TR>')
        dot.node(
            f"col{i}",
            label='<<TABLE BORDER="0" CELLSPACING="1">' + "".join(rows) + "</TABLE>>",
            shape="box",
            style="rounded,filled",
            fillcolor="#f8fafc",
            color="#334155",
        )
    index = {c["id"]: i for i, c in enumerate(columns)}
    pairs = {(index[column_of[a]], index[column_of[b]]) for a, b in G.edges if column_of[a] != column_of[b]}
    for a, b in sorted(pairs):
        dot.edge(f"col{a}", f"col{b}", **({"constraint": "false", "style": "dashed"} if b < a else {}))
    for a, b in zip(range(len(columns)), range(1, len(columns)), strict=False):
        if (a, b) not in pairs:
            dot.edge(f"col{a}", f"col{b}", style="invis")
    return _page("总览", dot.source)


def _stage(G: nx.DiGraph, spec: dict, col: dict, members: list[str], part: str, rankdir: str) -> str:
    grey = spec["style"]["grey"]["font"]
    column_of = {n: d.get("column") for n, d in G.nodes(data=True)}
    titles = {c["id"]: c["title"] for c in G.graph.get("columns") or []}
    quiet = _quiet_split_edges(G)
    subtitle = f"{G.graph['jurisdiction_name']} · {col['title']}{part}"
    dot = _graph(G, spec, f"stage_{col['id']}".replace("-", "_"), _label(G.graph["title"], subtitle), rankdir)
    inside = set(members)
    for n in members:
        attrs = G.nodes[n]
        dot.node(
            n, label=_html_lines(attrs["lines"], spec, attrs.get("state") == "off", grey), **_node_style(attrs, spec)
        )
    stubs: dict[str, str] = {}

    def stub(key: str, text: str) -> str:
        if key not in stubs:
            stubs[key] = f"stub{len(stubs)}"
            dot.node(
                stubs[key],
                label=f'<<FONT POINT-SIZE="13" COLOR="#1f2937"><B>{html_text(text)}</B></FONT>>',
                shape="box",
                style="dashed,rounded",
                color="#64748b",
            )
        return stubs[key]

    for a, b, attrs in G.edges(data=True):
        if a not in inside and b not in inside:
            continue
        e = _edge_attrs(attrs, spec, grey, quiet=(a, b) in quiet)
        if a in inside and b in inside:
            dot.edge(a, b, **e)
        elif a in inside:
            where = titles[column_of[b]] if column_of[b] != col["id"] else "本阶段（续）"
            dot.edge(a, stub("to:" + where, f"转到 {where}"), **e)
        else:
            where = titles[column_of[a]] if column_of[a] != col["id"] else "本阶段（前页）"
            dot.edge(stub("from:" + where, f"来自 {where}"), b, **e)
    return dot.source


def _stage_pages(G: nx.DiGraph, spec: dict, col: dict) -> list[SlidePage]:
    members = [n for n, d in G.nodes(data=True) if d.get("column") == col["id"]]
    parts = 1
    while True:
        size = -(-len(members) // parts)
        chunks = [members[i : i + size] for i in range(0, len(members), size)]
        pages = []
        for k, chunk in enumerate(chunks):
            part = "" if len(chunks) == 1 else f"（{k + 1}/{len(chunks)}）"
            options = [_page(col["title"] + part, _stage(G, spec, col, chunk, part, r)) for r in ("TB", "LR")]
            pages.append(max(options, key=lambda p: p.scale))
        if all(p.min_text_px >= MIN_TEXT_PX for p in pages) or size == 1:
            return pages
        parts += 1


def slide_pages(G: nx.DiGraph) -> list[SlidePage]:
    """The overview and the stages' pages of a chart with columns; a chart without columns is one stage."""
    spec = _chart_spec(G)
    if not G.graph.get("columns"):  # one stage: the whole chart, on as many pages as it needs
        return _stage_pages(G, spec, {"id": None, "title": "全流程"})
    pages = [_overview(G, spec)]
    for col in G.graph["columns"]:
        pages += _stage_pages(G, spec, col)
    return pages


def to_slides_pdf(G: nx.DiGraph) -> bytes:
    """The chart as a 16:9 PDF, one slide a page (see the module docstring)."""
    from pypdf import PageObject, PdfReader, PdfWriter, Transformation

    writer = PdfWriter()
    for page in slide_pages(G):
        drawing = PdfReader(io.BytesIO(page.pdf)).pages[0]
        (w, h), scale = page.size, page.scale
        slide = PageObject.create_blank_page(width=SLIDE_PT[0], height=SLIDE_PT[1])
        dx = (SLIDE_PT[0] - w * scale) / 2 - float(drawing.mediabox.left) * scale
        dy = (SLIDE_PT[1] - h * scale) / 2 - float(drawing.mediabox.bottom) * scale
        slide.merge_transformed_page(drawing, Transformation().scale(scale, scale).translate(dx, dy))
        writer.add_page(slide)
    writer.add_metadata({"/Title": f"{G.graph['jurisdiction_name']} · {G.graph['title']}"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
