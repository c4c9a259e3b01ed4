"""How an answer holds its constant blocks: the lists of citations, materials and consequences that the
knowledge base fixes (engine.inference.citations) and a decision only chooses.

- `Fresh`: new dicts every time (what `decide()` returns: a caller may edit one answer without
  changing another);
- `Shared`: the same lists for every decision, never copied (`conclusion()`, whose answer no caller
  sees);
- `Encoded`: each block as `orjson.Fragment`, JSON encoded once per knowledge base and quotes form
  (`all`, `once`, `none`; engine.render.compact), for the service's and the batch's bytes
  (engine.render.templates). `keys(block)` gives the provisions a block cites, in order, so that
  `quotes=once` lists them without reading the answer again.

Every kind gives the same JSON: `tests/test_templates.py` compares the bytes.
"""

from __future__ import annotations

from typing import Any

import orjson

QuoteRef = tuple[str, str]  # (document, eid)


class Fresh:
    """Blocks as fresh dicts."""

    def quotes(self, quotes: tuple) -> Any:
        """A citations list."""
        return list(map(dict.copy, quotes))

    def one(self, quote: dict) -> Any:
        """A single citation."""
        return quote.copy()

    def materials(self, materials: tuple) -> Any:
        """A materials list ({id, text, citations}) from (id, text, quote) triples."""
        return [{"id": mid, "text": text, "citations": [q.copy()]} for mid, text, q in materials]

    def consequences(self, consequences: tuple) -> Any:
        """A consequences list ({citations, text}) from (quotes, text) pairs."""
        return [{"citations": list(map(dict.copy, quotes)), "text": text} for quotes, text in consequences]


class Shared(Fresh):
    """Blocks built once and shared by every answer (read only)."""

    def __init__(self) -> None:
        self._made: dict[tuple[str, int], Any] = {}

    def _get(self, kind: str, source, make):
        key = (kind, id(source))
        out = self._made.get(key)
        if out is None:
            # the source is kept with the block: its id stays its own while the block is cached
            out = self._made[key] = (make(source), source)
        return out[0]

    def quotes(self, quotes: tuple) -> Any:
        return self._get("q", quotes, list)

    def one(self, quote: dict) -> Any:
        return quote

    def materials(self, materials: tuple) -> Any:
        return self._get("m", materials, super().materials)

    def consequences(self, consequences: tuple) -> Any:
        return self._get("c", consequences, super().consequences)


def _without_quote(q: dict) -> dict:
    return {k: v for k, v in q.items() if k != "quote"}


class Encoded(Shared):
    """Blocks as JSON fragments in the quotes form `mode` (all, once, none)."""

    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode
        self._keys: dict[int, tuple] = {}  # id(fragment) -> the provisions it cites ((document, eid), quote dict)

    def _encoded(self, kind: str, source, make) -> orjson.Fragment:
        """The fragment of `source` (made once: `make(source)` gives its value and the quotes it holds)."""
        out = self._made.get((kind, id(source)))
        if out is None:
            value, quotes = make(source)
            if self.mode != "all":
                value = _strip(value)
            frag = orjson.Fragment(orjson.dumps(value))
            self._keys[id(frag)] = tuple(quotes)
            out = self._made[(kind, id(source))] = (frag, source)
        return out[0]

    def quotes(self, quotes: tuple) -> Any:
        return self._encoded("q", quotes, lambda qs: (list(qs), qs))

    def one(self, quote: dict) -> Any:
        return self._encoded("1", quote, lambda q: (q, [q]))

    def materials(self, materials: tuple) -> Any:
        return self._encoded("m", materials, lambda ms: (Fresh.materials(self, ms), [q for _, _, q in ms]))

    def consequences(self, consequences: tuple) -> Any:
        return self._encoded(
            "c", consequences, lambda cs: (Fresh.consequences(self, cs), [q for qs, _ in cs for q in qs])
        )

    def keys(self, block) -> tuple:
        """The quote dicts a block cites, in order (those of a fragment made here; none for anything else)."""
        return self._keys.get(id(block), ())


def _strip(node):
    """A block without its quotes (the `once` and `none` forms)."""
    if isinstance(node, dict):
        if "quote" in node and "document" in node and "eid" in node:
            return {k: _strip(v) for k, v in node.items() if k != "quote"}
        return {k: _strip(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


FRESH = Fresh()
