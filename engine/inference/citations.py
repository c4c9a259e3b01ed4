"""What a rule contributes to a response, worked out once per knowledge base and process.

A rule's citations, the citations of its deadline, its materials and consequences are fixed
by the knowledge base; the decision only chooses which rules contribute. So each provision
reference is expanded once (document, eid, Chinese label, verbatim quote) and each rule's
lists are resolved once; a response gets its own copies of the small citation dicts (so a
caller that edits a response cannot change later answers), while the strings they hold are
shared.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from engine.kb.rules import CompiledRule, split_ref


def _quote(kb, ref: str) -> dict:
    doc, eid = split_ref(ref)
    p = kb.provision(doc, eid)
    return {"document": doc, "eid": eid, "label": p.label, "quote": p.text}


@dataclass(frozen=True)
class RuleCitations:
    """A rule's references (document:eid strings, in order, without repeats) and texts."""

    citations: tuple[str, ...]
    deadline: tuple[str, ...]  # the deadline's own `cite`, else the rule's
    deadline_key: tuple  # identifies the deadline spec among a group's
    materials: tuple[tuple[str, str, str], ...]  # (id, text, ref)
    consequences: tuple[tuple[tuple[str, ...], str], ...]  # (refs, text)
    replaces_materials_of: frozenset
    trace_facts: tuple[str, ...]  # the facts its condition reads, as the trace shows them


@dataclass(frozen=True)
class DeadlineView:
    """The fixed part of a deadline spec as the response shows it: (key, value) pairs in order, and
    whether its `date` is computed (a document's date) rather than written in the spec."""

    fixed: tuple
    computed_date: bool
    text: str


@dataclass(frozen=True)
class GroupPlan:
    """What an obligation made of these rules (in rule order) shows whatever the day: who owes what
    to whom, the rules' ids, the events that mark the act done, and each rule's deadline key."""

    act: str
    addressee: str | None  # None: an internal duty, nothing to submit to anyone
    action: str
    actor: str
    rule_ids: tuple[str, ...]
    done_by: tuple[str, ...]
    deadline_keys: tuple
    cited: GroupCitations


@dataclass(frozen=True)
class GroupCitations:
    """The rules of one obligation together: materials (id, text, quote) with the replaced rules'
    left out, distinct consequences (quotes, text), all citations, all deadline citations, and the
    provisions a duty past its day cites (`if_not_done`)."""

    materials: tuple
    consequences: tuple
    citations: tuple
    deadline: tuple
    # the distinct provisions of the consequences, in order (else all citations): what `if_not_done` cites
    if_not_done: tuple


def _deadline_key(spec: dict) -> tuple:
    return tuple(
        spec.get(k) if not isinstance(spec.get(k), dict) else str(spec.get(k))
        for k in ("kind", "days", "months", "event", "date")
    )


