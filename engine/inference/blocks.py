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
        # per kind of block: id(source) -> (block, source); the source is kept with its block, so that its id
        # stays its own while the block is cached (the sources are the knowledge base's own tuples)
        self._q: dict[int, tuple] = {}
        self._one: dict[int, tuple] = {}
        self._m: dict[int, tuple] = {}
        self._c: dict[int, tuple] = {}

    def _make(self, made: dict, source, value, quotes) -> Any:
        made[id(source)] = (value, source)
        return value

    def quotes(self, quotes: tuple) -> Any:
        hit = self._q.get(id(quotes))
        return hit[0] if hit is not None else self._make(self._q, quotes, list(quotes), quotes)

    def one(self, quote: dict) -> Any:
        return quote

    def materials(self, materials: tuple) -> Any:
        hit = self._m.get(id(materials))
        if hit is not None:
            return hit[0]
        return self._make(self._m, materials, Fresh.materials(self, materials), [q for _, _, q in materials])

    def consequences(self, consequences: tuple) -> Any:
        hit = self._c.get(id(consequences))
        if hit is not None:
            return hit[0]
        quotes = [q for qs, _ in consequences for q in qs]
        return self._make(self._c, consequences, Fresh.consequences(self, consequences), quotes)


class Encoded(Shared):
    """Blocks as JSON fragments in the quotes form `mode` (all, once, none)."""

    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode
        self._keys: dict[int, tuple] = {}  # id(fragment) -> the provisions it cites, in order (`provision`)
        self._provisions: dict[int, tuple] = {}  # id(quote dict) -> (its key, its `provisions` entry, the dict)

    def _make(self, made: dict, source, value, quotes) -> Any:
        frag = orjson.Fragment(orjson.dumps(value if self.mode == "all" else _strip(value)))
        self._keys[id(frag)] = tuple(self.provision(q) for q in quotes)
        made[id(source)] = (frag, source)
        return frag

    def one(self, quote: dict) -> Any:
        hit = self._one.get(id(quote))
        return hit[0] if hit is not None else self._make(self._one, quote, quote, [quote])

    def provision(self, quote: dict) -> tuple[str, Any]:
        """(document:eid, the entry of the `provisions` map of the `once` form) for a quote dict, the entry
        encoded once."""
        hit = self._provisions.get(id(quote))
        if hit is None:
            entry = {
                "document": quote["document"],
                "eid": quote["eid"],
                "label": quote.get("label"),
                "quote": quote["quote"],
            }
            hit = self._provisions[id(quote)] = (
                f"{quote['document']}:{quote['eid']}",
                orjson.Fragment(orjson.dumps(entry)),
                quote,  # kept, so that its id stays its own
            )
        return hit[0], hit[1]

    def keys(self, block) -> tuple:
        """The provisions a block cites, in order, as `provision` gives them (those of a fragment made here;
        none for anything else)."""
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
