"""Merge the obligation and authority rules that fired into the response's obligations.

Rules that conclude the same act for the same addressee (a national rule and its provincial
twins) become one obligation: all their citations, the strictest computable due date with the
other deadlines in `deadline.alternatives`, and the materials of the most specific rule.
A duty owed per occurrence or per period lists its occurrences up to the next one not yet past
(`deadline.occurrences`); the obligation's due date and status are that next one's.
"""

from __future__ import annotations

import datetime as dt

from engine.inference import deadlines
from engine.inference.blocks import FRESH, Fresh
from engine.inference.citations import citations as _citations
from engine.inference.occurrences import EACH, counting
from engine.kb import validity


def cite(kb, ref: str) -> dict:
    """A `document:eid` reference expanded with the provision's label and verbatim text (a fresh dict)."""
    return _citations(kb).cite(ref)


def _deadline_view(view, due: deadlines.Due, citations: list[dict], occurrences: list[dict] | None = None) -> dict:
    out = dict(view.fixed)
    if view.computed_date:
        out["date"] = due.date.isoformat() if due.date else None
    out["text"] = view.text
    out["due"] = due.date.isoformat() if due.date else None
    out["provisional"] = due.provisional
    if due.date is None and due.trigger is not None and "date" not in out and out.get("event"):
        out["date"] = due.trigger.isoformat()  # the event happened: the duty is owed now, not "when it happens"
    if due.date is None and due.latest is not None:  # bounds instead of blanks (contract §5)
        out["earliest"] = due.earliest.isoformat() if due.earliest else None
        out["latest"] = due.latest.isoformat()
    out["citations"] = citations
    if occurrences is not None:
        out["occurrences"] = occurrences
    return out


def _done(done_by: tuple[str, ...], occ: dict, as_of: dt.date, trigger: dt.date | None) -> bool:
    """Whether the act was done: an occurrence of one of its `done_by` events on or after the trigger, by as_of."""
    return _done_on(done_by, occ, as_of, trigger) is not None


def _done_on(done_by: tuple[str, ...], occ: dict, as_of: dt.date, trigger: dt.date | None) -> dt.date | None:
    """The first day the act was done (an occurrence of a `done_by` event on or after the trigger), or None."""
    days = [
        when
        for event in done_by
        for when in occ.get(event) or ()
        if when <= as_of and (trigger is None or when >= trigger)
    ]
    return min(days) if days else None


def _dues(
    kb, spec: dict, sel, events: dict, as_of: dt.date
) -> tuple[deadlines.Due, list[tuple[dict, deadlines.Due]] | None]:
    """The due date of a spec for the rule selected, and its occurrences when it has several:
    one per event occurrence, or one per period of a recurring duty."""
    if sel.no_due:
        return deadlines.Due(None, trigger=sel.triggers[0] if sel.triggers else None), None
    event = spec.get("event")
    if spec["kind"] == "quarter_first_week" and sel.triggers:
        doc = kb.documents[sel.rule.document]
        periods = deadlines.recurring(
            spec, sel.triggers[0], as_of, lambda day: validity.status_on(doc.dates, day) in validity.APPLICABLE
        )
        occurrences = [({"period": p}, due) for p, due in periods]
    elif event and sel.triggers and counting(kb.vocabulary, event) == EACH:
        occurrences = [({"event_date": d.isoformat()}, deadlines.due_from(spec, d, kb.documents)) for d in sel.triggers]
    else:
        day = (sel.triggers[0] if sel.triggers else events.get(event)) if event else None
        return deadlines.due_from(spec, day, kb.documents), None
    if not occurrences:
        return deadlines.Due(None), []
    occurrences.sort(key=lambda o: (o[1].date is None, o[1].date or dt.date.min))
    upcoming = [i for i, (_, due) in enumerate(occurrences) if due.date is None or due.date >= as_of]
    upto = upcoming[0] if upcoming else len(occurrences) - 1
    return occurrences[upto][1], occurrences[: upto + 1]


def _passed(status: str, known: bool | None) -> str:
    """A duty whose day has passed is `overdue` only when the request says it was not done; when it is
    silent, `to_confirm` (contract §5 "Known not done, or not known")."""
    return "to_confirm" if status == "overdue" and known is not False else status


def _by_act(selected: list):
    """The rules selected grouped by the act and addressee they conclude (one obligation each), in order."""
    groups: dict[tuple, list] = {}
    for sel in selected:
        spec = sel.rule.spec
        groups.setdefault((spec["act"], spec["addressee"]), []).append(sel)
    return groups.values()


