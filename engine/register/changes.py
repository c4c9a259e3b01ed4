"""What changed for a jurisdiction between two days: its documents, its register of duties and its catalogues.

- documents: a document that starts or stops applying between the days (`document_in_force`,
  `document_expired`; `document_in_force_between` when it took effect and expired between them), or whose start is known only to a year or month that one of the days falls in
  (`document_uncertain`: said as such, with the document's own note on its dates);
- duties: the registers (engine.register.model) of the two days compared row by row: a row only on the
  later day is `duty_added`, only on the earlier `duty_removed`; a row on both whose deadline, addressee,
  materials, actor, origin or rules differ is `duty_changed` (the fields named);
- catalogues: the restricted-technology catalogue of each scope (national, provincial) in force on each day;
  when the version differs, its entries compared by technology (engine.catalog.diff): `technique_listed`,
  `technique_delisted`, `technique_renumbered` (code or name), `technique_grades`, `technique_narrowed` or
  `technique_broadened` (an entry replaced by a narrower or broader technology);
- a duty the same on both days whose only difference is a provincial rule restating it is `duty_restated`.

Each change carries its `basis`: the provisions, catalogue version or document that caused it.
"""

from __future__ import annotations

import datetime as dt

from engine.catalog import load_catalogs
from engine.catalog.diff import diff_versions
from engine.kb import validity
from engine.kb.loader import knowledge_base
from engine.kb.vocabulary import vocabulary
from engine.register.model import build_register
from engine.register.words import words

DUTY_FIELDS = ("deadline", "addressee", "materials", "actor", "origin", "rules")
FIELD_ZH = {
    "deadline": "期限",
    "addressee": "对象",
    "materials": "材料",
    "actor": "义务人",
    "origin": "来源",
    "rules": "所依文件",
}


def _cite(kb, document: str, eid: str) -> dict:
    return {"document": document, "eid": eid, "label": kb.provision(document, eid).label}


def _document_basis(kb, doc_id: str) -> dict:
    doc = kb.documents[doc_id]
    return {"document": doc_id, "title": doc.title, "number": doc.number, "dates_note": doc.dates.get("note")}


def _change(kind: str, subject: str, before, after, basis: list[dict], **extra) -> dict:
    return {
        "kind": kind,
        "kind_name": words()["change_kinds"][kind],
        "subject": subject,
        "before": before,
        "after": after,
        "basis": basis,
        **extra,
    }


def _documents(kb, jurisdiction, day_from: dt.date, day_to: dt.date) -> list[dict]:
    out = []
    for doc_id in jurisdiction.documents:
        doc = kb.documents[doc_id]
        a, b = validity.status_on(doc.dates, day_from), validity.status_on(doc.dates, day_to)
        names = vocabulary().names("document_statuses")
        basis = [{"kind": "document", **_document_basis(kb, doc_id)}]
        applies_a, applies_b = a in validity.APPLICABLE, b in validity.APPLICABLE
        if not applies_a and applies_b:
            kind = "document_in_force"
        elif applies_a and not applies_b:
            kind = "document_expired"
        elif "uncertain" in (a, b):
            kind = "document_uncertain"
        elif a != b:  # not yet in force on the first day, expired by the second: in force only in between
            kind = "document_in_force_between"
        else:
            continue
        start = doc.dates.get("in_force_from") or {}
        exact = validity.exact(start)
        out.append(
            _change(
                kind,
                doc.title,
                names[a],
                names[b],
                basis,
                document=doc_id,
                in_force_from=start.get("date"),
                date_known=exact is not None,
                note=_period(doc.dates)
                if kind == "document_in_force_between"
                else None
                if exact is not None or kind == "document_expired"
                else doc.dates.get("note"),
            )
        )
    return out


def _period(dates: dict) -> str:
    """When a document was in force, as its dates say (施行 … 至 …)."""
    start = (dates.get("in_force_from") or {}).get("date") or "？"
    end = (dates.get("in_force_until") or {}).get("date") or "？"
    return f"施行期间 {start} 至 {end}"


def _materials(row: dict) -> list[str]:
    return [m["text"] for m in row["materials"]]


def _duty_value(row: dict, field: str):
    if field == "deadline":
        d = row["deadline"]
        return {k: d.get(k) for k in ("kind", "days", "months", "event", "date", "text")}
    if field == "materials":
        return _materials(row)
    return row[field]


def _shown(row: dict, field: str) -> str:
    if field == "deadline":
        return f"{row['deadline']['text']}（{row['deadline']['rule']}）"
    if field == "materials":
        return "；".join(_materials(row)) or "（无）"
    if field == "addressee":
        return row["addressee_name"] or "（无）"
    if field == "actor":
        return row["actor_name"]
    if field == "origin":
        return row["origin_name"]
    short = vocabulary().names("document_short_titles")
    docs = dict.fromkeys(knowledge_base().rule_by_id[r].document for r in row["rules"])
    return "、".join(short.get(d, d) for d in docs)


def _rule_citations(kb, rule_ids) -> list[dict]:
    out: list[dict] = []
    for rid in rule_ids:
        for ref in kb.rule_by_id[rid].spec["citations"]:
            doc, _, eid = ref.partition(":")
            c = {"kind": "provision", **_cite(kb, doc, eid)}
            if c not in out:
                out.append(c)
    return out


