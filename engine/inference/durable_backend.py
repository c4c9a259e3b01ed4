"""The compiled rules as durable_rules rulesets.

durable_rules is not thread-safe, swallows exceptions raised in actions and leaks rulesets
created repeatedly; so each ruleset is built once per process, every evaluation runs in its
own session (a fresh `sid`) whose state is deleted afterwards, access is serialised by a
lock, actions do nothing but name the rule that fired, and the rulesets live on a host of
our own that runs no background dispatch threads (`_QuietHost`).

The rules are defined with durable_rules' own language (`durable.lang`) and run in its Rete
engine; an evaluation asserts its facts once, as one message, and then takes the actions the
engine queued for that session straight from the engine (`start_action_for_state`,
`complete_and_start_action`). durable_rules' Python host would, for every rule that fires,
wrap the message in a Closure, parse the whole fact back from JSON, call the action,
serialise the session state and parse the next message (about 19 JSON round trips and 35
clock reads per decision); here the fired rule is read from the head of the action's JSON
(`{"r_12":{...`) and nothing is parsed or re-serialised. The actions registered with the
rulesets are still the trivial functions durable_rules requires (each names its rule); they
are what durable_rules' own host would call.

Opening a session costs durable_rules time in proportion to the size of the ruleset (it
allocates and clears every join node's memory: ~90 µs for all 175 rules, more than the
matching itself). Every rule carries the leaf "its document applies" (`active.<doc>` is
true), so only the rules of the documents that apply can fire: the rules are split into one
ruleset per stage group (classification; obligations and authority actions) and set of
applicable documents, each built once per process when first needed (at most one per
combination of documents; the service's warm-up builds those of each jurisdiction), and an
evaluation opens its session in the ruleset of exactly the documents that apply.
"""

from __future__ import annotations

import itertools
import operator
import threading
from collections.abc import Iterable
from functools import reduce

import durable_rules_engine as _engine
import orjson
from durable import engine as _durable_engine
from durable import lang

from engine.kb import conditions
from engine.kb.rules import CompiledRule, doc_fact

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
    return {
        "eq": operator.eq,
        "ne": operator.ne,
        "gte": operator.ge,
        "gt": operator.gt,
        "lte": operator.le,
        "lt": operator.lt,
    }[leaf.op](field, leaf.value)


def _expr(node: conditions.Node):
    if isinstance(node, conditions.Leaf):
        return _leaf_expr(node)
    parts = [_expr(child) for child in node.items]
    return reduce(operator.and_ if isinstance(node, conditions.All) else operator.or_, parts)


class _QuietHost(_durable_engine.Host):
    """A durable_rules host without the background dispatch.

    durable_rules' own host (`lang.get_host()`) starts two chains of timer threads at creation
    that, five times a second, call into the C engine for every ruleset (`dispatch`,
    `dispatch_timers`) without any lock, starting a new thread for each ruleset each time. This
    project uses neither durable_rules timers nor queued actions (every action is taken by the
    evaluation that caused it, under the lock), so the dispatch has nothing to do: this host does
    not start it, and nothing calls into the engine outside the lock.
    """

    def _run(self):
        pass


_HOST: _QuietHost | None = None


def _host() -> _QuietHost:
    global _HOST
    if _HOST is None:
        _HOST = _QuietHost()
    return _HOST


