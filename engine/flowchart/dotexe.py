"""Running Graphviz's `dot` program (layouts and drawings): GraphvizMissing when it is not on PATH."""

from __future__ import annotations

import graphviz

from engine.errors import GraphvizMissing


def pipe(fmt: str, data: bytes, **kwargs) -> bytes:
    """`dot -T<fmt>` on `data` (graphviz.pipe's keyword arguments: renderer, formatter);
    GraphvizMissing instead of graphviz's ExecutableNotFound when `dot` cannot be run."""
    try:
        return graphviz.pipe("dot", fmt, data, **kwargs)
    except graphviz.ExecutableNotFound:
        raise GraphvizMissing() from None
