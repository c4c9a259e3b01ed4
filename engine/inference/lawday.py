"""The law in force at the event (contract §5 "Which law governs an event").

One mechanism for every rule: a rule is evaluated against the documents and catalogue versions in
force on the day that governs it, and `as_of` only sets the status of what it concludes.
- a rule whose deadline runs from an event: the day of that event (each occurrence, for a duty owed
  per occurrence);
- a transition provision (`governed_by: {document, date}`): the day it speaks, so that it covers only
  techniques restricted then;
- any other rule (`governed_by: as_of`, or no event given): the day asked.
A rule that applies on the day asked but not on the day of its (past) event is a duty the event came
too early for: unless another rule for the same act (a transition provision) was kept, it is reported
with no due date and the warning `event_before_in_force`. A day inside the imprecise window of a
document's effective date (Jilin: "2021年 月 日") cannot be placed before or after it: what depends
on that is kept with no due date and the warning `effective_date_unknown`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from engine.inference.deadlines import PERIODIC_KINDS
from engine.inference.facts import DAY_DEPENDENT
from engine.inference.occurrences import EACH, counting
from engine.kb import validity
from engine.kb.rules import CompiledRule


@dataclass
class Day:
    """What the rules conclude on one day: documents applicable, the technique's class, rules fired."""

    day: dt.date
    active: list[str]
    uncertain: list[str]  # documents whose effective date may or may not have been reached that day
    cls: str | None
    fired: frozenset


@dataclass
class Selected:
    rule: CompiledRule
    triggers: tuple = ()  # the event dates (occurrences) the rule is governed by, when it has any
    no_due: bool = False  # the governing day cannot be placed (uncertain) or precedes the provision


def _window_hit(rule: CompiledRule, facts: dict) -> tuple | None:
    for fact, lo, hi in rule.windows:
        value = facts.get(fact)
        if isinstance(value, int) and lo <= value <= hi:
            return fact, lo, hi
    return None


@lru_cache(maxsize=4)
def _varying(kb) -> frozenset:
    """The day-dependent facts any rule of `kb` reads."""
    return frozenset(f for r in kb.rules for f in r.facts_used if f.startswith(DAY_DEPENDENT))


@lru_cache(maxsize=64)
def _candidates(kb, stages: tuple[str, ...], documents: frozenset) -> tuple[CompiledRule, ...]:
    """The rules of these stages and documents, in rule order (the same few lists for every decision)."""
    return tuple(r for r in kb.rules if r.stage in stages and r.document in documents)


@lru_cache(maxsize=64)
def _plan(kb, stages: tuple[str, ...], documents: frozenset) -> tuple:
    """For each candidate rule (see `_candidates`): (rule, the transition day reference it is governed
    by, the event whose day governs it, whether each occurrence of that event does, whether it is owed
    per period) - what `Governance.select` asks of every rule, read from its spec once."""
    out = []
    for rule in _candidates(kb, stages, documents):
        g = rule.governed_by
        deadline = rule.spec.get("deadline") or {}
        event: str | None = deadline.get("event") if g is None else None
        each = event is not None and counting(kb.vocabulary, event) == EACH
        out.append(
            (rule, g if isinstance(g, dict) else None, event or None, each, deadline.get("kind") in PERIODIC_KINDS)
        )
    return tuple(out)


def _speaking_day(kb, ref: dict) -> dt.date | None:
    return validity.bounds(kb.documents[ref["document"]].dates.get(ref["date"]))[0]