class Citations:
    """The citation dicts of one knowledge base (see the module docstring)."""

    def __init__(self, kb):
        self.kb = kb
        self._quotes: dict[str, dict] = {}
        self._rules: dict[str, RuleCitations] = {}
        self._lists: dict[tuple, tuple] = {}
        self._groups: dict[tuple, GroupCitations] = {}
        self._plans: dict[tuple, GroupPlan] = {}
        self._views: dict[str, DeadlineView] = {}

    def cite(self, ref: str) -> dict:
        """A `document:eid` reference expanded with the provision's label and verbatim text (a fresh dict)."""
        q = self._quotes.get(ref)
        if q is None:
            q = self._quotes[ref] = _quote(self.kb, ref)
        return q.copy()

    def cite_all(self, refs) -> list[dict]:
        """`cite` for each reference, in order."""
        return list(map(dict.copy, self.quotes(tuple(refs))))

    def quotes(self, refs: tuple) -> tuple[dict, ...]:
        """The shared quote dicts of `refs` (memoised per tuple; callers copy before handing them out)."""
        out = self._lists.get(refs)
        if out is None:
            out = self._lists[refs] = tuple(self._quote(r) for r in refs)
        return out

    def quote(self, ref: str) -> dict:
        """The shared quote dict of one reference (callers copy before handing it out)."""
        return self._quote(ref)

    def _quote(self, ref: str) -> dict:
        q = self._quotes.get(ref)
        if q is None:
            q = self._quotes[ref] = _quote(self.kb, ref)
        return q

    def group(self, rules: tuple) -> GroupCitations:
        """What a group of rules merged into one obligation contributes whatever the day (memoised)."""
        key = tuple(r.id for r in rules)
        out = self._groups.get(key)
        if out is None:
            of = [self.of(r) for r in rules]
            replaced = {x for c in of for x in c.replaces_materials_of}
            materials = tuple(
                (mid, text, self._quote(ref))
                for r, c in zip(rules, of, strict=True)
                if r.id not in replaced
                for mid, text, ref in c.materials
            )
            consequences = tuple(
                (self.quotes(refs), text) for refs, text in dict.fromkeys(x for c in of for x in c.consequences)
            )
            citations = self.quotes(tuple(dict.fromkeys(x for c in of for x in c.citations)))
            deadline = self.quotes(tuple(dict.fromkeys(x for c in of for x in c.deadline)))
            # each provision once, in order (one shared dict per provision: identity is equality)
            sanctions = {id(q): q for quotes, _ in consequences for q in quotes}
            if_not_done = tuple(sanctions.values()) or citations
            out = self._groups[key] = GroupCitations(materials, consequences, citations, deadline, if_not_done)
        return out

    def plan(self, rules: tuple) -> GroupPlan:
        """The fixed part of the obligation these rules (same act and addressee) merge into (memoised)."""
        key = tuple(r.id for r in rules)
        out = self._plans.get(key)
        if out is None:
            first = rules[0].spec
            out = self._plans[key] = GroupPlan(
                act=first["act"],
                addressee=first["addressee"],
                action=first["action"],
                actor=first["actor"],
                rule_ids=key,
                done_by=tuple(dict.fromkeys(r.spec["done_by"] for r in rules if r.spec.get("done_by"))),
                deadline_keys=tuple(self.of(r).deadline_key for r in rules),
                cited=self.group(rules),
            )
        return out

    def deadline_view(self, rule: CompiledRule) -> DeadlineView:
        """The fixed part of the rule's deadline as shown (memoised)."""
        out = self._views.get(rule.id)
        if out is None:
            spec = rule.spec["deadline"]
            fixed = tuple((k, spec[k]) for k in ("kind", "days", "months", "event") if k in spec)
            computed = "date" in spec and not isinstance(spec["date"], str)
            if "date" in spec and not computed:
                fixed += (("date", spec["date"]),)
            out = self._views[rule.id] = DeadlineView(fixed, computed, spec["text"])
        return out

    def of(self, rule: CompiledRule) -> RuleCitations:
        """The rule's references, resolved once."""
        out = self._rules.get(rule.id)
        if out is None:
            spec = rule.spec
            deadline = spec.get("deadline") or {}
            out = self._rules[rule.id] = RuleCitations(
                citations=tuple(dict.fromkeys(spec["citations"])),
                deadline=tuple(deadline.get("cite") or spec["citations"]),
                deadline_key=_deadline_key(deadline),
                materials=tuple((m["id"], m["text"], m["cite"]) for m in spec.get("materials", [])),
                consequences=tuple((tuple(c["cite"]), c["text"]) for c in spec.get("consequences", [])),
                replaces_materials_of=frozenset(spec.get("replaces_materials_of", [])),
                trace_facts=tuple(f for f in rule.facts_used if not f.startswith("active.")),
            )
        return out


@lru_cache(maxsize=4)
def citations(kb) -> Citations:
    """The citations of `kb` (one per knowledge base and process)."""
    return Citations(kb)