def build(
    kb,
    selected: list,
    occ: dict,
    events: dict,
    as_of: dt.date,
    *,
    authority: bool = False,
    stated: dict | None = None,
    home: str | None = None,
    blocks: Fresh = FRESH,
) -> tuple[list[dict], bool]:
    """Obligations from the rules selected (engine.inference.lawday, in rule order); also whether
    any due date is provisional. `occ`: every date of each event type; `events`: the counted one.
    `authority`: these are the authorities' steps (a passed day is `to_confirm`, not `overdue`).
    `stated`: action -> what the request says of whether it was done (True done, False not done, None
    silent; vocabulary `done_facts`). `home`: the jurisdiction's own document (its last). `blocks`: how the
    constant blocks (citations, materials, consequences) are held (engine.inference.blocks)."""
    stated = stated or {}
    cited = _citations(kb)
    out, provisional = [], False
    status = deadlines.status
    for sels in _by_act(selected):
        rules = tuple(s.rule for s in sels)
        plan = cited.plan(rules)
        # deadlines: distinct specs (and triggers), each with its rules' citations
        entries: dict[tuple, tuple] = {}
        for s, dkey in zip(sels, plan.deadline_keys, strict=True):
            entry = entries.get(key := (dkey, s.triggers, s.no_due))
            if entry is None:
                entries[key] = (s, [s.rule])
            else:
                entry[1].append(s.rule)
        known = stated.get(plan.action)
        views = []
        for sel, entry_rules in entries.values():
            spec = sel.rule.spec["deadline"]
            due, occurrences = _dues(kb, spec, sel, events, as_of)
            occ_view = None
            if occurrences is not None:
                kind = spec["kind"]
                occ_view = []
                for label, d in occurrences:
                    occ_view.append(
                        {
                            **label,
                            "due": d.date.isoformat() if d.date else None,
                            "status": _passed(
                                status(kind, d.date, as_of, False, trigger=d.trigger, authority=authority), known
                            ),
                        }
                    )
                    provisional = provisional or d.provisional
            quotes = plan.cited.deadline if len(entries) == 1 else cited.group(tuple(entry_rules)).deadline
            view = _deadline_view(cited.deadline_view(sel.rule), due, blocks.quotes(quotes), occ_view)
            views.append((due, spec, entry_rules, view, quotes))
            provisional = provisional or due.provisional
        for due, spec, _, view, _ in list(views):
            strict = spec.get("stricter")
            if strict and spec["kind"] == "quarter_first_week" and due.date is not None:
                # the stricter reading of 第1周, for the same period: the quarter's first calendar days
                day = deadlines.quarter_start(due.date) + dt.timedelta(days=strict["calendar_days"] - 1)
                if day < due.date:  # only where it is stricter (earlier) than the rule's reading
                    view.setdefault("stricter", {"kind": spec["kind"], "text": strict["text"], "due": day.isoformat()})
        chosen = views[0]
        for v in views:  # the earliest computable due date (the first of equals), else the first
            if v[0].date is not None and (chosen[0].date is None or v[0].date < chosen[0].date):
                chosen = v
        due, spec, entry_rules, deadline, chosen_quotes = chosen
        alternatives: list[dict] = [v[3] for v in views if v is not chosen]
        strict_view = deadline.pop("stricter", None)
        for alt in alternatives:
            alt.pop("stricter", None)
        if strict_view is not None:
            alternatives.append(dict(strict_view, citations=blocks.quotes(chosen_quotes)))
        if alternatives:
            deadline = dict(deadline, alternatives=alternatives)
        done = (bool(plan.done_by) and _done(plan.done_by, occ, as_of, due.trigger)) or known is True
        st = status(spec["kind"], due.date, as_of, done, trigger=due.trigger, authority=authority, latest=due.latest)
        # materials (a rule that replaces others' materials wins), consequences, citations
        group = plan.cited
        item = {
            "id": plan.act,
            "action": plan.action,
            "actor": plan.actor,
            "addressee": plan.addressee,
            # the most specific wording (a province's, which comes after the national rule) of the rules
            # whose deadline gives the due date chosen, so the summary matches the date it goes with
            "summary": [r for v in views if v[0].date == due.date for r in v[2]][-1].spec["summary"],
            "due": due.date.isoformat() if due.date else None,
            "deadline": deadline,
            "status": _passed(st, known),
            "materials": blocks.materials(group.materials),
            "citations": blocks.quotes(group.citations),
            "consequences": blocks.consequences(group.consequences),
            "rules": list(plan.rule_ids),
        }
        if st == "overdue" and item["status"] == "to_confirm" and not authority:
            item["if_not_done"] = if_not_done(kb, item, group, due.date or due.latest, as_of, home, blocks)
        if st == "done" and plan.done_by and (due.date or due.latest):
            # done late: 已完成（逾期 N 天）
            on = _done_on(plan.done_by, occ, as_of, due.trigger)
            last = due.date or due.latest
            if on is not None and last is not None and on > last:
                item["done_late_days"] = (on - last).days
        out.append(item)
    return out, provisional


