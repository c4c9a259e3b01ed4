"""Merge the obligation and authority rules that fired into the response's obligations.

Rules that conclude the same act for the same addressee (a national rule and its provincial
twins) become one obligation: all their citations, the strictest computable due date with the
other deadlines in `deadline.alternatives`, and the materials of the most specific rule.
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache

from engine.inference import deadlines
from engine.kb.rules import CompiledRule, split_ref


def cite(kb, ref: str) -> dict:
    """A `document:eid` reference expanded with the provision's label and verbatim text (a fresh dict)."""
    return _citation(kb, ref).copy()


@lru_cache(maxsize=4096)
def _citation(kb, ref: str) -> dict:
    doc, eid = split_ref(ref)
    p = kb.provision(doc, eid)
    return {"document": doc, "eid": eid, "label": p.label, "quote": p.text}


def _unique(items: list) -> list:
    out = []
    for x in items:
        if x not in out:
            out.append(x)
    return out


def _deadline_key(spec: dict) -> tuple:
    return tuple(spec.get(k) if not isinstance(spec.get(k), dict) else str(spec.get(k)) for k in ("kind", "days", "months", "event", "date"))


def _deadline_view(spec: dict, due: deadlines.Due, citations: list[dict]) -> dict:
    out = {k: spec[k] for k in ("kind", "days", "months", "event") if k in spec}
    if "date" in spec:
        out["date"] = spec["date"] if isinstance(spec["date"], str) else (due.date.isoformat() if due.date else None)
    out["text"] = spec["text"]
    out["due"] = due.date.isoformat() if due.date else None
    out["provisional"] = due.provisional
    out["citations"] = citations
    return out


def _done(rule: CompiledRule, events: dict, as_of: dt.date, trigger: dt.date | None) -> bool:
    done_by = rule.spec.get("done_by")
    if not done_by or done_by not in events:
        return False
    when = events[done_by]
    return when <= as_of and (trigger is None or when >= trigger)


def build(kb, fired: list[CompiledRule], events: dict, as_of: dt.date) -> tuple[list[dict], bool]:
    """Obligations from fired rules (in rule order); also whether any due date is provisional."""
    groups: dict[tuple, list[CompiledRule]] = {}
    for rule in fired:
        groups.setdefault((rule.spec["act"], rule.spec["addressee"]), []).append(rule)
    out, provisional = [], False
    for (act, addressee), rules in groups.items():
        first = rules[0]
        # deadlines: distinct specs, each with its rules' citations
        specs: dict[tuple, dict] = {}
        for r in rules:
            spec = r.spec["deadline"]
            entry = specs.setdefault(_deadline_key(spec), {"spec": spec, "rules": []})
            entry["rules"].append(r)
        views = []
        for entry in specs.values():
            due = deadlines.compute_due(entry["spec"], events, kb.documents)
            refs = _unique([c for r in entry["rules"] for c in (r.spec["deadline"].get("cite") or r.spec["citations"])])
            views.append((due, entry, _deadline_view(entry["spec"], due, [cite(kb, c) for c in refs])))
        computable = [v for v in views if v[0].date is not None]
        chosen = min(computable, key=lambda v: v[0].date or dt.date.max) if computable else views[0]
        deadline = dict(chosen[2])
        alternatives = [v[2] for v in views if v is not chosen]
        if alternatives:
            deadline["alternatives"] = alternatives
        due = chosen[0]
        provisional = provisional or any(v[0].provisional for v in views)
        done = any(_done(r, events, as_of, due.trigger) for r in rules)
        # materials: a rule that replaces others' materials wins
        replaced = {x for r in rules for x in r.spec.get("replaces_materials_of", [])}
        materials = []
        for r in rules:
            if r.id in replaced:
                continue
            for m in r.spec.get("materials", []):
                materials.append({"id": m["id"], "text": m["text"], "citations": [cite(kb, m["cite"])]})
        consequences = []
        for r in rules:
            for cons in r.spec.get("consequences", []):
                item = {"citations": [cite(kb, c) for c in cons["cite"]], "text": cons["text"]}
                if item not in consequences:
                    consequences.append(item)
        citations = [cite(kb, c) for c in _unique([c for r in rules for c in r.spec["citations"]])]
        out.append({
            "id": act,
            "action": first.spec["action"],
            "actor": first.spec["actor"],
            "addressee": addressee,
            # the most specific wording (a province's, which comes after the national rule) of the
            # rules behind the deadline chosen, so the summary matches the due date it goes with
            "summary": chosen[1]["rules"][-1].spec["summary"],
            "due": due.date.isoformat() if due.date else None,
            "deadline": deadline,
            "status": deadlines.status(chosen[1]["spec"]["kind"], due.date, as_of, done),
            "materials": materials,
            "citations": citations,
            "consequences": consequences,
            "rules": [r.id for r in rules],
        })
    return out, provisional
