"""Three-valued condition logic and negation normal form (engine/conditions.py)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.kb import conditions as c


def parse(spec):
    return c.parse(spec, lambda ref, op: {"2018-08-13": 736919}.get(ref) if isinstance(ref, str) else None)


@pytest.mark.parametrize(
    "spec, facts, expected",
    [
        ({"fact": "a", "eq": 1}, {"a": 1}, True),
        ({"fact": "a", "eq": 1}, {"a": 2}, False),
        ({"fact": "a", "ne": 1}, {"a": 2}, True),
        ({"fact": "a", "in": [1, 2]}, {"a": 2}, True),
        ({"fact": "a", "not_in": [1, 2]}, {"a": 3}, True),
        ({"fact": "a", "gte": 2}, {"a": 2}, True),
        ({"fact": "a", "lt": 2}, {"a": 2}, False),
        ({"fact": "a", "present": True}, {}, False),
        ({"fact": "a", "present": False}, {}, True),
        ({"fact": "d", "before": "2018-08-13"}, {"d": 736918}, True),
        ({"fact": "d", "on_or_after": "2018-08-13"}, {"d": 736918}, False),
        ({"not": {"fact": "a", "eq": 1}}, {"a": 1}, False),
        ({"not": {"all": [{"fact": "a", "eq": 1}, {"fact": "b", "eq": 1}]}}, {"a": 1, "b": 2}, True),
        ({"not": {"any": [{"fact": "a", "eq": 1}, {"fact": "b", "eq": 1}]}}, {"a": 2, "b": 2}, True),
        ({"not": {"not": {"fact": "a", "eq": 1}}}, {"a": 1}, True),
    ],
)
def test_two_valued(spec, facts, expected):
    assert c.evaluate(parse(spec), facts) is expected


def test_absent_optional_fact_is_false_not_unknown():
    node = parse({"fact": "x", "eq": 1})
    assert c.evaluate(node, {}) is False
    assert c.evaluate(node, {}, frozenset({"x"})) is None


@pytest.mark.parametrize(
    "spec, expected",
    [
        ({"all": [{"fact": "k", "eq": 1}, {"fact": "u", "eq": 1}]}, None),  # T and U = U
        ({"all": [{"fact": "k", "eq": 2}, {"fact": "u", "eq": 1}]}, False),  # F and U = F
        ({"any": [{"fact": "k", "eq": 1}, {"fact": "u", "eq": 1}]}, True),  # T or U = T
        ({"any": [{"fact": "k", "eq": 2}, {"fact": "u", "eq": 1}]}, None),  # F or U = U
        ({"not": {"fact": "u", "eq": 1}}, None),  # not U = U
    ],
)
def test_kleene_tables(spec, expected):
    assert c.evaluate(parse(spec), {"k": 1}, frozenset({"u"})) is expected


def test_relevant_unknowns_ignore_decided_branches():
    node = parse({"any": [{"fact": "k", "eq": 1}, {"fact": "u", "eq": 1}]})
    assert c.relevant_unknowns(node, {"k": 1}, frozenset({"u"})) == []
    node = parse({"all": [{"fact": "k", "eq": 1}, {"fact": "u", "eq": 1}]})
    assert [leaf.fact for leaf in c.relevant_unknowns(node, {"k": 1}, frozenset({"u"}))] == ["u"]


def test_unknowable_constant_never_holds():
    node = c.parse({"fact": "d", "before": {"document": "x", "date": "in_force_from"}}, lambda ref, op: None)
    assert c.evaluate(node, {"d": 1}) is False


# ---------------------------------------------------------------- compiled closures == reference interpreter

FACTS = ["a", "b", "u"]
leaf_specs = st.one_of(
    st.builds(
        lambda f, op, v: {"fact": f, op: v},
        st.sampled_from(FACTS),
        st.sampled_from(["eq", "ne", "gte", "lt"]),
        st.integers(0, 3),
    ),
    st.builds(
        lambda f, v: {"fact": f, "in": v}, st.sampled_from(FACTS), st.lists(st.integers(0, 3), min_size=1, max_size=3)
    ),
    st.builds(lambda f, v: {"fact": f, "present": v}, st.sampled_from(FACTS), st.booleans()),
)
specs = st.recursive(
    leaf_specs,
    lambda inner: st.one_of(
        st.builds(lambda xs: {"all": xs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda xs: {"any": xs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda x: {"not": x}, inner),
    ),
    max_leaves=8,
)
fact_values = st.dictionaries(st.sampled_from(FACTS), st.integers(0, 3))


@settings(max_examples=500, deadline=None)
@given(specs, fact_values, st.sets(st.sampled_from(FACTS)))
def test_compiled_closure_matches_interpreter(spec, facts, unknown):
    node = parse(spec)
    unknown = frozenset(unknown) - set(facts)
    assert c.compile_node(node)(facts, unknown) is c.evaluate(node, facts, unknown)