def build_light(
    kb, selected: list, occ: dict, events: dict, as_of: dt.date, *, stated: dict | None = None
) -> list[dict]:
    """What the verdict reads of the obligations `build` would give (engine.inference.verdict: action, addressee,
    due, status, `deadline.latest`, `if_not_done.overdue_days`), in the same order, with nothing else built:
    for conclusion(), whose answer only an outcome reads. tests/test_templates.py checks it against `build`."""
    stated = stated or {}
    cited = _citations(kb)
    out = []
    status = deadlines.status
    for sels in _by_act(selected):
        plan = cited.plan(tuple(s.rule for s in sels))
        seen: set = set()
        chosen = None  # (due, spec) with the earliest computable due date (the first of equals), else the first
        for s, dkey in zip(sels, plan.deadline_keys, strict=True):
            if (key := (dkey, s.triggers, s.no_due)) in seen:
                continue
            seen.add(key)
            spec = s.rule.spec["deadline"]
            due = _dues(kb, spec, s, events, as_of)[0]
            if chosen is None or (due.date is not None and (chosen[0].date is None or due.date < chosen[0].date)):
                chosen = (due, spec)
        assert chosen is not None
        due, spec = chosen
        known = stated.get(plan.action)
        done = (bool(plan.done_by) and _done(plan.done_by, occ, as_of, due.trigger)) or known is True
        st = status(spec["kind"], due.date, as_of, done, trigger=due.trigger, latest=due.latest)
        item: dict = {
            "action": plan.action,
            "addressee": plan.addressee,
            "due": due.date.isoformat() if due.date else None,
            "deadline": {"latest": due.latest.isoformat()} if due.date is None and due.latest is not None else {},
            "status": _passed(st, known),
        }
        if st == "overdue" and item["status"] == "to_confirm":
            last = due.date or due.latest
            item["if_not_done"] = {"overdue_days": (as_of - last).days if last else None}
        out.append(item)
    return out


def if_not_done(
    kb, item: dict, group, due: dt.date | None, as_of: dt.date, home: str | None = None, blocks: Fresh = FRESH
) -> dict:
    """What holds if a duty past its day (to be confirmed) was not done: the days it is overdue, what to
    do now (with the consequence the jurisdiction's own document `home` attaches, else the first), and the
    provisions and consequences the knowledge base attaches to not doing it. `group`: the obligation's
    GroupCitations (engine.inference.citations)."""
    vocab = kb.vocabulary
    verb = vocab.names("action_verbs").get(item["action"], item["action"])
    to = vocab.names("addressee_short").get(item["addressee"] or "", "")
    phrase = f"向{to}{verb}" if to and item["addressee"] != "public" else verb
    days = (as_of - due).days if due else None
    template = vocab.raw.get("if_not_done_what_now") or "如尚未{verb}，应立即{phrase}"
    what_now = template.format(verb=verb, phrase=phrase, days=days if days is not None else "若干")
    consequences = group.consequences  # ((quotes, text), ...)
    own = [c for c in consequences if any(q["document"] == home for q in c[0])]
    lead = (own or list(consequences))[:1]
    short = vocab.names("document_short_titles")
    for quotes, text in lead:
        parts = text.split("；")
        shown = "；".join(parts[:2]) + ("……" if len(parts) > 2 else "")
        where = "、".join(f"{short.get(q['document'], '')}{q['label']}" for q in quotes[:2])
        what_now += f"。{where}：{shown}"
    return {
        "overdue_days": days,
        "what_now": what_now,
        "citations": blocks.quotes(group.if_not_done),
        "consequences": blocks.consequences(consequences),
    }
