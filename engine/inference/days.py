"""The rules' conclusions on each day a decision needs, with the cross-request memo of rule evaluation.

A decision takes the law at several days (the day asked, the events' days, the days transition provisions
speak: engine.inference.lawday); `Days` works each out once per decision: the documents and catalogue versions
in force that day, the technique's class then, and the obligation and authority rules that fire. What the rules
conclude from a day's facts comes from the memos of engine.inference.memo when they hold it.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from engine.inference import backends, memo
from engine.inference.facts import Facts, day_facts, request_facts
from engine.inference.lawday import Day
from engine.kb import validity

# what the rules conclude on a day's facts, across decisions (engine.inference.memo): the class, then the
# obligation and authority rules that fire
_CLASSIFICATIONS = memo.memo("classification")
_FIRINGS = memo.memo("firing")
LATER_STAGES = ("obligation", "authority")


@lru_cache(maxsize=1)
def _resolve_on():
    # imported on first use: the catalogues are not needed to import this module
    from engine.catalog.resolve import resolve_on

    return resolve_on


def resolve_technology(request, day: dt.date):
    """The catalogue resolution of the request's technology on `day` (None without one). Its nested
    values are shared with the catalogue memo: read only (what reaches a response is copied there)."""
    tech = request.technology
    if tech is None or not (tech.get("name") or tech.get("code")):
        return None
    res = _resolve_on()(
        tech.get("name"), tech.get("code"), request.jurisdiction.id, day, tech.get("surgery_grade"), fresh=False
    )
    res["by_code"] = bool(tech.get("code")) and not tech.get("name")
    return res


_SETS: dict[frozenset, frozenset] = {}


def _one_copy(fired: frozenset) -> frozenset:
    """One object for equal sets of rules fired (the memo keeps many): a few hundred distinct sets."""
    if len(_SETS) >= 65536:
        _SETS.clear()
    return _SETS.setdefault(fired, fired)


def _settled(classified: tuple) -> tuple:
    """A classification to keep in the memo: its blocking undecided rules with their leaves worked out and
    no copy of the facts."""
    cls, rules, blocking = classified
    return cls, rules, [u.settled() for u in blocking]


def classify(kb, backend, facts_obj, resolution) -> tuple[str | None, list, list]:
    """The technology's class, the classification rules that fired, and the undecided ones that matter."""
    if resolution is None:
        return None, [], []
    precedence = kb.vocabulary.raw["class_precedence"]
    unknown = frozenset(facts_obj.unknown_because)
    fired = [kb.rule_by_id[i] for i in backend.fire(("classify",), facts_obj.values, unknown)]
    undecided = backends.pure(kb).undecided(("classify",), facts_obj.values, unknown)
    best = min((precedence.index(r.spec["class"]) for r in fired), default=len(precedence))
    # only an undecided rule of a class that would prevail can change the answer: a prohibited
    # ground that fired decides `prohibited` whatever else the name leaves unknown
    blocking = [u for u in undecided if precedence.index(u.rule.spec["class"]) < best]
    if blocking or best == len(precedence):
        return "undetermined", fired, blocking
    winner = precedence[best]
    return winner, [r for r in fired if r.spec["class"] == winner], []


@lru_cache(maxsize=16384)
def status_on(kb, doc_id: str, day: dt.date) -> str:
    """A document's status on a day (engine.kb.validity.status_on), memoised: decisions ask of few days."""
    return validity.status_on(kb.documents[doc_id].dates, day)


class Days:
    """The rules' conclusions on each day a decision needs (the day asked, the events' days, the
    days transition provisions speak), each computed once: documents and catalogue versions in
    force that day, the technique's class then, and the obligation and authority rules that fire."""

    def __init__(self, kb, engine, req, events: dict):
        self.kb, self.engine, self.req, self.events = kb, engine, req, events
        self.cache: dict[dt.date, Day] = {}
        # days whose facts are the same (same documents applicable, same listings) fire the same rules:
        # evaluate them once
        self.by_facts: dict[tuple, tuple] = {}
        self.base_facts: Facts | None = None  # the facts that are the same on every day, built once

    def evaluate(self, day: dt.date):
        """(Day, facts, resolution, class rules, blocking undecided rules) on `day`."""
        docs = self.req.jurisdiction.documents
        statuses = {d: status_on(self.kb, d, day) for d in docs}
        active = [d for d in docs if statuses[d] in validity.APPLICABLE]
        resolution = resolve_technology(self.req, day)
        if self.base_facts is None:
            self.base_facts = request_facts(self.req, self.events)
        facts_obj = day_facts(self.base_facts, self.req, resolution, active)
        # facts are built in the same order every day: equal facts give equal keys without sorting
        key = (tuple(facts_obj.values.items()), tuple(facts_obj.unknown_because))
        found = self.by_facts.get(key)
        if found is None:
            found = self.by_facts[key] = self._conclude(facts_obj, resolution)
        cls, class_rules, blocking, fired = found
        if cls is not None:
            facts_obj.values["class"] = cls
        uncertain = [
            d
            for d in docs
            if statuses[d] == "uncertain"
            and validity.bounds(self.kb.documents[d].dates.get("in_force_from"))[0] is not None
        ]
        return Day(day, active, uncertain, cls, fired), facts_obj, resolution, class_rules, blocking

    def _conclude(self, facts_obj, resolution) -> tuple:
        """(class, class rules, blocking undecided rules, obligation and authority rules fired) on these facts,
        each stage from its memo (engine.inference.memo) when the memos are on."""
        kb, engine, values = self.kb, self.engine, facts_obj.values
        unknown = frozenset(facts_obj.unknown_because)
        cls, class_rules, blocking = _CLASSIFICATIONS.get_or_compute(
            (
                engine.name,
                kb.digest,
                resolution is None,
                memo.abstraction(kb, ("classify",)).key_with_unknown(values, unknown),
            ),
            lambda: _settled(classify(kb, engine, facts_obj, resolution)),
        )
        with_class = dict(values, **({"class": cls} if cls is not None else {}))
        fired = _FIRINGS.get_or_compute(
            (engine.name, kb.digest, memo.abstraction(kb, LATER_STAGES).key_with_unknown(with_class, unknown)),
            lambda: _one_copy(frozenset(engine.fire(LATER_STAGES, with_class, unknown))),
        )
        return cls, class_rules, blocking, fired

    def __call__(self, day: dt.date) -> Day:
        if day not in self.cache:
            self.cache[day] = self.evaluate(day)[0]
        return self.cache[day]
