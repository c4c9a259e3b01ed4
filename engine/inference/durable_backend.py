"""The compiled rules as one durable_rules ruleset.

durable_rules is not thread-safe, swallows exceptions raised in actions and leaks rulesets
created repeatedly; so the ruleset is built once per process, every decision runs in its
own session (a fresh `sid`) whose state is deleted afterwards, access is serialised by a
lock, and actions do nothing but name the rule that fired.

The ruleset is defined with durable_rules' own language (`durable.lang`) and runs in its
Rete engine; a decision asserts its facts once, as one message, and then takes the actions
the engine queued for that session straight from the engine (`start_action_for_state`,
`complete_and_start_action`). durable_rules' Python host would, for every rule that fires,
wrap the message in a Closure, parse the whole fact back from JSON, call the action,
serialise the session state and parse the next message (about 19 JSON round trips and 35
clock reads per decision); here the fired rule is read from the head of the action's JSON
(`{"r_12":{...`) and nothing is parsed or re-serialised. The actions registered with the
ruleset are still the trivial recorders durable_rules requires; they are what its own
background dispatch would run.
"""
from __future__ import annotations

import itertools
import operator
import threading
from functools import reduce

import durable_rules_engine as _engine
import orjson
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


class DurableBackend:
    """Fires compiled rules through durable_rules; one ruleset per process and knowledge base."""

    name = "durable"

    def __init__(self, rules: list[CompiledRule], ruleset_name: str):
        self.ruleset = ruleset_name
        self.order = {r.id: r.order for r in rules}
        self._counter = itertools.count()
        self.last_sid: str | None = None
        # only the facts some rule reads go into the message, under their durable_rules names
        self._fields = {f: attr(f) for r in rules for f in r.facts_used}
        with lang.ruleset(ruleset_name):
            # Every message must be handled by some rule: durable_rules corrupts its heap
            # (segfault, "free(): invalid pointer") after messages that no rule matched.
            for kind in ("case", "classified"):
                lang.when_all(lang.m.kind == kind)(self._sentinel(kind))
            for rule in rules:
                kind = "case" if rule.stage == "classify" else "classified"
                lang.when_all((lang.m.kind == kind) & _expr(rule.condition))(self._action(rule.id))
        host_ruleset = lang.get_host().get_ruleset(ruleset_name)
        self._handle = host_ruleset._handle
        # durable_rules names the rules r_0, r_1, ... in the order defined; map them back
        self._rule_of = {name: getattr(promise.root._func, "rule_id", None)
                         for name, promise in host_ruleset._actions.items()}
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

    @staticmethod
    def _action(rule_id: str):
        def record(c):
            pass
        record.rule_id = rule_id  # type: ignore[attr-defined]
        record.__name__ = "r_" + rule_id.replace(".", "_").replace("-", "_")
        return record

    def _rule_named(self, message: str) -> str | None:
        """The rule an action message belongs to: `{"r_12":{"m":{...}}}` -> its rule id (None: a sentinel)."""
        if message.startswith('{"'):
            return self._rule_of[message[2:message.index('"', 2)]]
        return self._rule_of[next(iter(orjson.loads(message)))]

    def fire(self, stages: tuple[str, ...], facts: dict, unknown: frozenset = frozenset()) -> list[str]:
        """Ids of the rules of these stages that fire on `facts`, in rule order."""
        kind = "case" if stages == ("classify",) else "classified"
        fields = self._fields
        message = {fields[k]: v for k, v in facts.items() if k in fields}
        message["kind"] = kind
        fired: list[str] = []
        with _LOCK:
            sid = f"d{next(self._counter)}"
            message["sid"] = sid
            handle = self._handle
            try:
                code, state = _engine.assert_fact(handle, orjson.dumps(message).decode())
                if code in (1, 2):   # not handled / already observed: impossible with the sentinels and a fresh sid
                    raise RuntimeError(f"durable_rules refused the facts of a decision (code {code})")
                started = _engine.start_action_for_state(handle, 0 if code == 3 else state)
                action = started[1] if started else None
                while action:
                    rule_id = self._rule_named(action)
                    if rule_id is not None:
                        fired.append(rule_id)
                    action = _engine.complete_and_start_action(handle, state)
            finally:
                _engine.delete_state(handle, sid)
                self.last_sid = sid
        return sorted(set(fired), key=self.order.__getitem__)


def durable_backend(rules: list[CompiledRule], digest: str) -> DurableBackend:
    """The process-wide backend for this knowledge base (built on first use)."""
    name = "medtech_" + digest.replace("sha256:", "")[:16]
    with _LOCK:
        if name not in _BUILT:
            _BUILT[name] = DurableBackend(rules, name)
        return _BUILT[name]
