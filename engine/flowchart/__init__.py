"""Flowcharts generated from the knowledge base (kb/flowcharts.yaml + kb/rules/).

    render_chart("chongqing", "filing", "svg")            -> str (svg, dot, mermaid) or bytes (png, pdf)
    render_chart(None, "filing", "png", highlight=request) -> the request's case highlighted
    render_chart(None, None, highlight=request, slides=True) -> the case's own chart as 16:9 slides (PDF)

`build_graph` (engine.flowchart.build) gives the networkx graph itself.
"""

from __future__ import annotations

import datetime as dt

__all__ = ["render_chart", "build_graph", "FORMATS", "CHARTS"]

FORMATS = ("svg", "png", "pdf", "dot", "mermaid")
CHARTS = ("filing", "incident", "training")


def build_graph(jurisdiction, chart: str = "filing", as_of=None):
    """The chart as a networkx.DiGraph (see engine.flowchart.build)."""
    from engine.flowchart.build import build_graph as _build

    return _build(jurisdiction, chart, as_of)


def render_chart(
    jurisdiction,
    chart: str | None = "filing",
    fmt: str = "svg",
    as_of: dt.date | str | None = None,
    highlight: dict | None = None,
    slides: bool = False,
) -> bytes | str:
    """One chart rendered: `png` and `pdf` as bytes, `svg`, `dot` and `mermaid` as text.

    `jurisdiction` is an id or Chinese name (engine.NotFound when unknown); `as_of` defaults
    to today in China. With `highlight` (a decision request) the chart is the request's
    jurisdiction on the request's day (its `as_of`, else `as_of` here), with the case marked;
    an invalid request raises engine.InvalidRequest, and a `jurisdiction` that is not the
    request's raises ValueError.
    """
    from engine.flowchart.render import FORMATS as _formats
    from engine.flowchart.render import render

    if fmt not in _formats:
        raise ValueError(f"unknown format {fmt!r} (supported: {', '.join(_formats)})")
    if highlight is not None:
        from engine.flowchart.highlight import highlight_graph

        G, response = highlight_graph(highlight, chart, as_of)
        if jurisdiction is not None:
            from engine.kb.loader import knowledge_base

            wanted = knowledge_base().vocabulary.jurisdiction(str(jurisdiction)).id
            if wanted != response["jurisdiction"]["id"]:
                raise ValueError(f"the request is for {response['jurisdiction']['id']}, not {wanted}")
    else:
        from engine.flowchart.build import build_graph as _build

        G = _build(jurisdiction, chart or CHARTS[0], as_of)
    if slides:
        from engine.flowchart.slides import to_slides_pdf

        return to_slides_pdf(G)
    return render(G, fmt)
