"""Render a flowchart graph (engine.flowchart.build) as DOT, SVG, PNG or Mermaid.

Every text reaching DOT goes into an HTML-like label through `html_text` (html.escape plus
backslashes and control characters), and every text reaching Mermaid through `mermaid_text`
(entity codes such as #quot;), so a name full of quotes, brackets, pipes or HTML renders as
text. Output is deterministic: nodes and edges in graph order, no timestamps.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Any

import graphviz
import networkx as nx

from engine.flowchart import dotexe
from engine.flowchart.build import load_spec
from engine.textsafe import printable

FORMATS = ("svg", "png", "pdf", "dot", "mermaid")
PNG_DPI = 110

# sizes and colours of the label line styles
_LINE_STYLE: dict[str, dict[str, Any]] = {
    "title": {"size": 13, "bold": True, "color": None, "wrap": "wrap"},
    "text": {"size": 11, "bold": False, "color": None, "wrap": "wrap"},
    "qualifier": {"size": 10, "bold": False, "color": "#6d28d9", "wrap": "wrap"},
    "item": {"size": 10, "bold": False, "color": None, "wrap": "wrap_small", "align": "LEFT"},
    "deadline": {"size": 11, "bold": True, "color": "#9a3412", "wrap": "wrap"},
    "provisions": {"size": 10, "bold": False, "color": "#4b5563", "wrap": "wrap"},
    "highlight": {"size": 11, "bold": True, "color": "#b91c1c", "wrap": "wrap"},
    "branch": {"size": 11, "bold": True, "color": None, "wrap": "wrap"},
    "legend": {"size": 9, "bold": False, "color": None, "wrap": "wrap"},
}
_NO_LINE_START = set("，。、；：？！）》」』”’〕】…·,.;:?!)]}%项")  # 项: 第（三）项 stays whole
# a line may break only between words: after punctuation, a closing bracket or a function word,
# before an opening bracket; never inside a quoted title, a document number or a run of digits
_TOKEN = re.compile(
    r"[\u4e00-\u9fff]{1,4}〔\d{4}〕\d+号|“[^”]{1,16}”|《[^》]{1,30}》|[A-Za-z0-9][A-Za-z0-9.\-/]*|.", re.S
)
_WORD_END = set("、，；：。/ 的和与）》”")
_WORD_START = set("（《“")
# provision labels (第十一条第一款第（三）项) also break after 条, 款 and 项
_PROVISION_END = set("条款项")
_ITEM_NUMBER = re.compile(r"^\d+\.$")
_NO_LINE_END = set("（《〔【「『“‘([{")
_BREAK_AFTER = set("、，；： ")


# --------------------------------------------------------------------------- text


def _width(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _tokens(text: str, extra_ends: frozenset | set = frozenset()) -> list[str]:
    """Words: runs of text between the places a line may break (after 、，；： and closing
    brackets, after 的/和/与, before opening brackets). Quoted titles (《湖南省…备案表》),
    document numbers (渝卫发〔2019〕61号) and ASCII runs are never split; a word longer than a
    line stays whole (the box grows) rather than break inside a name."""
    words: list[str] = []
    cur = ""
    ends = _WORD_END | set(extra_ends)
    for piece in _TOKEN.findall(text):
        # an item number (1. …), a document number and its provision (…11号 二、), 第（三）项 stay together
        if (
            cur
            and (piece[0] in _WORD_START or piece == " ")
            and not _ITEM_NUMBER.match(cur)
            and not cur.endswith(("第", "号"))
        ):
            words.append(cur)
            cur = ""
        cur += piece
        if (
            piece[-1] in ends
            and len(piece) == 1
            and not (piece == " " and cur.endswith("号 "))
            or piece[-1] in "》”"
            or cur.endswith("日起")
        ):
            words.append(cur)
            cur = ""
    if cur:
        words.append(cur)
    return words


def _greedy(tokens: list[str], max_units: int) -> list[str]:
    lines: list[str] = []
    cur: list[str] = []
    units = 0
    for tok in tokens:
        w = sum(_width(c) for c in tok)
        # a long word joins a short lead-in (期限：…, 2. …) rather than leave it alone on a line
        if (
            cur
            and units + w > max_units
            and tok[0] not in _NO_LINE_START
            and not (w * 2 > max_units and units * 4 <= max_units)
        ):
            # prefer to break after a separator in the second half of the line, and never
            # right after an opening bracket
            cut = len(cur)
            for i in range(len(cur) - 1, 0, -1):
                if cur[i - 1] in _BREAK_AFTER and sum(_width(c) for t in cur[:i] for c in t) * 2 >= max_units:
                    cut = i
                    break
            while cut > 1 and cur[cut - 1] in _NO_LINE_END:
                cut -= 1
            lines.append("".join(cur[:cut]).rstrip())
            cur = [t for t in cur[cut:]]
            if cur == [" "]:
                cur = []
            units = sum(_width(c) for t in cur for c in t)
            if not cur and tok == " ":
                continue
        cur.append(tok)
        units += w
    if cur or not lines:
        lines.append("".join(cur))
    return lines


def wrap(text: str, limit: int, extra_ends: frozenset | set = frozenset()) -> list[str]:
    """Wrap at about `limit` CJK characters (an ASCII character counts half), in lines of
    even length, only between words (see `_tokens`): a closing mark never starts a line, an
    opening one never ends it."""
    text = clean(text).strip()
    tokens = _tokens(text, extra_ends)
    max_units = max(2, limit * 2)
    lines = _greedy(tokens, max_units)
    if len(lines) > 1:
        total = sum(_width(c) for c in text)
        target = max(-(-total // len(lines)) + 2, 4)
        for units in range(target, max_units, 2):
            balanced = _greedy(tokens, units)
            if len(balanced) == len(lines):
                lines = balanced
                break
    return lines


def clean(text) -> str:
    """Text without control characters, line breaks or noncharacters (which XML, hence Graphviz's
    HTML-like labels and SVG, refuses)."""
    return printable(str(text if text is not None else ""))


def html_text(text) -> str:
    """Text made safe for a Graphviz HTML-like label."""
    return html.escape(clean(text), quote=True).replace("\\", "&#92;")


_MERMAID_CODES = {'"': "#quot;", "#": "#35;", "&": "#amp;", "<": "#lt;", ">": "#gt;"}
_MERMAID_NUMERIC = set("[]{}()|\\`;*_~=%:")


def mermaid_text(text) -> str:
    """Text made safe inside a quoted Mermaid label: every character Mermaid could read as
    syntax becomes an entity code (#quot;, #35; ...)."""
    out = []
    for ch in clean(text):
        if ch in _MERMAID_CODES:
            out.append(_MERMAID_CODES[ch])
        elif ch in _MERMAID_NUMERIC:
            out.append(f"#{ord(ch)};")
        else:
            out.append(ch)
    return "".join(out)


# --------------------------------------------------------------------------- DOT


def _wrap_limit(spec: dict, key: str) -> int:
    return spec.get(key) or spec["wrap"]


def _ends(style: str) -> set:
    return _PROVISION_END if style == "provisions" else set()


def _html_lines(lines: list[dict], spec: dict, grey: bool, font_grey: str) -> str:
    parts: list[str] = []
    for line in lines:
        st = _LINE_STYLE.get(line["style"], _LINE_STYLE["text"])
        align = st.get("align", "CENTER")
        for piece in wrap(line["text"], _wrap_limit(spec, st["wrap"]), _ends(line["style"])):
            t = html_text(piece)
            if st["bold"]:
                t = f"<B>{t}</B>"
            color = font_grey if grey else st["color"]
            attrs = f' POINT-SIZE="{st["size"]}"' + (f' COLOR="{color}"' if color else "")
            parts.append(f'<FONT{attrs}>{t}</FONT><BR ALIGN="{align}"/>')
    return "<" + "".join(parts) + ">"


# per node look (a key of the chart spec's `style`): graphviz attributes besides its fill and border
_LOOKS = {
    "decision": {"shape": "diamond", "style": "filled", "margin": "0.05"},
    "terminal": {"shape": "oval", "style": "filled"},
    "milestone": {"shape": "parallelogram", "style": "filled"},
    "authority": {"shape": "box", "style": "filled", "penwidth": "1.6"},
    "institution": {"shape": "box", "style": "rounded,filled", "penwidth": "1.2"},
}


def _look(attrs: dict) -> str:
    kind = attrs["kind"]
    if kind == "decision":
        return "decision"
    if kind in ("start", "end"):
        return "terminal"
    if kind == "milestone":
        return "milestone"
    return "authority" if attrs.get("actor") == "authority" else "institution"


def _node_style(attrs: dict, spec: dict) -> dict:
    st = spec["style"]
    look = _look(attrs)
    s = dict(_LOOKS[look], fillcolor=st[look]["fill"], color=st[look]["border"])
    state = attrs.get("state")
    if state == "on":
        s.update({"color": st["highlight"]["border"], "penwidth": "3.5"})
    elif state == "off":
        s.update(
            {
                "fillcolor": st["grey"]["fill"],
                "color": st["grey"]["border"],
                "fontcolor": st["grey"]["font"],
                "penwidth": "1",
            }
        )
    return s


def _title_html(G: nx.DiGraph, spec: dict) -> str:
    """Title, case, subtitle and the legend (coloured samples, then the abbreviations), as one
    HTML table above the chart: the legend takes no rank of the layout."""
    rows = [f'<TR><TD><FONT POINT-SIZE="22"><B>{html_text(G.graph["title"])}</B></FONT></TD></TR>']
    for line in G.graph.get("case_lines", []):
        rows.append(f'<TR><TD><FONT POINT-SIZE="15" COLOR="#b91c1c"><B>{html_text(line)}</B></FONT></TD></TR>')
    rows.append(f'<TR><TD><FONT POINT-SIZE="13" COLOR="#374151">{html_text(G.graph["subtitle"])}</FONT></TD></TR>')
    cells = []
    for text, attrs in _legend_items(G, spec):
        style = _node_style(attrs, spec)
        colour = style.get("color", "#374151")
        font = f' COLOR="{spec["style"]["grey"]["font"]}"' if attrs.get("state") == "off" else ""
        border = "3" if attrs.get("state") == "on" else "1"
        cells.append(
            f'<TD BGCOLOR="{style["fillcolor"]}" COLOR="{colour}" BORDER="{border}" CELLPADDING="4">'
            f'<FONT POINT-SIZE="11"{font}>{html_text(text)}</FONT></TD>'
        )
    notes = list(spec.get("legend_notes", [])) + list(G.graph.get("document_notes", []))
    legend = (
        f'<TABLE BORDER="0" CELLSPACING="6"><TR><TD><FONT POINT-SIZE="11"><B>{html_text("图例")}</B></FONT></TD>'
        + "".join(cells)
        + "</TR></TABLE>"
    )
    rows.append(f"<TR><TD>{legend}</TD></TR>")
    if notes:
        text = "<BR/>".join(f'<FONT POINT-SIZE="10" COLOR="#374151">{html_text(n)}</FONT>' for n in notes)
        rows.append(f"<TR><TD>{text}</TD></TR>")
    return '<<TABLE BORDER="0" CELLSPACING="2" CELLPADDING="1">' + "".join(rows) + "</TABLE>>"


def _legend_items(G: nx.DiGraph, spec: dict) -> list[tuple[str, dict]]:
    """(text, sample node attributes) for each kind of box the chart shows."""
    st = spec["style"]
    items = [
        ("legend_institution", st["institution"]["legend"], {"kind": "step", "actor": "institution"}),
        ("legend_authority", st["authority"]["legend"], {"kind": "step", "actor": "authority"}),
        ("legend_decision", st["decision"]["legend"], {"kind": "decision"}),
        ("legend_milestone", st["milestone"]["legend"], {"kind": "milestone"}),
        ("legend_terminal", st["terminal"]["legend"], {"kind": "start"}),
    ]
    present = {
        ("step", d.get("actor"))
        if d["kind"] == "step"
        else (("start",) if d["kind"] in ("start", "end") else (d["kind"],))
        for _, d in G.nodes(data=True)
    }
    items = [
        it for it in items if (("step", it[2]["actor"]) if it[2]["kind"] == "step" else (it[2]["kind"],)) in present
    ]
    if G.graph.get("highlighted"):
        items += [
            ("legend_on", st["highlight"]["legend"], {"kind": "step", "actor": "institution", "state": "on"}),
            ("legend_off", st["grey"]["legend"], {"kind": "step", "actor": "institution", "state": "off"}),
        ]
    return [(text, attrs) for _, text, attrs in items]


def _chart_spec(G: nx.DiGraph) -> dict:
    """The skeleton file's settings with the chart's own label widths (a landscape chart wraps
    narrower so that it fits a slide's width)."""
    spec = load_spec()
    chart = spec["charts"].get(G.graph.get("chart"), {})
    return {**spec, **{k: chart[k] for k in ("wrap", "wrap_small") if k in chart}}


def _edge_attrs(attrs: dict, spec: dict, grey_font: str, quiet: bool = False) -> dict:
    e: dict = {}
    parts = []
    if attrs.get("label") and not quiet:
        parts.append(
            {"text": attrs["label"], "style": "branch" if attrs.get("class") or attrs.get("events") else "text"}
        )
    if attrs.get("provisions_text"):
        parts.append({"text": "依据：" + attrs["provisions_text"], "style": "provisions"})
    state = attrs.get("state")
    if parts:
        e["label"] = _html_lines(parts, {**spec, "wrap": 10, "wrap_small": 14}, state == "off", grey_font)
    if attrs.get("loop"):
        e.update({"style": "dashed", "constraint": "false"})
    if state == "on":
        e.update({"color": spec["style"]["highlight"]["border"], "penwidth": "3"})
    elif state == "through":
        # the case passes a step that is not (yet) its own, e.g. the authority's: still one red path
        e.update({"color": spec["style"]["highlight"]["border"], "penwidth": "3", "style": "dashed"})
    elif state == "off":
        e.update({"color": spec["style"]["grey"]["border"]})
    return e


def _title_height(G: nx.DiGraph, spec: dict) -> float:
    notes = len(spec.get("legend_notes", [])) + len(G.graph.get("document_notes", []))
    return 110.0 + 20.0 * len(G.graph.get("case_lines", [])) + 14.0 * notes


def to_dot(G: nx.DiGraph, dpi: int | None = None, page: str = "slide") -> str:
    """The chart as DOT source (HTML-like labels, deterministic); `dpi` only for bitmaps.

    A chart with columns gets fixed node positions and the edges inside each column as dot drew
    them (engine.flowchart.layout); `layout=nop2` keeps those and routes the edges between
    columns. Any other chart is laid out by dot."""
    spec = _chart_spec(G)
    font = spec["font"]
    grey_font = spec["style"]["grey"]["font"]
    name = f"{G.graph['jurisdiction']}_{G.graph['chart']}".replace("-", "_")
    node_attr = {"fontname": font, "fontsize": "11", "margin": "0.15,0.08"}
    edge_attr = {"fontname": font, "fontsize": "10", "color": "#4b5563", "arrowsize": "0.8"}
    graph_attr = {
        "rankdir": "TB",
        "fontname": font,
        "label": _title_html(G, spec),
        "labelloc": "t",
        "labeljust": "c",
        "nodesep": "0.3",
        "ranksep": "0.4",
        "bgcolor": "white",
        "pad": "0.3",
        "charset": "UTF-8",
    }
    columns = list(G.graph.get("columns") or [])

    def add_nodes(target, names, pos=None):
        for nid in names:
            attrs = G.nodes[nid]
            style = _node_style(attrs, spec)
            if pos:
                style["pos"] = _pin(pos[nid])
            target.node(nid, label=_html_lines(attrs["lines"], spec, attrs.get("state") == "off", grey_font), **style)

    if not columns:
        dot = graphviz.Digraph(
            name=name,
            graph_attr={**graph_attr, **({"dpi": str(dpi)} if dpi else {})},
            node_attr=node_attr,
            edge_attr=edge_attr,
        )
        add_nodes(dot, list(G.nodes))
        for a, b, attrs in G.edges(data=True):
            dot.edge(a, b, **_edge_attrs(attrs, spec, grey_font))
        return dot.source

    # 1. each column on its own (see _column_sources)
    column_of = {n: d.get("column") for n, d in G.nodes(data=True)}
    sources, members, titles = _column_sources(G, spec)
    quiet = _quiet_split_edges(G)
    from engine.flowchart.layout import A4, SLIDE, column_positions

    pos, drawn = column_positions(
        sources, columns, members, titles, _title_height(G, spec), A4 if page == "a4" else SLIDE
    )

    # 2. the chart: nodes pinned where step 1 put them, every edge routed around them
    dot = graphviz.Digraph(
        name=name,
        node_attr=node_attr,
        edge_attr=edge_attr,
        graph_attr={**graph_attr, "layout": "nop2", "splines": "curved", **({"dpi": str(dpi)} if dpi else {})},
    )
    for col in columns:
        x, y = pos[titles[col["id"]]]
        dot.node(titles[col["id"]], label=_column_title(col["title"]), shape="plain", pos=_pin((x, y)))
        add_nodes(dot, members[col["id"]], pos)
    title_of = {n: titles[column_of[n]] for n in G.nodes}
    for a, b, attrs in G.edges(data=True):
        e = _edge_attrs(attrs, spec, grey_font, quiet=(a, b) in quiet)
        e.update(drawn.get((a, b), {}))
        if (a, b) not in drawn and column_of[a] != column_of[b] and not attrs.get("loop"):
            (xa, ya), (xb, yb) = pos[title_of[a]], pos[title_of[b]]
            if abs(ya - yb) < 1 and xb > xa:
                # to a column on the right: out of the right side, into the left side
                e.update({"tailport": "e", "headport": "w"})
            elif yb < ya:
                # to a column of the next row: out of the bottom, into the top
                e.update({"tailport": "s", "headport": "n"})
        dot.edge(a, b, **e)
    return dot.source


def _column_sources(G: nx.DiGraph, spec: dict) -> tuple[dict[str, str], dict[str, list[str]], dict[str, str]]:
    """A DOT graph per column (its title, its nodes, its own edges; several first nodes - the
    nodes of a split step, 材料不全 / 材料齐全 - one below the other), the column's nodes, and
    the name of its title node."""
    grey_font = spec["style"]["grey"]["font"]
    name = f"{G.graph['jurisdiction']}_{G.graph['chart']}".replace("-", "_")
    node_attr = {"fontname": spec["font"], "fontsize": "11", "margin": "0.15,0.08"}
    edge_attr = {"fontname": spec["font"], "fontsize": "10", "color": "#4b5563", "arrowsize": "0.8"}
    columns = list(G.graph["columns"])

    def add_nodes(target, names):
        for nid in names:
            attrs = G.nodes[nid]
            target.node(
                nid,
                label=_html_lines(attrs["lines"], spec, attrs.get("state") == "off", grey_font),
                **_node_style(attrs, spec),
            )

    column_of = {n: d.get("column") for n, d in G.nodes(data=True)}
    members = {c["id"]: [n for n in G.nodes if column_of[n] == c["id"]] for c in columns}
    titles = {c["id"]: f"column_{i}" for i, c in enumerate(columns)}
    quiet = _quiet_split_edges(G)
    sources: dict[str, str] = {}
    for col in columns:
        cid = col["id"]
        lay = graphviz.Digraph(
            name=f"{name}_{cid}".replace("-", "_"),
            graph_attr={"rankdir": "TB", "nodesep": "0.3", "ranksep": "0.4"},
            node_attr=node_attr,
            edge_attr=edge_attr,
        )
        lay.node(titles[cid], label=_column_title(col["title"]), shape="plain")
        add_nodes(lay, members[cid])
        heads = [n for n in members[cid] if not any(column_of[p] == cid for p in G.predecessors(n))]
        splits = [n for n in members[cid] if G.nodes[n].get("split_addressee")]
        if heads:
            lay.edge(titles[cid], heads[0], style="invis")
        stacked = list(zip(heads, heads[1:], strict=False))
        stacked += [
            (n2, n)
            for n in members[cid]
            for n2 in members[cid]
            if G.nodes[n].get("below") and G.nodes[n2].get("step") == G.nodes[n]["below"]
        ]
        stacked += [
            (a, b)
            for a, b in zip(splits, splits[1:], strict=False)
            if G.nodes[a]["step"] == G.nodes[b]["step"] and (a, b) not in stacked
        ]
        for a, b, attrs in G.edges(data=True):
            if column_of[a] == cid and column_of[b] == cid and not attrs.get("loop"):
                lay.edge(a, b, **_edge_attrs(attrs, spec, grey_font, quiet=(a, b) in quiet))
        for a, b in stacked:
            if not G.has_edge(a, b):
                lay.edge(a, b, style="invis")
        sources[cid] = lay.source
    return sources, members, titles


def _quiet_split_edges(G: nx.DiGraph) -> set[tuple[str, str]]:
    """Edges of the second and later nodes of a split step whose label the first node's edge
    already shows (材料不全, 补齐后重新提交 ...): drawn, but without the repeated label."""
    first: dict[str, str] = {}
    for n, d in G.nodes(data=True):
        if d.get("split_addressee"):
            first.setdefault(d["step"], n)
    out = set()
    for a, b in G.edges:
        for n, other in ((a, b), (b, a)):
            step = G.nodes[n].get("step")
            if (
                G.nodes[n].get("split_addressee")
                and first.get(step) != n
                and G.has_edge(*((first[step], other) if n == a else (other, first[step])))
            ):
                out.add((a, b))
    return out


def _pin(xy: tuple[float, float]) -> str:
    """A fixed position in points (layout=nop2)."""
    return f"{xy[0]:.1f},{xy[1]:.1f}!"


def _column_title(text: str) -> str:
    return f'<<FONT POINT-SIZE="15" COLOR="#1f2937"><B>{html_text(text)}</B></FONT>>'


def _pipe(source: str, fmt: str) -> bytes:
    if fmt == "png":
        # drawn by cairo (anti-aliased, pango text), written by gd as a palette PNG: the same
        # picture as cairo's own PNG writer at about a third of the time and size
        return dotexe.pipe("png", source.encode("utf-8"), renderer="cairo", formatter="gd")
    return dotexe.pipe(fmt, source.encode("utf-8"))


def to_svg(G: nx.DiGraph) -> str:
    return _pipe(to_dot(G), "svg").decode("utf-8")


def to_png(G: nx.DiGraph) -> bytes:
    # resolution for slides: only the bitmap gets it, the DOT and SVG stay at 72 points per inch
    return _pipe(to_dot(G, dpi=PNG_DPI), "png")


def page_graphs(G: nx.DiGraph) -> list[nx.DiGraph]:
    """The chart cut into A4 pages: one graph per group of columns that fits a sheet at a readable
    size (engine.flowchart.layout.page_groups), each with the title, the legend and its page number;
    [G] for a chart without columns or one that fits one page."""
    groups = _page_groups(G)
    if len(groups) <= 1:
        return [G]
    out = []
    for i, ids in enumerate(groups, 1):
        # in G's order (a subgraph view would iterate a set: another order in every process)
        H = nx.DiGraph()
        H.add_nodes_from((n, d) for n, d in G.nodes(data=True) if d.get("column") in ids)
        H.add_edges_from((a, b, d) for a, b, d in G.edges(data=True) if a in H and b in H)
        H.graph.update(G.graph)
        H.graph["columns"] = [c for c in G.graph["columns"] if c["id"] in ids]
        H.graph["subtitle"] = f"{G.graph['subtitle']} · 第{i}页，共{len(groups)}页"
        out.append(H)
    return out


def to_a4_svgs(G: nx.DiGraph) -> list[str]:
    """The chart's A4 pages (see page_graphs) as SVG, for a printed answer."""
    return [_pipe(to_dot(H, page="a4"), "svg").decode("utf-8") for H in page_graphs(G)]


def to_pdf(G: nx.DiGraph) -> bytes:
    """The chart as a PDF to print on A4: a chart with columns gets one page per group of
    columns that fits a sheet at a readable size (page_graphs), each page with the title, the
    legend and its columns' numbers (①② …); any other chart is one page. Vector pages drawn by
    Graphviz (cairo), joined by pypdf."""
    pages = page_graphs(G)
    if len(pages) == 1:
        return _pipe(to_dot(G, page="a4"), "pdf")
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for H in pages:
        for page in PdfReader(io.BytesIO(_pipe(to_dot(H, page="a4"), "pdf"))).pages:
            writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _page_groups(G: nx.DiGraph) -> list[list[str]]:
    columns = list(G.graph.get("columns") or [])
    if not columns:
        return []
    spec = _chart_spec(G)
    sources, members, titles = _column_sources(G, spec)
    from engine.flowchart.layout import page_groups

    return page_groups(sources, columns, members, titles, _title_height(G, spec))


# --------------------------------------------------------------------------- Mermaid


def _mermaid_id(nid: str) -> str:
    return "n_" + re.sub(r"[^A-Za-z0-9_]", "_", nid)


def _mermaid_label(lines: list[dict], spec: dict) -> str:
    out = []
    for line in lines:
        st = _LINE_STYLE.get(line["style"], _LINE_STYLE["text"])
        pieces = [mermaid_text(p) for p in wrap(line["text"], _wrap_limit(spec, st["wrap"]), _ends(line["style"]))]
        text = "<br/>".join(pieces)
        if st["bold"]:
            text = f"<b>{text}</b>"
        if line["style"] in ("provisions", "item", "qualifier"):
            text = f"<small>{text}</small>"
        out.append(text)
    return "<br/>".join(out)


def to_mermaid(G: nx.DiGraph) -> str:
    """The chart as a Mermaid flowchart (quoted labels, entity-coded text)."""
    spec = _chart_spec(G)
    st = spec["style"]
    ids: dict[str, str] = {}
    for nid in G.nodes:
        mid = _mermaid_id(nid)
        while mid in ids.values():
            mid += "_"
        ids[nid] = mid
    out = ["flowchart TD"]
    title = [{"text": G.graph["title"], "style": "title"}]
    title += [{"text": t, "style": "highlight"} for t in G.graph.get("case_lines", [])]
    title += [{"text": G.graph["subtitle"], "style": "text"}]
    out.append(f'  chart_title["{_mermaid_label(title, {**spec, "wrap": 40})}"]')
    shapes = {"decision": ('{"', '"}'), "start": ('(["', '"])'), "end": ('(["', '"])'), "milestone": ('[/"', '"/]')}
    for nid, attrs in G.nodes(data=True):
        if attrs["kind"] in shapes:
            o, c = shapes[attrs["kind"]]
        elif attrs.get("actor") == "authority":
            o, c = ('["', '"]')
        else:
            o, c = ('("', '")')
        out.append(f"  {ids[nid]}{o}{_mermaid_label(attrs['lines'], spec)}{c}")
    first = next(iter(G.nodes), None)
    if first is not None:
        out.append(f"  chart_title ~~~ {ids[first]}")
    link_styles = []
    for i, (a, b, attrs) in enumerate(G.edges(data=True)):
        parts = []
        if attrs.get("label"):
            parts.append({"text": attrs["label"], "style": "text"})
        if attrs.get("provisions_text"):
            parts.append({"text": "依据：" + attrs["provisions_text"], "style": "provisions"})
        arrow = "-.->" if attrs.get("loop") else "-->"
        label = f'|"{_mermaid_label(parts, {**spec, "wrap": 10, "wrap_small": 14})}"|' if parts else ""
        out.append(f"  {ids[a]} {arrow}{label} {ids[b]}")
        if attrs.get("state") == "on":
            link_styles.append(f"  linkStyle {i + 1} stroke:{st['highlight']['border']},stroke-width:3px")
        elif attrs.get("state") == "through":
            link_styles.append(
                f"  linkStyle {i + 1} stroke:{st['highlight']['border']},stroke-width:3px,stroke-dasharray:6"
            )
        elif attrs.get("state") == "off":
            link_styles.append(f"  linkStyle {i + 1} stroke:{st['grey']['border']}")
    out += link_styles
    out.append(
        f"  classDef institution fill:{st['institution']['fill']},stroke:{st['institution']['border']},color:#111827"
    )
    out.append(
        f"  classDef authority fill:{st['authority']['fill']},stroke:{st['authority']['border']},stroke-width:2px,color:#111827"
    )
    out.append(f"  classDef decision fill:{st['decision']['fill']},stroke:{st['decision']['border']},color:#111827")
    out.append(f"  classDef milestone fill:{st['milestone']['fill']},stroke:{st['milestone']['border']},color:#111827")
    out.append(f"  classDef terminal fill:{st['terminal']['fill']},stroke:{st['terminal']['border']},color:#111827")
    out.append(f"  classDef on stroke:{st['highlight']['border']},stroke-width:4px")
    out.append(f"  classDef off fill:{st['grey']['fill']},stroke:{st['grey']['border']},color:{st['grey']['font']}")
    out.append("  classDef title fill:#ffffff,stroke:#ffffff")
    out.append("  class chart_title title")
    groups: dict[str, list[str]] = {}
    for nid, attrs in G.nodes(data=True):
        kind = attrs["kind"]
        cls = (
            {"decision": "decision", "milestone": "milestone", "start": "terminal", "end": "terminal"}.get(kind)
            or attrs.get("actor")
            or "institution"
        )
        groups.setdefault(cls, []).append(ids[nid])
        if attrs.get("state") in ("on", "off"):
            groups.setdefault(attrs["state"], []).append(ids[nid])
    for cls in ("institution", "authority", "decision", "milestone", "terminal", "on", "off"):
        if groups.get(cls):
            out.append(f"  class {','.join(groups[cls])} {cls}")
    return "\n".join(out) + "\n"


def render(G: nx.DiGraph, fmt: str) -> bytes | str:
    """`svg`, `dot` and `mermaid` as text, `png` and `pdf` as bytes."""
    if fmt == "dot":
        return to_dot(G)
    if fmt == "svg":
        return to_svg(G)
    if fmt == "png":
        return to_png(G)
    if fmt == "mermaid":
        return to_mermaid(G)
    if fmt == "pdf":
        return to_pdf(G)
    raise ValueError(f"unknown format {fmt!r} (supported: {', '.join(FORMATS)})")
