"""An exact cross-request memo of rule evaluation.

Every leaf of a rule condition compares one fact with a constant (engine.kb.conditions), and every rule
carries "its document applies" (engine.kb.rules), so what the rules of some stages conclude from a set of
facts depends only on the facts the rules of the documents that may apply read, and on each number among
them (a day ordinal, a grade) only through where it falls among the constants the rules compare that fact
with. `Abstraction.key` keeps just that: two sets of facts with the same key make every leaf, so every
rule, come out the same on both back ends. What is memoised under such a key is therefore exact by
construction — the value the evaluation would return — and `tests/test_templates.py` checks it over every
scenario and 10,000 generated requests, memo on and off, on both back ends.

A memo is bounded (oldest entries dropped first) and counts its hits and misses (`stats()`, shown in
the service's /metrics). `MEDTECH_MEMO=0` in the environment turns every memo off when the engine is
imported; `set_enabled` turns them on or off at run time (for the differential test and benchmarks).
Values kept are shared between decisions: read only. The memos themselves are in engine.inference.days
(`classification`, `firing`) and engine.inference.decision (`undecided`).
"""

from __future__ import annotations

import os
from bisect import bisect_left
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from engine.kb import conditions
from engine.kb.rules import doc_fact

_enabled = os.environ.get("MEDTECH_MEMO", "1") not in ("0", "false", "off", "no")
_MEMOS: dict[str, Memo] = {}

# entries per memo: a key is the tuple of the values the rules read (its names shared by every key of the same
# shape) and a value a few small tuples, about 1 KiB in all: 10,000 entries of each memo are some 30 MiB per
# process at most (benchmarks/decide.py prints the memos' sizes)
DEFAULT_LIMIT = 10_000


def enabled() -> bool:
    """Whether the memos are consulted."""
    return _enabled


def set_enabled(flag: bool) -> None:
    """Turn every memo on or off (off: each decision evaluates everything itself, as without a memo)."""
    global _enabled
    _enabled = bool(flag)


def clear() -> None:
    """Empty every memo and reset its counters."""
    for m in _MEMOS.values():
        m.data.clear()
        m.hits = m.misses = 0


def stats() -> dict[str, dict[str, int]]:
    """name -> {hits, misses, size, limit} of every memo."""
    return {n: {"hits": m.hits, "misses": m.misses, "size": len(m.data), "limit": m.limit} for n, m in _MEMOS.items()}


class Memo:
    """A bounded map from keys to computed values, with hit and miss counts."""

    __slots__ = ("name", "limit", "data", "hits", "misses")

    def __init__(self, name: str, limit: int = DEFAULT_LIMIT):
        self.name, self.limit = name, limit
        self.data: dict = {}
        self.hits = self.misses = 0

    def get_or_compute(self, key, compute: Callable[[], Any]):
        """The value kept for `key`, else `compute()` (kept when the memos are on)."""
        if not _enabled:
            return compute()
        data = self.data
        value = data.get(key, _ABSENT)
        if value is not _ABSENT:
            self.hits += 1
            return value
        self.misses += 1
        value = compute()
        if len(data) >= self.limit:
            del data[next(iter(data))]  # the oldest entry
        data[key] = value
        return value


_ABSENT = object()


def memo(name: str, limit: int = DEFAULT_LIMIT) -> Memo:
    """The memo called `name` (one per process, created on first use)."""
    m = _MEMOS.get(name)
    if m is None:
        m = _MEMOS[name] = Memo(name, limit)
    return m


