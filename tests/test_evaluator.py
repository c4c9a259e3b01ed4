"""The generated firing functions of the pure evaluator agree with the reference closures.

Facts are drawn from the values the rules themselves compare with (and their neighbours), so
that every kind of leaf is exercised both ways; some facts are left out, some of those declared
unknown.
"""

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.inference.evaluator import STAGES, PureEvaluator, compile_firing
from engine.kb import conditions
from engine.kb.loader import knowledge_base
from engine.kb.rules import CompiledRule

KB = knowledge_base()
EVALUATOR = PureEvaluator(KB.rules)


def _candidates() -> dict[str, list]:
    values: dict[str, list] = {}
    for rule in KB.rules:
        for leaf in conditions.leaves(rule.condition):
            seen = values.setdefault(leaf.fact, [])
            raw = leaf.value if isinstance(leaf.value, tuple) else (leaf.value,)
            for v in raw:
                if v is None or v is conditions._UNKNOWN:
                    continue
                extra = [v - 1, v + 1] if isinstance(v, int) and not isinstance(v, bool) else []
                for x in [v, *extra]:
                    if x not in seen:
                        seen.append(x)
            if not seen:
                seen.append(True)
    return values


CANDIDATES = _candidates()
FACTS = sorted(CANDIDATES)


@st.composite
def fact_sets(draw):
    facts, unknown = {}, set()
    for fact in FACTS:
        choice = draw(st.integers(0, 3))
        if choice == 0:
            if draw(st.booleans()):
                unknown.add(fact)
            continue
        facts[fact] = draw(st.sampled_from(CANDIDATES[fact]))
    return facts, frozenset(unknown)


@settings(max_examples=400, deadline=None)
@given(fact_sets())
def test_generated_firing_agrees_with_the_closures(case):
    facts, unknown = case
    for stage in STAGES:
        expected = [r.id for r in EVALUATOR.by_stage[stage] if r.test(facts, unknown) is True]
        assert EVALUATOR.fire((stage,), facts, unknown) == expected


@settings(max_examples=200, deadline=None)
@given(fact_sets())
def test_undecided_rules_are_those_the_closures_leave_open(case):
    facts, unknown = case
    for stage in STAGES:
        expected = [r.id for r in EVALUATOR.by_stage[stage] if r.test(facts, unknown) is None]
        assert [u.rule.id for u in EVALUATOR.undecided((stage,), facts, unknown)] == expected


@settings(max_examples=200, deadline=None)
@given(fact_sets())
def test_possible_rules_are_those_the_closures_do_not_rule_out(case):
    facts, open_facts = case
    expected = {r.id for r in KB.rules if r.test(facts, open_facts) is not False}
    assert EVALUATOR.possible(facts, open_facts) == expected


def test_every_operator_and_a_missing_fact():
    leaf = conditions.Leaf
    rules = [
        CompiledRule(f"r{i}", "doc", "classify", i, cond, {})
        for i, cond in enumerate(
            [
                leaf("a", "eq", 1),
                leaf("a", "ne", 1),
                leaf("a", "in", (1, 2)),
                leaf("a", "not_in", (1, 2)),
                leaf("a", "gte", 2),
                leaf("a", "gt", 2),
                leaf("a", "lte", 2),
                leaf("a", "lt", 2),
                leaf("a", "present"),
                leaf("a", "absent"),
                leaf("a", "eq", conditions._UNKNOWN),
                conditions.All((leaf("a", "eq", 1), leaf("b", "eq", "x"))),
                conditions.Any_((leaf("a", "eq", 1), leaf("b", "eq", "x"))),
            ]
        )
    ]
    fire = compile_firing(rules)
    assert fire({"a": 1}) == ["r0", "r2", "r6", "r7", "r8", "r12"]
    assert fire({"a": 2, "b": "x"}) == ["r1", "r2", "r4", "r6", "r8", "r12"]
    assert fire({"a": 3}) == ["r1", "r3", "r4", "r5", "r8"]
    assert fire({"b": "x"}) == ["r9", "r12"]  # a comparison on a missing fact is never true
    assert fire({"a": 1, "b": "x"}) == ["r0", "r2", "r6", "r7", "r8", "r11", "r12"]
    maybe = compile_firing(rules, frozenset({"a"}))  # "a" may take any value when missing
    assert maybe({"b": "y"}) == ["r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r9", "r12"]
    assert maybe({"a": 3, "b": "y"}) == ["r1", "r3", "r4", "r5", "r8"]