def _duties(kb, before: dict, after: dict) -> list[dict]:
    out = []
    for stage in ("duties", "authority_duties"):
        a = {r["id"]: r for r in before[stage]}
        b = {r["id"]: r for r in after[stage]}
        for rid, row in b.items():
            if rid not in a:
                out.append(
                    _change(
                        "duty_added",
                        row["summary"],
                        None,
                        row["action_name"],
                        _rule_citations(kb, row["rules"]),
                        duty=rid,
                        stage=row["stage"],
                        fields=[],
                    )
                )
        for rid, row in a.items():
            if rid not in b:
                out.append(
                    _change(
                        "duty_removed",
                        row["summary"],
                        row["action_name"],
                        None,
                        _rule_citations(kb, row["rules"]),
                        duty=rid,
                        stage=row["stage"],
                        fields=[],
                    )
                )
        for rid, old in a.items():
            new = b.get(rid)
            if new is None:
                continue
            fields = [f for f in DUTY_FIELDS if _duty_value(old, f) != _duty_value(new, f)]
            if not fields:
                continue
            moved = [x for x in new["rules"] if x not in old["rules"]] + [
                x for x in old["rules"] if x not in new["rules"]
            ]
            # only a provincial rule restating the national one came or went: the duty is the same, its basis grew
            restated = fields == ["rules"] and all(
                (kb.rule_by_id[x].spec.get("relation") or {}).get("kind") == "twin" for x in moved
            )
            out.append(
                _change(
                    "duty_restated" if restated else "duty_changed",
                    new["summary"],
                    "；".join(f"{FIELD_ZH[f]}：{_shown(old, f)}" for f in fields),
                    "；".join(f"{FIELD_ZH[f]}：{_shown(new, f)}" for f in fields),
                    _rule_citations(kb, moved or new["rules"]),
                    duty=rid,
                    stage=new["stage"],
                    fields=fields,
                )
            )
    return out


def _entry_text(e: dict) -> str:
    grades = f"（{'、'.join(f'{g}级' for g in e['grades'])}）" if e.get("grades") else ""
    return f"{e['code']} {e['name']}{grades}"


def _catalogues(kb, jurisdiction, day_from: dt.date, day_to: dt.date) -> list[dict]:
    cat = load_catalogs()
    a = {v.scope: v for v in cat.in_force(jurisdiction.id, day_from)}
    b = {v.scope: v for v in cat.in_force(jurisdiction.id, day_to)}
    out = []
    for scope in ("national", "provincial"):
        old, new = a.get(scope), b.get(scope)
        if (old and old.id) == (new and new.id):
            continue
        version = new or old
        assert version is not None
        basis = [{"kind": "catalogue", "id": version.id, "name": version.name}]
        basis += [
            {"kind": "provision", **_cite(kb, c["document"], c["eid"])}
            for c in version.citations
            if c["document"] in jurisdiction.documents
        ]

        def printed(code: str, v=old) -> list[dict]:
            """The provision of the jurisdiction's own documents that printed an entry of the earlier version."""
            e = v.entry(code) if v else None
            c = cat.entry_citation(e, jurisdiction.id, day_from) if e else None
            return [{"kind": "provision", **_cite(kb, c["document"], c["eid"])}] if c else []

        if old and new:
            d = diff_versions(old.id, new.id, cat)
            listed = d["added"]
            delisted = d["removed"]
            for kind in ("narrowed", "broadened"):
                for x in d[kind]:
                    out.append(
                        _change(
                            f"technique_{kind}",
                            x["old"]["name"],
                            _entry_text(x["old"]),
                            "、".join(_entry_text(e) for e in x["new"]),
                            basis + printed(x["old"]["code"]),
                            technology=x["old"]["technology"],
                            catalog=new.id,
                        )
                    )
            for c in d["changed"]:
                kind = "technique_grades" if c["fields"] == ["grades"] else "technique_renumbered"
                out.append(
                    _change(
                        kind,
                        c["new"]["name"],
                        _entry_text(c["old"]),
                        _entry_text(c["new"]),
                        basis + printed(c["old"]["code"]),
                        technology=c["technology"],
                        catalog=new.id,
                        fields=c["fields"],
                    )
                )
        elif new:
            listed, delisted = [new.to_dict()["entries"][i] for i in range(len(new.entries))], []
        else:
            assert old is not None
            listed, delisted = [], old.to_dict()["entries"]
        for e in listed:
            out.append(
                _change(
                    "technique_listed",
                    e["name"],
                    None,
                    _entry_text(e),
                    basis,
                    technology=e["technology"],
                    catalog=(new or version).id,
                )
            )
        for e in delisted:
            out.append(
                _change(
                    "technique_delisted",
                    e["name"],
                    _entry_text(e),
                    None,
                    basis + printed(e["code"]),
                    technology=e["technology"],
                    catalog=(old or version).id,
                )
            )
    return out


def build_changes(
    jurisdiction: str,
    day_from: dt.date,
    day_to: dt.date,
    *,
    category: str | None = None,
    level: int | None = None,
    tcm: bool | None = None,
) -> dict:
    """What changed in a jurisdiction from `day_from` to `day_to` (module docstring), documents first, then
    duties, then catalogue entries."""
    kb = knowledge_base()
    j = vocabulary().jurisdiction(jurisdiction)
    before = build_register(j.id, day_from, category=category, level=level, tcm=tcm)
    after = build_register(j.id, day_to, category=category, level=level, tcm=tcm)
    changes = _documents(kb, j, day_from, day_to) + _duties(kb, before, after) + _catalogues(kb, j, day_from, day_to)
    return {
        "jurisdiction": {"id": j.id, "name": j.name},
        "from": day_from.isoformat(),
        "to": day_to.isoformat(),
        "knowledge_base": {"version": kb.version, "digest": kb.digest},
        "filters": {"category": category, "level": level, "tcm": tcm},
        "documents": {"from": before["documents"], "to": after["documents"]},
        "changes": changes,
    }
