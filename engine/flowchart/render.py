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

from engine.flowchart.build import load_spec

FORMATS = ("svg", "png", "dot", "mermaid")
PNG_DPI = 110

# sizes and colours of the label line styles
_LINE_STYLE: dict[str, dict[str, Any]] = {
    "title": {"size": 13, "bold": True, "color": None, "wrap": "wrap"},
    "text": {"size": 11, "bold": False, "color": None, "wrap": "wrap"},
    "qualifier": {"size": 10, "bold": False, "color": "#6d28d9", "wrap": "wrap"},
    "item": {"size": 10, "bold": False, "color": None, "wrap": "wrap_small", "align": "LEFT"},
    "deadline": {"size": 11, "bold": True, "color": "#9a3412", "wrap": "wrap"},
    "provisions": {"size": 9, "bold": False, "color": "#4b5563", "wrap": "wrap_small"},
    "highlight": {"size": 11, "bold": True, "color": "#b91c1c", "wrap": "wrap"},
    "branch": {"size": 11, "bold": True, "color": None, "wrap": "wrap"},
    "legend": {"size": 9, "bold": False, "color": None, "wrap": "wrap"},
}
_NO_LINE_START = set("，。、；：？！）》」』”’〕】…·,.;:?!)]}%")
_TOKEN = re.compile(r"[\u4e00-\u9fff]{1,4}〔\d{4}〕\d+号|“[^”]{1,10}”|《[^》]{1,12}》|[A-Za-z0-9][A-Za-z0-9.\-/]*|.", re.S)
_NO_LINE_END = set("（《〔【「『“‘([{")
_BREAK_AFTER = set("、，；： ")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


# --------------------------------------------------------------------------- text

