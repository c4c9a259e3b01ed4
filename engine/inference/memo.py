"""An exact cross-request memo of rule evaluation.

Every leaf of a rule condition compares one fact with a constant (engine.kb.conditions), so what the
rules conclude from a set of facts depends on each integer fact (a day ordinal, a grade) only through
where it falls among the constants the rules compare that fact with. `Abstraction.key` replaces each
such value by its interval among those constants (and whether it equals one of them): two sets of
facts with the same key make every leaf, so every rule, come out the same on both back ends. What is
memoised under such a key is therefore exact by construction — the same value the evaluation would
return — and `tests/test_memo.py` checks it over every scenario and a generated corpus, memo on and
off, on both back ends.

A memo is bounded (oldest entries dropped first) and counts its hits and misses (`stats()`, shown in
the service's /metrics). `MEDTECH_MEMO=0` in the environment turns every memo off when the engine is
imported; `set_enabled` turns them on or off at run time (for the differential test and benchmarks).
Values kept are shared between decisions: read only.
"""

from __future__ import annotations

import os
from bisect import bisect_left
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from engine.kb import conditions

_enabled = os.environ.get("MEDTECH_MEMO", "1") not in ("0", "false", "off", "no")
_MEMOS: dict[str, Memo] = {}

# entries per memo: a key is a few hundred bytes and a value a few small tuples; 20,000 entries of the
# largest memo are a few MiB per process
DEFAULT_LIMIT = 20_000


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
    """Facts as the rules see them: a fact no rule reads left out, and each number replaced by its interval
    among the constants the rules compare that fact with (see the module docstring)."""

    def __init__(self, rules, extra: dict[str, set] | None = None):
        consts: dict[str, set] = {f: set(vs) for f, vs in (extra or {}).items()}
        read: set[str] = set(consts)
        for rule in rules:
            for leaf in conditions.leaves(rule.condition):
                read.add(leaf.fact)
                values = leaf.value if isinstance(leaf.value, tuple) else (leaf.value,)
                for v in values:
                    if _number(v):
                        consts.setdefault(leaf.fact, set()).add(v)
        self.read = frozenset(read)
        self.bounds: dict[str, list] = {f: sorted(vs) for f, vs in consts.items()}
        # fact -> the constants it is compared with (an empty tuple: with no number); a fact no rule reads is absent
        self._kinds: dict[str, list | tuple] = {f: self.bounds.get(f, ()) for f in read}

    def key(self, values: dict) -> tuple:
        """`values` as the rules see them: equal keys make every rule condition come out the same. A fact no
        rule reads is left out; a number becomes (its interval, whether it equals a constant), or only "a
        number" for a fact the rules compare with no number (present, or equal to a text)."""
        kinds = self._kinds
        out: list[tuple] = []
        for name, v in values.items():
            b = kinds.get(name)
            if b is None:
                continue  # no rule reads it
            t = type(v)
            if (t is int or t is float) and v == v:  # a number (not a boolean, not NaN)
                if not b:
                    out.append((name, None, None, None))  # a 4-tuple: any number, compared with none
                    continue
                i = bisect_left(b, v)
                # a 3-tuple never equals the 2-tuple of a value left as it is
                out.append((name, i, i < len(b) and b[i] == v))
            else:
                out.append((name, v))
        return tuple(out)


def _number(v) -> bool:
    return (type(v) is int or type(v) is float) and v == v  # not a boolean, not NaN


@lru_cache(maxsize=4)
def abstraction(kb) -> Abstraction:
    """The abstraction of `kb`'s rules (with the windows of imprecise effective dates as constants too)."""
    extra: dict[str, set] = {}
    for rule in kb.rules:
        for fact, lo, hi in rule.windows:
            extra.setdefault(fact, set()).update((lo, hi))
    return Abstraction(kb.rules, extra)
