"""Answers as JSON bytes built from templates: the service's and the batch's path.

`decide()` returns fresh dicts, because a caller may edit them. An answer on its way out is only
encoded, so `decide_bytes` builds it with its constant blocks (citations, materials, consequences:
engine.inference.blocks) as JSON encoded once per knowledge base and quotes form, and splices in what
varies (due dates, statuses, occurrences, warnings, the verdict). The compact forms are built directly:
`quotes=none` and `quotes=once` use blocks encoded without their quotes, and `once` lists the provisions
the blocks cite, in order, from what each block is known to cite (no second pass over the answer).
`trace=false` never builds the trace.

The bytes are those of `orjson.dumps(compact_quotes(decide(request, trace=trace), quotes))`
(tests/test_templates.py, over every scenario and a generated corpus); `set_enabled(False)` makes
`decide_bytes` build them that way instead (for the differential test and the benchmarks).
"""

from __future__ import annotations

import os
from functools import lru_cache

import orjson

from engine.inference import blocks as blocks_mod
from engine.render.compact import QUOTE_MODES, compact_quotes

_enabled = os.environ.get("MEDTECH_TEMPLATES", "1") not in ("0", "false", "off", "no")


def enabled() -> bool:
    """Whether decide_bytes builds from templates."""
    return _enabled


def set_enabled(flag: bool) -> None:
    """Build from templates (True) or encode decide()'s fresh answer (False); the bytes are the same."""
    global _enabled
    _enabled = bool(flag)


@lru_cache(maxsize=12)
def _encoded(kb, mode: str) -> blocks_mod.Encoded:
    return blocks_mod.Encoded(mode)


def decide_bytes(request: dict, *, quotes: str = "all", trace: bool = True, backend: str | None = None) -> bytes:
    """The answer to `request` as compact UTF-8 JSON in the quotes form `quotes` (engine.render.compact),
    without the trace when `trace` is false. Raises engine.InvalidRequest as decide() does."""
    return decide_encoded(request, quotes=quotes, trace=trace, backend=backend)[0]


def decide_encoded(
    request: dict, *, quotes: str = "all", trace: bool = True, backend: str | None = None
) -> tuple[bytes, dict]:
    """(decide_bytes' bytes, {decision_id, action}): what the service sends, and what it counts and
    puts in its headers."""
    from engine.inference.decision import decide
    from engine.kb.loader import knowledge_base

    if quotes not in QUOTE_MODES:
        raise ValueError(f"quotes must be one of {', '.join(QUOTE_MODES)} (got {quotes!r})")
    if not _enabled:
        answer = decide(request, backend=backend, trace=trace)
        info = _info(answer)
        return orjson.dumps(compact_quotes(answer, quotes)), info
    blocks = _encoded(knowledge_base(), quotes)
    answer = decide(request, backend=backend, trace=trace, blocks=blocks)
    if quotes == "once":
        answer["provisions"] = _provisions(answer, blocks)
    return orjson.dumps(answer), _info(answer)


def _info(answer: dict) -> dict:
    return {"decision_id": answer.get("decision_id"), "action": (answer.get("verdict") or {}).get("action")}


def _provisions(answer: dict, blocks: blocks_mod.Encoded) -> dict[str, object]:
    """The `provisions` map of the `once` form: every provision the answer's blocks cite, in the order the
    answer first cites it. The blocks are read where an answer holds them, in the order it holds them (each
    block's quotes known from when it was encoded), not found by reading the whole answer again; the
    differential test (tests/test_templates.py) compares the result with compact_quotes' over every scenario."""
    held: list = []
    tech = answer.get("technology")
    if tech:
        held += [x["citation"] for x in tech["listings"]]
        held.append(tech["citations"])
    for item in answer["obligations"] + answer["authority_actions"]:
        deadline = item["deadline"]
        held.append(deadline.get("citations"))
        held += [alt.get("citations") for alt in deadline.get("alternatives") or ()]
        held += (item["materials"], item["citations"], item["consequences"])
        if (more := item.get("if_not_done")) is not None:
            held += (more["citations"], more["consequences"])
    held += [step["citations"] for step in answer.get("trace") or ()]
    out: dict[str, object] = {}
    keys = blocks.keys
    for block in held:
        for key, entry in keys(block):
            if key not in out:
                out[key] = entry
    return out
