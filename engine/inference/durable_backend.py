"""The compiled rules as one durable_rules ruleset.

durable_rules is not thread-safe, swallows exceptions raised in actions and leaks rulesets
created repeatedly; so the ruleset is built once per process, every decision runs in its
own session (a fresh `sid`) whose state is deleted afterwards, access is serialised by a
lock, and actions only record the rule that fired.
"""
from __future__ import annotations

import itertools
import operator
import threading
from functools import reduce

from durable import lang

from engine.kb import conditions
from engine.kb.rules import CompiledRule

_LOCK = threading.Lock()
_BUILT: dict[str, DurableBackend] = {}


def attr(fact: str) -> str:
    """durable_rules field name for a dotted fact path."""
    return fact.replace(".", "__").replace("-", "_")


def _leaf_expr(leaf: conditions.Leaf):
    field = getattr(lang.m, attr(leaf.fact))
    if leaf.op == "present":
        return +field
    if leaf.op == "absent":
        return -field
    if leaf.value is conditions._UNKNOWN:
        # never true: the comparison constant is unknowable
        return lang.m.medtech_never_set == "never"
    if leaf.op in ("in", "not_in"):
        values = list(leaf.value)
        if leaf.op == "in":
            return reduce(operator.or_, [field == v for v in values])
        return reduce(operator.and_, [field != v for v in values])
    return {"eq": operator.eq, "ne": operator.ne, "gte": operator.ge, "gt": operator.gt,
            "lte": operator.le, "lt": operator.lt}[leaf.op](field, leaf.value)


def _expr(node: conditions.Node):
    if isinstance(node, conditions.Leaf):
        return _leaf_expr(node)
    parts = [_expr(child) for child in node.items]
    return reduce(operator.and_ if isinstance(node, conditions.All) else operator.or_, parts)


def _encode(facts: dict) -> dict:
    return {attr(k): v for k, v in facts.items()}


class DurableBackend:
    """Fires compiled rules through durable_rules; one ruleset per process and knowledge base."""

    name = "durable"

    def __init__(self, rules: list[CompiledRule], ruleset_name: str):
        self.ruleset = ruleset_name
        self.order = {r.id: r.order for r in rules}
        self._fired: dict[str, list[str]] = {}
        self._counter = itertools.count()
        with lang.ruleset(ruleset_name):
            # Every message must be handled by some rule: durable_rules corrupts its heap
            # (segfault, "free(): invalid pointer") after messages that no rule matched.
            for kind in ("case", "classified"):
                lang.when_all(lang.m.kind == kind)(self._sentinel(kind))
            for rule in rules:
                kind = "case" if rule.stage == "classify" else "classified"
                lang.when_all((lang.m.kind == kind) & _expr(rule.condition))(self._action(rule.id))
        self._guard_background_dispatch()

    @staticmethod
    def _sentinel(kind: str):
        def matched(c):
            pass
        matched.__name__ = f"sentinel_{kind}"
        return matched

    def _guard_background_dispatch(self) -> None:
        """durable_rules' host runs timer threads that call into the C engine every 0.2 s
        (ruleset.dispatch / dispatch_timers) without any lock; serialise them with ours and
        skip a tick when a decision is running. This project uses neither timers nor queued
        actions, so a skipped tick loses nothing."""
        ruleset = lang.get_host().get_ruleset(self.ruleset)

        def guarded(method):
            def run():
                if _LOCK.acquire(blocking=False):
                    try:
                        return method()
                    finally:
                        _LOCK.release()
                return None
            return run
        ruleset.dispatch = guarded(ruleset.dispatch)
        ruleset.dispatch_timers = guarded(ruleset.dispatch_timers)

    def _action(self, rule_id: str):
        fired = self._fired

        def record(c):
            fired[c.m.sid].append(rule_id)
        record.__name__ = "r_" + rule_id.replace(".", "_").replace("-", "_")
        return record

    def fire(self, stages: tuple[str, ...], facts: dict, unknown: frozenset = frozenset()) -> list[str]:
        """Ids of the rules of these stages that fire on `facts`, in rule order."""
        kind = "case" if stages == ("classify",) else "classified"
        with _LOCK:
            sid = f"d{next(self._counter)}"
            self._fired[sid] = []
            try:
                lang.assert_fact(self.ruleset, {**_encode(facts), "kind": kind, "sid": sid})
                fired = self._fired[sid]
            finally:
                self._fired.pop(sid, None)
                lang.delete_state(self.ruleset, sid)
        return sorted(set(fired), key=self.order.__getitem__)


def durable_backend(rules: list[CompiledRule], digest: str) -> DurableBackend:
    """The process-wide backend for this knowledge base (built on first use)."""
    name = "medtech_" + digest.replace("sha256:", "")[:16]
    with _LOCK:
        if name not in _BUILT:
            _BUILT[name] = DurableBackend(rules, name)
        return _BUILT[name]
