"""Rule conditions: parsed from YAML into a small tree in negation normal form.

Leaves compare one fact with a constant. `not` is pushed down to the leaves at compile
time, so both back ends (durable_rules and the pure evaluator) see only and/or/leaf.
A leaf on a fact the request leaves unknown is neither true nor false: the pure evaluator
returns None for it (three-valued logic), which is how missing facts are found.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

NEGATE = {
    "eq": "ne",
    "ne": "eq",
    "in": "not_in",
    "not_in": "in",
    "gte": "lt",
    "lt": "gte",
    "lte": "gt",
    "gt": "lte",
    "before": "on_or_after",
    "on_or_after": "before",
}
DATE_OPS = {"before": "lt", "on_or_after": "gte"}


@dataclass(frozen=True)
class Leaf:
    fact: str
    op: str  # eq ne in not_in gte gt lte lt present absent
    value: Any = None  # a JSON scalar, a tuple of them (in/not_in), or _UNKNOWN

    def __str__(self) -> str:
        return (
            f"{self.fact} {self.op} {self.value!r}"
            if self.op not in ("present", "absent")
            else f"{self.fact} {self.op}"
        )


@dataclass(frozen=True)
class All:
    items: tuple


@dataclass(frozen=True)
class Any_:
    items: tuple


Node = Leaf | All | Any_


def parse(spec, resolve_date: Callable[[object, str], int | None], negate: bool = False) -> Node:
    """Turn a YAML condition into a tree; `resolve_date(ref, op)` maps a date reference compared with
    `op` ("before" or "on_or_after") to an ordinal (or None if unknown)."""
    if "all" in spec or "any" in spec:
        key = "all" if "all" in spec else "any"
        children = tuple(parse(s, resolve_date, negate) for s in spec[key])
        conj = (key == "all") != negate
        return All(children) if conj else Any_(children)
    if "not" in spec:
        return parse(spec["not"], resolve_date, not negate)
    fact = spec["fact"]
    ((op, value),) = [(k, v) for k, v in spec.items() if k != "fact"]
    if op == "present":
        op = "present" if bool(value) != negate else "absent"
        return Leaf(fact, op)
    if negate:
        op = NEGATE[op]
    if op in DATE_OPS:
        ordinal = resolve_date(value, op)
        # an unknown reference date (an incomplete source) makes the leaf unknowable
        return Leaf(fact, DATE_OPS[op], ordinal if ordinal is not None else _UNKNOWN)
    if op in ("in", "not_in"):
        value = tuple(value)
    return Leaf(fact, op, value)


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


_UNKNOWN = _Unknown()


def leaves(node: Node) -> list[Leaf]:
    """Every leaf of a tree, left to right."""
    if isinstance(node, Leaf):
        return [node]
    return [leaf for child in node.items for leaf in leaves(child)]


def compare(leaf: Leaf, facts: dict, unknown: frozenset = frozenset()):
    """A leaf's truth value: True, False, or None when its fact is unknown.

    An absent fact is unknown only when it is one the request should have given (`unknown`);
    any other absent fact (an event that did not happen, a date not given) makes every
    comparison false, exactly as durable_rules treats a missing property.
    """
    if leaf.op == "present":
        return leaf.fact in facts
    if leaf.op == "absent":
        return leaf.fact not in facts
    if leaf.value is _UNKNOWN:  # an unknowable constant: never true, whatever the fact (as compile_node)
        return False
    if leaf.fact not in facts:
        return None if leaf.fact in unknown else False
    x, v = facts[leaf.fact], leaf.value
    if leaf.op == "eq":
        return x == v
    if leaf.op == "ne":
        return x != v
    if leaf.op == "in":
        return x in v
    if leaf.op == "not_in":
        return x not in v
    if leaf.op == "gte":
        return x >= v
    if leaf.op == "gt":
        return x > v
    if leaf.op == "lte":
        return x <= v
    if leaf.op == "lt":
        return x < v
    raise ValueError(f"unknown operator {leaf.op}")


def evaluate(node: Node, facts: dict, unknown: frozenset = frozenset()):
    """Kleene three-valued evaluation over `facts`; facts in `unknown` are neither true nor false."""
    if isinstance(node, Leaf):
        return compare(node, facts, unknown)
    results = [evaluate(child, facts, unknown) for child in node.items]
    if isinstance(node, All):
        if any(r is False for r in results):
            return False
        return None if any(r is None for r in results) else True
    if any(r is True for r in results):
        return True
    return None if any(r is None for r in results) else False


def relevant_unknowns(node: Node, facts: dict, unknown: frozenset = frozenset()) -> list[Leaf]:
    """The unknown leaves that could change the node's value (those under a subtree still undecided)."""
    return _value_and_unknowns(node, facts, unknown)[1]


def _value_and_unknowns(node: Node, facts: dict, unknown: frozenset) -> tuple:
    """(the node's three-valued truth, its relevant unknown leaves) in one walk of the tree."""
    if isinstance(node, Leaf):
        v = compare(node, facts, unknown)
        return v, ([node] if v is None else [])
    results = [_value_and_unknowns(child, facts, unknown) for child in node.items]
    decisive = not isinstance(node, All)  # a child with this value decides the node
    if any(r is decisive for r, _ in results):
        return decisive, []
    if any(r is None for r, _ in results):
        return None, [leaf for r, found in results if r is None for leaf in found]
    return not decisive, []


_OPS = {
    "eq": lambda x, v: x == v,
    "ne": lambda x, v: x != v,
    "in": lambda x, v: x in v,
    "not_in": lambda x, v: x not in v,
    "gte": lambda x, v: x >= v,
    "gt": lambda x, v: x > v,
    "lte": lambda x, v: x <= v,
    "lt": lambda x, v: x < v,
}


def compile_node(node: Node):
    """The node as a closure `(facts, unknown) -> True | False | None`, same semantics as evaluate()."""
    if isinstance(node, Leaf):
        fact, value = node.fact, node.value
        if node.op == "present":
            return lambda facts, unknown: fact in facts
        if node.op == "absent":
            return lambda facts, unknown: fact not in facts
        if value is _UNKNOWN:
            return lambda facts, unknown: False
        op = _OPS[node.op]

        def leaf(facts, unknown):
            if fact in facts:
                return op(facts[fact], value)
            return None if fact in unknown else False

        return leaf
    parts = [compile_node(child) for child in node.items]
    if isinstance(node, All):

        def conj(facts, unknown):
            result: bool | None = True
            for part in parts:
                r = part(facts, unknown)
                if r is False:
                    return False
                if r is None:
                    result = None
            return result

        return conj

    def disj(facts, unknown):
        result: bool | None = False
        for part in parts:
            r = part(facts, unknown)
            if r is True:
                return True
            if r is None:
                result = None
        return result

    return disj