class Abstraction:
    """Facts as the rules see them: a fact no rule of the documents that may apply reads left out, and each
    number replaced by its interval among the constants the rules compare that fact with (see the module
    docstring)."""

    def __init__(self, rules, document_facts: dict[str, str], extra: dict[str, set] | None = None):
        """`document_facts`: document id -> the fact that says it applies (every rule of a document is false
        when that fact is false, engine.kb.rules); `extra`: more constants per fact."""
        consts: dict[str, set] = {f: set(vs) for f, vs in (extra or {}).items()}
        self._always = frozenset(consts) | frozenset(document_facts.values())
        self._read_by: dict[str, set[str]] = {}  # document -> the facts its rules read
        for rule in rules:
            read = self._read_by.setdefault(rule.document, set())
            for leaf in conditions.leaves(rule.condition):
                read.add(leaf.fact)
                values = leaf.value if isinstance(leaf.value, tuple) else (leaf.value,)
                for v in values:
                    if _number(v):
                        consts.setdefault(leaf.fact, set()).add(v)
        self._document_facts = tuple((fact, doc) for doc, fact in document_facts.items())
        self.bounds: dict[str, list] = {f: sorted(vs) for f, vs in consts.items()}
        # the documents that may apply -> (the facts their rules read, in a fixed order; the constants each is
        # compared with, an empty tuple for none that is a number; the same as a dict)
        self._kinds: dict[tuple, tuple[tuple, tuple, dict]] = {}

    def _kinds_for(self, documents: tuple) -> tuple[tuple, tuple, dict]:
        kinds = self._kinds.get(documents)
        if kinds is None:
            names = tuple(sorted(self._always.union(*(self._read_by.get(d, ()) for d in documents))))
            bounds = tuple(self.bounds.get(f, ()) for f in names)
            kinds = self._kinds[documents] = (names, bounds, dict(zip(names, bounds, strict=True)))
        return kinds

    def key_with_unknown(self, values: dict, unknown) -> tuple:
        """(key(values), the unknown facts those rules read, in order): what an evaluation that also depends
        on which facts are unknown (three-valued: the missing-fact search) is keyed on."""
        kinds = self._kinds_for(self._documents(values))
        read = kinds[2]
        return self.key(values, kinds), tuple(f for f in unknown if f in read)

    def _documents(self, values: dict) -> tuple:
        get = values.get
        return tuple(d for f, d in self._document_facts if get(f) is not False)

    def key(self, values: dict, kinds: tuple | None = None) -> tuple:
        """`values` as the rules see them: equal keys make every rule condition come out the same. Only the facts
        read by a rule of a document that may apply (its fact not false) are in it, in a fixed order, `ABSENT`
        for one not given; a number becomes its interval among the constants and whether it equals one (a
        negative integer, which no value left as it is can equal), or `ANY_NUMBER` for a fact the rules compare
        with no number (present, or equal to a text). The key is (the facts' names, their values as seen)."""
        if kinds is None:
            kinds = self._kinds_for(self._documents(values))
        names, bounds, _ = kinds
        get = values.get
        seen: list = []
        for name, b in zip(names, bounds):  # noqa: B905 - the same length by construction
            v = get(name, ABSENT)
            t = type(v)
            if (t is int or t is float) and v == v:  # a number (not a boolean, not NaN)
                if not b:
                    seen.append(ANY_NUMBER)
                    continue
                i = bisect_left(b, v)
                seen.append(-2 * i - (2 if i < len(b) and b[i] == v else 1))
            else:
                seen.append(v)
        return names, tuple(seen)


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


ANY_NUMBER = _Marker("ANY_NUMBER")  # a number compared with none (equal to itself only)
ABSENT = _Marker("ABSENT")  # a fact not given


def _number(v) -> bool:
    return (type(v) is int or type(v) is float) and v == v  # not a boolean, not NaN


@lru_cache(maxsize=16)
def abstraction(kb, stages: tuple[str, ...] | None = None) -> Abstraction:
    """The abstraction of `kb`'s rules of these `stages` (all when None), with the windows of imprecise
    effective dates as constants too."""
    extra: dict[str, set] = {}
    for rule in kb.rules:
        for fact, lo, hi in rule.windows:
            extra.setdefault(fact, set()).update((lo, hi))
    rules = [r for r in kb.rules if stages is None or r.stage in stages]
    return Abstraction(rules, {d: doc_fact(d) for d in kb.documents}, extra)