class _Ruleset:
    """One durable_rules ruleset: the rules of one stage group and one set of documents."""

    def __init__(self, name: str, kind: str, rules: list[CompiledRule]):
        self.name, self.kind = name, kind
        # only the facts these rules read go into the message, under their durable_rules names
        self.fields = {f: attr(f) for r in rules for f in r.facts_used}
        definition = lang.ruleset(name)
        with definition:
            # Every message must be handled by some rule: durable_rules corrupts its heap
            # (segfault, "free(): invalid pointer") after messages that no rule matched.
            lang.when_all(lang.m.kind == kind)(_sentinel(kind))
            for rule in rules:
                lang.when_all((lang.m.kind == kind) & _expr(rule.condition))(_action(rule.id))
        lang._rulesets.pop(name, None)  # registered on our host below, not on lang's default host
        host = _host()
        host.register_rulesets(dict([definition.define()]))
        host_ruleset = host.get_ruleset(name)
        self.handle = host_ruleset._handle
        # durable_rules names the rules r_0, r_1, ... in the order defined; map them back
        self.rule_of = {
            rname: getattr(promise.root._func, "rule_id", None) for rname, promise in host_ruleset._actions.items()
        }

    def rule_named(self, message: str) -> str | None:
        """The rule an action message belongs to: `{"r_12":{"m":{...}}}` -> its rule id (None: the sentinel)."""
        if message.startswith('{"'):
            return self.rule_of[message[2 : message.index('"', 2)]]
        return self.rule_of[next(iter(orjson.loads(message)))]

    def fire(self, facts: dict, sid: str) -> list[str]:
        """The rules that fire on `facts`, in a session `sid` deleted afterwards (caller holds _LOCK)."""
        fields = self.fields
        message = {fields[k]: v for k, v in facts.items() if k in fields}
        message["kind"] = self.kind
        message["sid"] = sid
        handle = self.handle
        fired: list[str] = []
        try:
            code, state = _engine.assert_fact(handle, orjson.dumps(message).decode())
            if code in (1, 2):  # not handled / already observed: impossible with the sentinel and a fresh sid
                raise RuntimeError(f"durable_rules refused the facts of a decision (code {code})")
            started = _engine.start_action_for_state(handle, 0 if code == 3 else state)
            action = started[1] if started else None
            while action:
                rule_id = self.rule_named(action)
                if rule_id is not None:
                    fired.append(rule_id)
                action = _engine.complete_and_start_action(handle, state)
        finally:
            _engine.delete_state(handle, sid)
        return fired


def _sentinel(kind: str):
    def matched(c):
        pass

    matched.__name__ = f"sentinel_{kind}"
    return matched


def _action(rule_id: str):
    def record(c):
        pass

    record.rule_id = rule_id  # type: ignore[attr-defined]
    record.__name__ = "r_" + rule_id.replace(".", "_").replace("-", "_")
    return record


class DurableBackend:
    """Fires compiled rules through durable_rules; rulesets built once per process and knowledge base."""

    name = "durable"

    def __init__(self, rules: list[CompiledRule], name: str, document_sets: Iterable[tuple[str, ...]] = ()):
        self.name_prefix = name
        self.rules = rules
        self.order = {r.id: r.order for r in rules}
        self.documents = list(dict.fromkeys(r.document for r in rules))
        self._doc_facts = [(doc_fact(d), d) for d in self.documents]
        self._counter = itertools.count()
        self.last_sid: str | None = None
        self.rulesets: dict[tuple[str, tuple[str, ...]], _Ruleset] = {}
        for docs in document_sets:
            for kind in ("case", "classified"):
                self._ruleset(kind, tuple(d for d in self.documents if d in docs))

    def _ruleset(self, kind: str, docs: tuple[str, ...]) -> _Ruleset:
        key = (kind, docs)
        if key not in self.rulesets:
            wanted = set(docs)
            rules = [r for r in self.rules if r.document in wanted and (r.stage == "classify") == (kind == "case")]
            name = f"{self.name_prefix}_{kind}_{len(self.rulesets)}"
            self.rulesets[key] = _Ruleset(name, kind, rules)
        return self.rulesets[key]

    def fire(self, stages: tuple[str, ...], facts: dict, unknown: frozenset = frozenset()) -> list[str]:
        """Ids of the rules of these stages that fire on `facts`, in rule order."""
        kind = "case" if stages == ("classify",) else "classified"
        docs = tuple(d for f, d in self._doc_facts if facts.get(f) is True)
        with _LOCK:
            ruleset = self._ruleset(kind, docs)
            sid = f"d{next(self._counter)}"
            self.last_sid = sid
            fired = ruleset.fire(facts, sid)
        return sorted(set(fired), key=self.order.__getitem__)


def durable_backend(
    rules: list[CompiledRule], digest: str, document_sets: Iterable[tuple[str, ...]] = ()
) -> DurableBackend:
    """The process-wide backend for this knowledge base (built on first use, with the rulesets of
    `document_sets`, e.g. each jurisdiction's documents)."""
    name = "medtech_" + digest.replace("sha256:", "")[:16]
    with _LOCK:
        if name not in _BUILT:
            _BUILT[name] = DurableBackend(rules, name, document_sets)
        return _BUILT[name]