def _width(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _tokens(text: str) -> list[str]:
    """Characters, except that these stay together: runs of ASCII letters and digits, short
    quoted terms (“一网通办”, 《办法》) and document numbers (渝卫发〔2019〕61号)."""
    return _TOKEN.findall(text)


def _greedy(tokens: list[str], max_units: int) -> list[str]:
    lines: list[str] = []
    cur: list[str] = []
    units = 0
    for tok in tokens:
        w = sum(_width(c) for c in tok)
        if cur and units + w > max_units and tok[0] not in _NO_LINE_START:
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


def wrap(text: str, limit: int) -> list[str]:
    """Wrap at about `limit` CJK characters (an ASCII character counts half), in lines of
    even length; a closing mark never starts a line, an opening one never ends it, and a
    break after 、，；or a space is preferred."""
    text = clean(text).strip()
    tokens = _tokens(text)
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
    """Text without control characters or line breaks."""
    return _CONTROL.sub(" ", str(text if text is not None else "").replace("\r", " ").replace("\n", " "))


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


def _html_lines(lines: list[dict], spec: dict, grey: bool, font_grey: str) -> str:
    parts: list[str] = []
    for line in lines:
        st = _LINE_STYLE.get(line["style"], _LINE_STYLE["text"])
        align = st.get("align", "CENTER")
        for piece in wrap(line["text"], _wrap_limit(spec, st["wrap"])):
            t = html_text(piece)
            if st["bold"]:
                t = f"<B>{t}</B>"
            color = font_grey if grey else st["color"]
            attrs = f' POINT-SIZE="{st["size"]}"' + (f' COLOR="{color}"' if color else "")
            parts.append(f"<FONT{attrs}>{t}</FONT><BR ALIGN=\"{align}\"/>")
    return "<" + "".join(parts) + ">"


def _node_style(attrs: dict, spec: dict) -> dict:
    st = spec["style"]
    kind = attrs["kind"]
    if kind == "decision":
        s = {"shape": "diamond", "style": "filled", "fillcolor": st["decision"]["fill"], "color": st["decision"]["border"], "margin": "0.05"}
    elif kind in ("start", "end"):
        s = {"shape": "oval", "style": "filled", "fillcolor": st["terminal"]["fill"], "color": st["terminal"]["border"]}
    elif kind == "milestone":
        s = {"shape": "parallelogram", "style": "filled", "fillcolor": st["milestone"]["fill"], "color": st["milestone"]["border"]}
    elif attrs.get("actor") == "authority":
        s = {"shape": "box", "style": "filled", "fillcolor": st["authority"]["fill"], "color": st["authority"]["border"], "penwidth": "1.6"}
    else:
        s = {"shape": "box", "style": "rounded,filled", "fillcolor": st["institution"]["fill"], "color": st["institution"]["border"], "penwidth": "1.2"}
    state = attrs.get("state")
    if state == "on":
        s.update({"color": st["highlight"]["border"], "penwidth": "3.5"})
    elif state == "off":
        s.update({"fillcolor": st["grey"]["fill"], "color": st["grey"]["border"], "fontcolor": st["grey"]["font"], "penwidth": "1"})
    return s


def _title_html(G: nx.DiGraph, spec: dict) -> str:
    parts = [f'<FONT POINT-SIZE="20"><B>{html_text(G.graph["title"])}</B></FONT>']
    for line in G.graph.get("case_lines", []):
        parts.append(f'<FONT POINT-SIZE="14" COLOR="#b91c1c"><B>{html_text(line)}</B></FONT>')
    parts.append(f'<FONT POINT-SIZE="12" COLOR="#374151">{html_text(G.graph["subtitle"])}</FONT>')
    return "<" + "<BR/>".join(parts) + ">"


def _legend(dot: graphviz.Digraph, G: nx.DiGraph, spec: dict) -> None:
    """A row of sample shapes and an explanation of the abbreviations, in a dashed box at the top."""
    st = spec["style"]
    font = spec["font"]
    items = [
        ("legend_institution", st["institution"]["legend"], {"kind": "step", "actor": "institution"}),
        ("legend_authority", st["authority"]["legend"], {"kind": "step", "actor": "authority"}),
        ("legend_decision", st["decision"]["legend"], {"kind": "decision"}),
        ("legend_milestone", st["milestone"]["legend"], {"kind": "milestone"}),
        ("legend_terminal", st["terminal"]["legend"], {"kind": "start"}),
    ]
    present = {("step", d.get("actor")) if d["kind"] == "step" else (("start",) if d["kind"] in ("start", "end") else (d["kind"],))
               for _, d in G.nodes(data=True)}
    items = [it for it in items
             if (("step", it[2]["actor"]) if it[2]["kind"] == "step" else (it[2]["kind"],)) in present]
    if G.graph.get("highlighted"):
        items += [
            ("legend_on", st["highlight"]["legend"], {"kind": "step", "actor": "institution", "state": "on"}),
            ("legend_off", st["grey"]["legend"], {"kind": "step", "actor": "institution", "state": "off"}),
        ]
    small = {**spec, "wrap": 8}
    with dot.subgraph(name="cluster_legend") as c:
        c.attr(label=f'<<B>{html_text("图例")}</B>>', fontname=font, fontsize="12", style="rounded,dashed",
               color="#9ca3af", margin="8", rank="same")
        for name, text, attrs in items:
            style = _node_style(attrs, spec)
            if attrs["kind"] == "decision":
                style["margin"] = "0"
            grey = attrs.get("state") == "off"
            label = _html_lines([{"text": text, "style": "legend"}], small, grey, st["grey"]["font"])
            c.node(name, label=label, **style)
        names = [name for name, _, _ in items]
        notes = list(spec.get("legend_notes", [])) + list(G.graph.get("document_notes", []))
        if notes:
            rows = "".join(
                f'<FONT POINT-SIZE="9" COLOR="#374151">{html_text(piece)}</FONT><BR ALIGN="LEFT"/>'
                for note in notes for piece in wrap(note, 28)
            )
            c.node("legend_notes", label=f"<{rows}>", shape="plain")
            names.append("legend_notes")
        for a, b in zip(names, names[1:], strict=False):
            c.edge(a, b, style="invis")


def to_dot(G: nx.DiGraph, dpi: int | None = None) -> str:
    """The chart as DOT source (HTML-like labels, deterministic); `dpi` only for bitmaps."""
    spec = load_spec()
    font = spec["font"]
    grey_font = spec["style"]["grey"]["font"]
    dot = graphviz.Digraph(
        name=f"{G.graph['jurisdiction']}_{G.graph['chart']}".replace("-", "_"),
        graph_attr={
            "rankdir": "TB", "fontname": font, "label": _title_html(G, spec), "labelloc": "t",
            "labeljust": "c", "nodesep": "0.35", "ranksep": "0.45", "newrank": "true",
            "bgcolor": "white", "pad": "0.3", "charset": "UTF-8",
            **({"dpi": str(dpi)} if dpi else {}),
        },
        node_attr={"fontname": font, "fontsize": "11", "margin": "0.15,0.08"},
        edge_attr={"fontname": font, "fontsize": "10", "color": "#4b5563", "arrowsize": "0.8"},
    )
    for nid, attrs in G.nodes(data=True):
        style = _node_style(attrs, spec)
        grey = attrs.get("state") == "off"
        dot.node(nid, label=_html_lines(attrs["lines"], spec, grey, grey_font), **style)
    for a, b, attrs in G.edges(data=True):
        e: dict = {}
        parts = []
        if attrs.get("label"):
            parts.append({"text": attrs["label"], "style": "branch" if attrs.get("class") or attrs.get("events") else "text"})
        if attrs.get("provisions_text"):
            parts.append({"text": "依据：" + attrs["provisions_text"], "style": "provisions"})
        state = attrs.get("state")
        if parts:
            e["label"] = _html_lines(parts, {**spec, "wrap": 10, "wrap_small": 14}, state == "off", grey_font)
        if attrs.get("loop"):
            # a loop back (e.g. 补齐后重新提交) runs along the left, away from the forward edges
            e.update({"style": "dashed"})
        if state == "on":
            e.update({"color": spec["style"]["highlight"]["border"], "penwidth": "3"})
        elif state == "off":
            e.update({"color": spec["style"]["grey"]["border"]})
        dot.edge(a, b, **e)
    _legend(dot, G, spec)
    return dot.source


def _pipe(source: str, fmt: str) -> bytes:
    if fmt == "png":
        # drawn by cairo (anti-aliased, pango text), written by gd as a palette PNG: the same
        # picture as cairo's own PNG writer at about a third of the time and size
        return graphviz.pipe("dot", "png", source.encode("utf-8"), renderer="cairo", formatter="gd")
    return graphviz.pipe("dot", fmt, source.encode("utf-8"))


def to_svg(G: nx.DiGraph) -> str:
    return _pipe(to_dot(G), "svg").decode("utf-8")


def to_png(G: nx.DiGraph) -> bytes:
    # resolution for slides: only the bitmap gets it, the DOT and SVG stay at 72 points per inch
    return _pipe(to_dot(G, dpi=PNG_DPI), "png")


# --------------------------------------------------------------------------- Mermaid

def _mermaid_id(nid: str) -> str:
    return "n_" + re.sub(r"[^A-Za-z0-9_]", "_", nid)


def _mermaid_label(lines: list[dict], spec: dict) -> str:
    out = []
    for line in lines:
        st = _LINE_STYLE.get(line["style"], _LINE_STYLE["text"])
        pieces = [mermaid_text(p) for p in wrap(line["text"], _wrap_limit(spec, st["wrap"]))]
        text = "<br/>".join(pieces)
        if st["bold"]:
            text = f"<b>{text}</b>"
        if line["style"] in ("provisions", "item", "qualifier"):
            text = f"<small>{text}</small>"
        out.append(text)
    return "<br/>".join(out)


def to_mermaid(G: nx.DiGraph) -> str:
    """The chart as a Mermaid flowchart (quoted labels, entity-coded text)."""
    spec = load_spec()
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
        elif attrs.get("state") == "off":
            link_styles.append(f"  linkStyle {i + 1} stroke:{st['grey']['border']}")
    out += link_styles
    out.append(f"  classDef institution fill:{st['institution']['fill']},stroke:{st['institution']['border']},color:#111827")
    out.append(f"  classDef authority fill:{st['authority']['fill']},stroke:{st['authority']['border']},stroke-width:2px,color:#111827")
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
        cls = {"decision": "decision", "milestone": "milestone", "start": "terminal", "end": "terminal"}.get(kind) or attrs.get("actor") or "institution"
        groups.setdefault(cls, []).append(ids[nid])
        if attrs.get("state") in ("on", "off"):
            groups.setdefault(attrs["state"], []).append(ids[nid])
    for cls in ("institution", "authority", "decision", "milestone", "terminal", "on", "off"):
        if groups.get(cls):
            out.append(f"  class {','.join(groups[cls])} {cls}")
    return "\n".join(out) + "\n"


def render(G: nx.DiGraph, fmt: str) -> bytes | str:
    """`svg`, `dot` and `mermaid` as text, `png` as bytes."""
    if fmt == "dot":
        return to_dot(G)
    if fmt == "svg":
        return to_svg(G)
    if fmt == "png":
        return to_png(G)
    if fmt == "mermaid":
        return to_mermaid(G)
    raise ValueError(f"unknown format {fmt!r} (supported: {', '.join(FORMATS)})")
