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
from engine.inference.citations import citations as _citations
from engine.inference.occurrences import EACH, counting
from engine.kb import validity
from engine.kb.rules import CompiledRule


def cite(kb, ref: str) -> dict:
    """A `document:eid` reference expanded with the provision's label and verbatim text (a fresh dict)."""
    return _citations(kb).cite(ref)


def _deadline_view(
    spec: dict, due: deadlines.Due, citations: list[dict], occurrences: list[dict] | None = None
) -> dict:
    out = {k: spec[k] for k in ("kind", "days", "months", "event") if k in spec}
    if "date" in spec:
        out["date"] = spec["date"] if isinstance(spec["date"], str) else (due.date.isoformat() if due.date else None)
    out["text"] = spec["text"]
    out["due"] = due.date.isoformat() if due.date else None
    out["provisional"] = due.provisional
    out["citations"] = citations
    if occurrences is not None:
        out["occurrences"] = occurrences
    return out


def _done(rule: CompiledRule, occ: dict, as_of: dt.date, trigger: dt.date | None) -> bool:
    """Whether the act was done: an occurrence of the rule's `done_by` event on or after the trigger, by as_of."""
    done_by = rule.spec.get("done_by")
    return any(when <= as_of and (trigger is None or when >= trigger) for when in occ.get(done_by) or [])


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
        occurrences = [
            ({"event_date": d.isoformat()}, deadlines.compute_due(spec, {**events, event: d}, kb.documents))
            for d in sel.triggers
        ]
    else:
        trigger_events = {**events, event: sel.triggers[0]} if event and sel.triggers else events
        return deadlines.compute_due(spec, trigger_events, kb.documents), None
    if not occurrences:
        return deadlines.Due(None), []
    occurrences.sort(key=lambda o: (o[1].date is None, o[1].date or dt.date.min))
    upcoming = [i for i, (_, due) in enumerate(occurrences) if due.date is None or due.date >= as_of]
    upto = upcoming[0] if upcoming else len(occurrences) - 1
    return occurrences[upto][1], occurrences[: upto + 1]


def build(
    kb, selected: list, occ: dict, events: dict, as_of: dt.date, *, authority: bool = False
) -> tuple[list[dict], bool]:
    """Obligations from the rules selected (engine.inference.lawday, in rule order); also whether
    any due date is provisional. `occ`: every date of each event type; `events`: the counted one.
    `authority`: these are the authorities' steps (a passed day is `to_confirm`, not `overdue`)."""
    cited = _citations(kb)
    groups: dict[tuple, list] = {}
    for sel in selected:
        groups.setdefault((sel.rule.spec["act"], sel.rule.spec["addressee"]), []).append(sel)
    out, provisional = [], False
    for (act, addressee), sels in groups.items():
        rules = [s.rule for s in sels]
        first = rules[0]
        # deadlines: distinct specs (and triggers), each with its rules' citations
        specs: dict[tuple, dict] = {}
        for s in sels:
            spec = s.rule.spec["deadline"]
            entry = specs.setdefault(
                (cited.of(s.rule).deadline_key, s.triggers, s.no_due), {"spec": spec, "sel": s, "rules": []}
            )
            entry["rules"].append(s.rule)
        views = []
        for entry in specs.values():
            due, occurrences = _dues(kb, entry["spec"], entry["sel"], events, as_of)
            occ_view = None
            if occurrences is not None:
                kind = entry["spec"]["kind"]
                occ_view = [
                    {
                        **label,
                        "due": d.date.isoformat() if d.date else None,
                        "status": deadlines.status(kind, d.date, as_of, False, trigger=d.trigger, authority=authority),
                    }
                    for label, d in occurrences
                ]
                provisional = provisional or any(d.provisional for _, d in occurrences)
            quotes = cited.group(tuple(entry["rules"])).deadline
            views.append((due, entry, _deadline_view(entry["spec"], due, [q.copy() for q in quotes], occ_view)))
        computable = [v for v in views if v[0].date is not None]
        chosen = min(computable, key=lambda v: v[0].date or dt.date.max) if computable else views[0]
        deadline = dict(chosen[2])
        alternatives = [v[2] for v in views if v is not chosen]
        if alternatives:
            deadline["alternatives"] = alternatives
        due = chosen[0]
        provisional = provisional or any(v[0].provisional for v in views)
        done = any(_done(r, occ, as_of, due.trigger) for r in rules)
        # materials (a rule that replaces others' materials wins), consequences, citations
        group = cited.group(tuple(rules))
        materials = [{"id": mid, "text": text, "citations": [q.copy()]} for mid, text, q in group.materials]
        consequences = [{"citations": [q.copy() for q in quotes], "text": text} for quotes, text in group.consequences]
        citations = [q.copy() for q in group.citations]
        out.append(
            {
                "id": act,
                "action": first.spec["action"],
                "actor": first.spec["actor"],
                "addressee": addressee,
                # the most specific wording (a province's, which comes after the national rule) of the
                # rules behind the deadline chosen, so the summary matches the due date it goes with
                "summary": chosen[1]["rules"][-1].spec["summary"],
                "due": due.date.isoformat() if due.date else None,
                "deadline": deadline,
                "status": deadlines.status(
                    chosen[1]["spec"]["kind"], due.date, as_of, done, trigger=due.trigger, authority=authority
                ),
                "materials": materials,
                "citations": citations,
                "consequences": consequences,
                "rules": [r.id for r in rules],
            }
        )
    return out, provisional
