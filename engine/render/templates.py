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

# the members of an answer that can hold citations, in the order an answer has them
_CITING = ("technology", "obligations", "authority_actions", "trace")


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
    from engine.inference.decision import _decide
    from engine.kb.loader import knowledge_base

    if quotes not in QUOTE_MODES:
        raise ValueError(f"quotes must be one of {', '.join(QUOTE_MODES)} (got {quotes!r})")
    if not _enabled:
        answer = _decide(request, backend=backend, outcomes=True, trace=trace)
        info = _info(answer)
        return orjson.dumps(compact_quotes(answer, quotes)), info
    blocks = _encoded(knowledge_base(), quotes)
    answer = _decide(request, backend=backend, outcomes=True, trace=trace, blocks=blocks)
    if quotes == "once":
        answer["provisions"] = _provisions(answer, blocks)
    return orjson.dumps(answer), _info(answer)


def _info(answer: dict) -> dict:
    return {"decision_id": answer.get("decision_id"), "action": (answer.get("verdict") or {}).get("action")}


def _provisions(answer: dict, blocks: blocks_mod.Encoded) -> dict:
    """The `provisions` map of the `once` form: every provision the answer's blocks cite, in the order
    the answer first cites it (a block's quotes are known from when it was encoded; no quote is read twice)."""
    out: dict[str, dict] = {}
    seen: set[int] = set()  # quote dicts already listed
    keys = blocks.keys
    fragment = orjson.Fragment

    def walk(values) -> None:
        for v in values:
            t = type(v)
            if t is dict:
                walk(v.values())
            elif t is list:
                walk(v)
            elif t is fragment:
                for q in keys(v):
                    if id(q) in seen:
                        continue
                    seen.add(id(q))
                    key = f"{q['document']}:{q['eid']}"
                    if key not in out:
                        out[key] = {
                            "document": q["document"],
                            "eid": q["eid"],
                            "label": q.get("label"),
                            "quote": q["quote"],
                        }

    walk(answer.get(name) for name in _CITING)
    return out
