"""The pure-Python evaluator of the compiled rules: the oracle for durable_rules, and the
only back end that can say which unknown facts would change the answer."""
from __future__ import annotations

from dataclasses import dataclass

from engine.kb import conditions
from engine.kb.rules import CompiledRule


@dataclass(frozen=True)
class Undecided:
    rule: CompiledRule
    unknown: tuple  # the leaves whose facts would decide the rule


class PureEvaluator:
    """Evaluates compiled rules stage by stage over a flat fact dict."""

    name = "pure"

    def __init__(self, rules: list[CompiledRule]):
        self.rules = rules
        self.by_stage = {s: [r for r in rules if r.stage == s] for s in ("classify", "obligation", "authority")}

    def fire(self, stages: tuple[str, ...], facts: dict, unknown: frozenset = frozenset()) -> list[str]:
        """Ids of the rules of these stages whose conditions are true, in rule order."""
        fired = [r for s in stages for r in self.by_stage[s] if r.test(facts, unknown) is True]
        return [r.id for r in sorted(fired, key=lambda r: r.order)]

    def undecided(self, stages: tuple[str, ...], facts: dict, unknown: frozenset = frozenset()) -> list[Undecided]:
        """Rules whose truth depends on facts the request leaves unknown (those in `unknown`).

        Only a rule that mentions an unknown fact can be undecided, so the others are skipped.
        """
        out: list[Undecided] = []
        if not unknown:
            return out
        for s in stages:
            for r in self.by_stage[s]:
                if r.fact_set.isdisjoint(unknown):
                    continue
                if r.test(facts, unknown) is None:
                    out.append(Undecided(r, tuple(conditions.relevant_unknowns(r.condition, facts, unknown))))
        return out
