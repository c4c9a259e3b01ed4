"""The two evaluators of one compiled knowledge base, built once per process, and the warm-up
that builds everything a decision needs before serving."""

from __future__ import annotations

from functools import lru_cache

from engine.inference.durable_backend import durable_backend
from engine.inference.evaluator import PureEvaluator
from engine.kb.loader import KnowledgeBase, knowledge_base

BACKENDS = ("durable", "pure")


@lru_cache(maxsize=4)
def pure(kb: KnowledgeBase) -> PureEvaluator:
    """The pure-Python evaluator of `kb`'s rules (also finds the facts a decision is missing)."""
    return PureEvaluator(kb.rules)


def durable(kb: KnowledgeBase):
    """The durable_rules back end of `kb`'s rules (built once per digest and process, with the
    rulesets of each jurisdiction's documents)."""
    return durable_backend(kb.rules, kb.digest, [tuple(j.documents) for j in kb.vocabulary.jurisdictions])


def backend(kb: KnowledgeBase, name: str):
    """The evaluator called `name` ("durable" or "pure")."""
    return pure(kb) if name == "pure" else durable(kb)


def warm_up() -> KnowledgeBase:
    """Build everything a decision needs before serving (knowledge base, durable_rules ruleset,
    catalogue index, validators, one decision), then move those long-lived objects out of the
    cyclic collector's reach (gc.freeze) so collections caused by request garbage stay short,
    and collect the youngest generation every 20,000 allocations rather than 700 (a decision
    allocates thousands of objects, almost all freed by reference counting; the collector only
    ever finds them gone)."""
    import gc

    from engine import decide
    from engine.catalog import load_catalogs

    base = knowledge_base()
    durable(base)  # builds the rulesets
    load_catalogs()
    decide({"institution": {"jurisdiction": base.vocabulary.jurisdictions[0].id}})
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)
    return base
