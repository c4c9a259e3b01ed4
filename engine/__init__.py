"""medtech-rules: a knowledge base and inference engine for 医疗技术临床应用管理.

`decide(request) -> response` is the public entry point (request and response fields: docs/reference.zh.md).
"""

from engine.errors import InvalidRequest, KnowledgeBaseError, NotFound

__all__ = ["decide", "decide_bytes", "InvalidRequest", "KnowledgeBaseError", "NotFound"]


def decide(request: dict, *, backend: str | None = None, trace: bool = True) -> dict:
    """Answer one decision request (contract section 3) with a response (section 4).

    Raises `InvalidRequest` (a ValueError whose `.errors` lists `{path, message}`) for an
    invalid request. `backend` ("durable" or "pure") is for differential testing; `trace=False`
    answers without the `trace` member (not built at all).
    """
    from engine.inference.decision import decide as _decide

    return _decide(request, backend=backend, trace=trace)


def decide_bytes(request: dict, *, quotes: str = "all", trace: bool = True, backend: str | None = None) -> bytes:
    """The answer to `request` as compact UTF-8 JSON, as the service sends it: the bytes of
    `decide(request, trace=trace)` in the quotes form `quotes` ("all", "once" or "none"; see
    engine.render.compact), built from templates rather than fresh dicts. Raises `InvalidRequest`."""
    from engine.render.templates import decide_bytes as _decide_bytes

    return _decide_bytes(request, quotes=quotes, trace=trace, backend=backend)