class Governance:
    """Selects, from every obligation and authority rule, those the law of their governing day applies."""

    def __init__(
        self,
        kb,
        as_of: dt.date,
        day_of: Callable[[dt.date], Day],
        base_facts: dict,
        occ: dict,
        counted: dict,
        documents: tuple[str, ...] | list[str],
        institution_wide_only: bool,
    ):
        self.kb, self.as_of, self.day_of = kb, as_of, day_of
        self.facts, self.occ, self.counted = base_facts, occ, counted
        self.documents = set(documents)
        self.institution_wide_only = institution_wide_only
        self.warnings: list[dict] = []
        # the facts that are the same on every day, and those that are not (left unknown): a rule that
        # is false on these fires on no day, and no day need be evaluated for it
        self.fixed = {k: v for k, v in base_facts.items() if not k.startswith(DAY_DEPENDENT)}
        self.varying = _varying(kb)

    def _possible(self, candidates: tuple[CompiledRule, ...]) -> set:
        """Ids of the `candidates` that may fire on some day: rule.test(fixed, varying) is not False."""
        from engine.inference.backends import pure

        return pure(self.kb).possible(self.fixed, self.varying, candidates)

    def _uncertain_on(self, rule: CompiledRule, day: Day) -> bool:
        """Whether the rule's firing on `day` depends on a document whose start may fall after that day."""
        if not day.uncertain:
            return False
        if rule.document in day.uncertain:
            return True
        starts = [validity.bounds(self.kb.documents[d].dates.get("in_force_from"))[0] for d in day.uncertain]
        before = self.day_of(min(s for s in starts if s) - dt.timedelta(days=1))
        return rule.id not in before.fired

    def select(self, stages: tuple[str, ...]) -> list[Selected]:
        base = self.day_of(self.as_of)
        kept: list[Selected] = []
        early: list[tuple[CompiledRule, dt.date]] = []
        documents = frozenset(self.documents)
        possible = self._possible(_candidates(self.kb, stages, documents))
        wide_only, occ, counted, as_of, fired_now = (
            self.institution_wide_only,
            self.occ,
            self.counted,
            self.as_of,
            base.fired,
        )
        for rule, speaking, event, each, periodic in _plan(self.kb, stages, documents):
            if rule.id not in possible or (wide_only and not rule.institution_wide):
                continue
            if speaking is not None:
                day = _speaking_day(self.kb, speaking)
                if day is None or rule.id not in self.day_of(day).fired:
                    continue
                hit = _window_hit(rule, self.facts)
                if hit:
                    self._warn_window(rule, hit)
                kept.append(Selected(rule, no_due=bool(hit)))
                continue
            if event is None or event not in occ:
                if rule.id in fired_now:
                    kept.append(Selected(rule))
                continue
            dates = occ[event] if each else (counted[event],)
            ok = [d for d in dates if rule.id in self.day_of(d).fired]  # day_of evaluates each day once
            if ok:
                uncertain = [d for d in ok if self._uncertain_on(rule, self.day_of(d))]
                for d in uncertain[:1]:
                    self._warn_uncertain(rule, d)
                kept.append(Selected(rule, tuple(ok), no_due=bool(uncertain)))
            elif rule.id in fired_now and dates[0] < as_of and periodic:
                # a duty owed per period (每季度第1周) is governed by each period's own days, not by the
                # first event's: a document in force now covers the periods since it took effect
                kept.append(Selected(rule, (dates[0],)))
            elif rule.id in fired_now and dates[0] < as_of:
                early.append((rule, dates[0]))
        acts = {s.rule.spec["act"] for s in kept}
        by_cause: dict[tuple, list] = {}
        never: dict[dt.date, list] = {}
        early = [(rule, day) for rule, day in early if rule.spec["act"] not in acts]  # else a transition
        # provision (or another rule for the act) decides
        causes = {rule.id: self._early_cause(rule, day) for rule, day in early}
        # a duty conditioned on a class the technique did not have on the event's day never arose (contract
        # §5 "Duties that never arose"): not listed, and class_changed says why; so for the same act of a
        # document not yet in force that day
        never_acts = {
            (rule.spec["act"], day)
            for rule, day in early
            if causes[rule.id][2] is None and "class" in rule.facts_used and self.day_of(day).cls != base.cls
        }
        for rule, day in early:
            if (rule.spec["act"], day) in never_acts:
                never.setdefault(day, []).append(rule)
                by_cause.setdefault((causes[rule.id][0], day, None), []).append((rule, day, False))
                continue
            cause = causes[rule.id]
            if (rule.spec.get("deadline") or {}).get("kind") == "immediately":
                # an immediate duty for an event before its provision took effect never existed
                by_cause.setdefault(cause, []).append((rule, day, False))
                continue
            kept.append(Selected(rule, (day,), no_due=True))
            by_cause.setdefault(cause, []).append((rule, day, True))
        for cause, items in by_cause.items():
            self._warn_early(cause, items)
        self._warn_class_changed(base, never, kept)
        return sorted(kept, key=lambda s: s.rule.order)

    # ------------------------------------------------------------------ warnings
    def _event_name(self, rule: CompiledRule) -> str:
        event = (rule.spec.get("deadline") or {}).get("event")
        return self.kb.vocabulary.names("event_types").get(event, event or "")

    def _early_cause(self, rule: CompiledRule, day: dt.date) -> tuple:
        """Why a rule that applies today did not on its event's day: (event type, day, the documents not
        yet in force then, or () when the catalogue then did not list the technique as restricted)."""
        d = self.day_of(day)
        event = (rule.spec.get("deadline") or {}).get("event")
        doc = self.kb.documents[rule.document]
        start = validity.bounds(doc.dates.get("in_force_from"))[0]
        if rule.document not in d.active and start and day < start:
            return (event, day, rule.document)
        return (event, day, None)

    def _warn_early(self, cause: tuple, items: list[tuple[CompiledRule, dt.date, bool]]) -> None:
        """One `event_before_in_force` per cause (an event's day and the document not yet in force then),
        naming the duties it concerns; those not kept (immediate duties) are said never to have arisen."""
        event, day, doc_id = cause
        d = self.day_of(day)
        if doc_id is not None:
            doc = self.kb.documents[doc_id]
            start = validity.bounds(doc.dates.get("in_force_from"))[0]
            assert start is not None
            reason = f"《{doc.title}》尚未施行（自{start.isoformat()}起施行）"
        else:
            classes = self.kb.vocabulary.names("technology_classes")
            reason = f"当日施行的目录未将该技术列为限制类技术（当日分类：{classes.get(d.cls, d.cls or '未定')}）"
        kept = "、".join(dict.fromkeys(f"“{r.spec['summary']}”" for r, _, k in items if k))
        dropped = "、".join(dict.fromkeys(f"“{r.spec['summary']}”" for r, _, k in items if not k))
        parts = []
        if kept:
            parts.append(f"{kept}且无过渡条款作出规定，故不计算期限")
        if dropped:
            parts.append(f"{dropped}的义务当时尚未产生，未予列出")
        name = self.kb.vocabulary.names("event_types").get(event, event or "")
        self.warnings.append(
            {
                "code": "event_before_in_force",
                "message": f"{name}（{day.isoformat()}）发生时，{reason}：" + "；".join(parts),
            }
        )

    def _catalogs_on(self, day: dt.date) -> str:
        """The restricted-technology catalogues in force on `day` in the jurisdiction, with their start days."""
        from engine.catalog.data import load_catalogs

        cat = load_catalogs()
        out = []
        for v in cat.in_force(self.facts.get("jurisdiction", "national"), day):
            dates = cat.document_dates(v.document) if v.document else v.validity
            lo, hi = validity.bounds((dates or {}).get("in_force_from"))
            if lo is not None and lo == hi:
                out.append(f"{v.name}（自{lo.isoformat()}起）")
            else:
                out.append(f"{v.name}（自{lo.year}年起，月日不详）" if lo else v.name)
        return "、".join(out) or "无"

    def _warn_class_changed(self, base: Day, never: dict, kept: list[Selected]) -> None:
        """`class_changed`: for each event day whose class differs from the class at as_of, both classes
        with the catalogues in force on each day, and the duties that did (not) arise from the event."""
        days = set(never)
        for sel in kept:
            if "class" in sel.rule.facts_used and not sel.rule.governed_by:
                days.update(d for d in sel.triggers if d < self.as_of and self.day_of(d).cls != base.cls)
        if not days or base.cls in (None, "undetermined"):
            return
        classes = self.kb.vocabulary.names("technology_classes")
        events = self.kb.vocabulary.names("event_types")
        now_text = f"{self.as_of.isoformat()}为{classes.get(base.cls, base.cls)}（{self._catalogs_on(self.as_of)}）"
        for day in sorted(days):
            then = self.day_of(day)
            if then.cls in (None, "undetermined"):
                continue
            names = "、".join(events.get(e, e) for e, dates in self.occ.items() if day in dates) or "事件"
            message = (
                f"技术类别发生变化：{names}（{day.isoformat()}）时为{classes.get(then.cls, then.cls)}"
                f"（{self._catalogs_on(day)}），{now_text}；事件所生义务按事件当日的类别确定"
            )
            dropped = "、".join(dict.fromkeys(f"“{r.spec['summary']}”" for r in never.get(day, [])))
            if dropped:
                message += f"，{dropped}以{classes.get(base.cls, base.cls)}为条件，当日不适用，未予列出"
            self.warnings.append({"code": "class_changed", "message": message})

    def _warn_uncertain(self, rule: CompiledRule, day: dt.date) -> None:
        for doc_id in self.day_of(day).uncertain:
            doc = self.kb.documents[doc_id]
            lo, hi = validity.bounds(doc.dates.get("in_force_from"))
            if lo is None or hi is None:
                continue
            self._effective_unknown((rule.spec.get("deadline") or {}).get("event"), doc.title, day, lo, hi)

    def _warn_window(self, rule: CompiledRule, hit: tuple) -> None:
        fact, lo, hi = hit
        doc = self.kb.documents[rule.document]
        event = fact.partition(".")[2] if fact.startswith("events.") else None
        self._effective_unknown(
            event, doc.title, dt.date.fromordinal(self.facts[fact]), dt.date.fromordinal(lo), dt.date.fromordinal(hi)
        )

    def _effective_unknown(self, event_type: str | None, title: str, day: dt.date, lo: dt.date, hi: dt.date) -> None:
        event = self.kb.vocabulary.names("event_types").get(event_type, "该事件")
        message = (
            f"{event}（{day.isoformat()}）落在《{title}》可能的施行日期（{lo.isoformat()}至{hi.isoformat()}）之内，"
            "无法确定其发生在施行之前还是之后，取决于此的义务（施行后的规定或过渡条款）未计算期限"
        )
        item = {"code": "effective_date_unknown", "message": message}
        if item not in self.warnings:
            self.warnings.append(item)
