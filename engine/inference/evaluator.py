"""The pure-Python evaluator of the compiled rules: the oracle for durable_rules, and the
only back end that can say which unknown facts would change the answer.

Which rules fire is a two-valued question (a rule fires when its condition is certainly
true; a leaf on a missing fact is never true, whether or not the fact is unknown), so each
stage's rules are compiled into one generated Python function that reads every fact once
and tests the conditions with plain `and`/`or`. The three-valued closures
(`CompiledRule.test`) remain the reference and answer `undecided`.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.kb import conditions
from engine.kb.rules import CompiledRule, doc_fact

STAGES = ("classify", "obligation", "authority")


class Undecided:
    """A rule the request's unknown facts leave open."""

    __slots__ = ("rule", "facts", "open_facts", "_unknown")

    def __init__(self, rule: CompiledRule, facts: dict, open_facts: frozenset):
        self.rule, self.facts, self.open_facts = rule, facts, open_facts
        self._unknown: tuple | None = None

    @property
    def unknown(self) -> tuple:
        """The unknown leaves whose facts would decide the rule (worked out when first asked)."""
        if self._unknown is None:
            self._unknown = tuple(conditions.relevant_unknowns(self.rule.condition, self.facts, self.open_facts))
        return self._unknown

    def settled(self) -> Undecided:
        """This rule with its deciding leaves worked out now and the facts let go (to be kept in a memo)."""
        self.unknown  # noqa: B018 - computes and keeps the leaves
        self.facts = {}
        return self

    def __repr__(self) -> str:
        return f"Undecided({self.rule.id})"


_MISSING = object()
_PYOPS = {"eq": "==", "ne": "!=", "in": "in", "not_in": "not in", "gte": ">=", "gt": ">", "lte": "<=", "lt": "<"}


def compile_firing(rules: list[CompiledRule], open_facts: frozenset = frozenset()):
    """One function `facts -> [ids of the rules that fire]` (in the given order) for these rules.

    Same truth as `rule.test(facts, unknown) is True` for every `unknown` (tests/test_evaluator.py).
    With `open_facts`, the ids of the rules that may still fire: `rule.test(facts, open_facts) is
    not False`, a comparison on a missing fact of `open_facts` counting as possibly true.
    """
    names: dict[str, str] = {}  # fact -> local variable
    consts: dict[str, object] = {"_M": _MISSING}

    def const(value) -> str:
        name = f"_c{len(consts)}"
        consts[name] = value
        return name

    def expr(node) -> str:
        if isinstance(node, conditions.Leaf):
            var = names.setdefault(node.fact, f"v{len(names)}")
            if node.op == "present":
                return f"({var} is not _M)"
            if node.op == "absent":
                return f"({var} is _M)"
            if node.value is conditions._UNKNOWN:
                return "False"
            value = frozenset(node.value) if node.op in ("in", "not_in") else node.value
            if node.fact in open_facts:
                return f"({var} is _M or {var} {_PYOPS[node.op]} {const(value)})"
            return f"({var} is not _M and {var} {_PYOPS[node.op]} {const(value)})"
        joiner = " and " if isinstance(node, conditions.All) else " or "
        return "(" + joiner.join(expr(child) for child in node.items) + ")"

    tests = [f"    if {expr(r.condition)}:\n        out.append({const(r.id)})\n" for r in rules]
    head = "".join(f"    {var} = get({const(fact)}, _M)\n" for fact, var in names.items())
    source = "def fire(facts):\n    get = facts.get\n" + head + "    out = []\n" + "".join(tests) + "    return out\n"
    namespace = dict(consts)
    exec(compile(source, "<compiled rules>", "exec"), namespace)  # noqa: S102 - code generated from the rule tree above
    return namespace["fire"]


# compiled `possible` functions kept (one per set of open facts and rules; a handful in practice)
_COMPILED_LIMIT = 512


class PureEvaluator:
    """Evaluates compiled rules stage by stage over a flat fact dict."""

    name = "pure"

    def __init__(self, rules: list[CompiledRule]):
        self.rules = rules
        self.by_stage = {s: sorted((r for r in rules if r.stage == s), key=lambda r: r.order) for s in STAGES}
        self.order = {r.id: r.order for r in rules}
        self._doc_facts = [(doc_fact(d), d) for d in dict.fromkeys(r.document for r in rules)]
        # the documents that apply -> per stage: (their rules, compiled firing); a few per knowledge base
        self._by_documents: dict[tuple, dict] = {}
        # (open facts, rules) -> compiled (a few per knowledge base)
        self._possible: dict[tuple, Callable[[dict], list[str]]] = {}
        self._reads: dict[tuple | None, frozenset] = {}  # rules -> the facts they read

    def possible(self, facts: dict, open_facts: frozenset, among: tuple[CompiledRule, ...] | None = None) -> set:
        """Ids of the rules (of every stage, or only those `among`, in rule order) not certainly false on
        `facts` when the `open_facts` they lack might take any value: `rule.test(facts, open_facts) is not False`."""
        read = self._reads.get(among)
        if read is None:
            read = self._reads[among] = frozenset(f for r in (among or self.rules) for f in r.fact_set)
        key = (open_facts & read, among)  # only the open facts these rules read make a difference
        compiled = self._possible.get(key)
        if compiled is None:
            if len(self._possible) >= _COMPILED_LIMIT:
                self._possible.clear()
            rules = among if among is not None else self.rules
            compiled = self._possible[key] = compile_firing(sorted(rules, key=lambda r: r.order), key[0])
        return set(compiled(facts))

    def _applicable(self, facts: dict, unknown: frozenset = frozenset()) -> dict:
        """Per stage, the rules of the documents that apply (`active.<doc>` true, or unknown and not given)
        with their compiled firing: every compiled rule carries that leaf (engine.kb.rules), so no other
        rule can fire or be undecided."""
        docs = tuple(d for f, d in self._doc_facts if facts.get(f) is True or (f in unknown and f not in facts))
        per = self._by_documents.get(docs)
        if per is None:
            wanted = set(docs)
            per = {}
            for s in STAGES:
                rules = tuple(r for r in self.by_stage[s] if r.document in wanted)
                per[s] = (rules, compile_firing(list(rules)))
            self._by_documents[docs] = per
        return per

    def fire(self, stages: tuple[str, ...], facts: dict, unknown: frozenset = frozenset()) -> list[str]:
        """Ids of the rules of these stages whose conditions are true, in rule order."""
        per = self._applicable(facts)
        if len(stages) == 1:
            return per[stages[0]][1](facts)
        fired = [i for s in stages for i in per[s][1](facts)]
        return sorted(fired, key=self.order.__getitem__)

    def undecided(self, stages: tuple[str, ...], facts: dict, unknown: frozenset = frozenset()) -> list[Undecided]:
        """Rules whose truth depends on facts the request leaves unknown (those in `unknown`): those that
        may be true (`possible`) but are not (`fire`); each with the unknown leaves that would decide it."""
        out: list[Undecided] = []
        if not unknown:
            return out
        per = self._applicable(facts, unknown)
        snapshot = None  # the facts as they are now (the caller may add to its dict later)
        for s in stages:
            rules, fire = per[s]
            maybe = self.possible(facts, unknown, rules)
            if not maybe:
                continue
            maybe.difference_update(fire(facts))
            for r in rules:
                if r.id in maybe:
                    snapshot = snapshot or dict(facts)
                    out.append(Undecided(r, snapshot, unknown))
        return out
