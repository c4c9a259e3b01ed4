"""The obligations register: every duty a jurisdiction's rules can create on a day, one row per duty.

Built from kb/rules/ alone (no case is decided). A row is a national duty with the provincial rules that
restate, tighten, broaden or replace it (their `relation` and `displaces`), or a provincial duty the
national measures do not have. Its `origin` says which (kb/register.yaml, `relation_origins`):

- `national`: a national rule, alone or restated by the province (`twin`);
- `narrows`: the province adds materials or content (`adds_to`), sets a stricter deadline (`sets_deadline`)
  or narrows whom it binds (`narrows`);
- `adds`: a provincial duty with no national counterpart, or one that extends a national duty to more
  cases (`broadens`);
- `replaces`: the province overrides the national rule (`overrides`) or takes its place (`displaces`).

Each row also carries the rules behind it as they are written: `national` (the national rule's own view,
the same in every jurisdiction's register) and `provincial` (each provincial rule with its relation).
Duties of institutions, physicians and training bases are `duties`; the authorities' are `authority_duties`.
"""

from __future__ import annotations

import datetime as dt

from engine.errors import InvalidRequest
from engine.kb import conditions, validity
from engine.kb.loader import knowledge_base
from engine.kb.vocabulary import vocabulary
from engine.register.words import deadline_rule, origin_name, trigger, words

ORIGIN_STRENGTH = ("national", "adds", "narrows", "replaces")  # a row's origin is its provincial rules' strongest
INSTITUTION_FACTS = ("institution.category", "institution.level", "institution.tcm")


def _three_valued(node, facts: dict):
    """A compiled condition with only the given institution facts known: True, False or None (undecided)."""
    if isinstance(node, conditions.Leaf):
        if node.fact not in facts:
            return None
        return conditions.compare(node, facts)
    values = [_three_valued(child, facts) for child in node.items]
    if isinstance(node, conditions.All):
        return False if False in values else (True if all(v is True for v in values) else None)
    return True if True in values else (False if all(v is False for v in values) else None)


def _citation(kb, ref: str, quotes: bool) -> dict:
    doc, _, eid = ref.partition(":")
    p = kb.provision(doc, eid)
    out = {"document": doc, "eid": eid, "label": p.label}
    if quotes:
        out["quote"] = p.text
    return out


def _deadline(spec: dict | None, kb, quotes: bool) -> dict:
    spec = spec or {"kind": "none", "text": ""}
    out = {k: spec[k] for k in ("kind", "days", "months", "event", "date") if k in spec}
    out["text"] = spec.get("text", "")
    out["rule"] = deadline_rule(spec, kb)
    if spec.get("cite"):
        out["citations"] = [_citation(kb, c, quotes) for c in spec["cite"]]
    return out


def rule_view(kb, rule, quotes: bool = False) -> dict:
    """One obligation or authority rule as the register shows it (ids, Chinese trigger, deadline, provisions)."""
    spec = rule.spec
    return {
        "rule": rule.id,
        "document": rule.document,
        "summary": spec["summary"],
        "trigger": trigger(spec["when"], kb),
        "act": spec["act"],
        "action": spec["action"],
        "actor": spec["actor"],
        "addressee": spec["addressee"],
        "deadline": _deadline(spec.get("deadline"), kb, quotes),
        "materials": [
            {"id": m["id"], "text": m["text"], "citation": _citation(kb, m["cite"], quotes)}
            for m in spec.get("materials", [])
        ],
        "citations": [_citation(kb, c, quotes) for c in spec["citations"]],
        "consequences": [
            {"text": c["text"], "citations": [_citation(kb, x, quotes) for x in c["cite"]]}
            for c in spec.get("consequences", [])
        ],
    }


def _documents(kb, jurisdiction, as_of: dt.date) -> list[dict]:
    out = []
    for doc_id in jurisdiction.documents:
        doc = kb.documents[doc_id]
        status = validity.status_on(doc.dates, as_of)
        out.append(
            {
                "id": doc_id,
                "title": doc.title,
                "status": status,
                "status_name": vocabulary().names("document_statuses")[status],
                "applies": status in validity.APPLICABLE,
            }
        )
    return out


def rules_in_force(kb, jurisdiction, as_of: dt.date, institution: dict | None = None) -> list:
    """The obligation and authority rules of the jurisdiction's documents that apply on `as_of`, less those
    whose condition the institution facts given (`institution.category`, `.level`, `.tcm`) make false."""
    active = {d["id"] for d in _documents(kb, jurisdiction, as_of) if d["applies"]}
    facts = {k: v for k, v in (institution or {}).items() if v is not None}
    return [
        r
        for r in kb.rules
        if r.stage != "classify" and r.document in active and _three_valued(r.condition, facts) is not False
    ]


def _national_documents() -> set[str]:
    return {d for j in vocabulary().jurisdictions if j.level == "national" for d in j.documents}


def _rows(kb, rules: list, jurisdiction_id: str, quotes: bool) -> list[dict]:
    w = words()
    national_docs = _national_documents()
    in_force = {r.id for r in rules}
    groups: dict[str, dict] = {}

    def group(key: str, order: int) -> dict:
        return groups.setdefault(key, {"order": order, "national": None, "provincial": []})

    def home(rule, seen: frozenset = frozenset()):
        """The rule whose row a rule sits in: a national rule its own; a provincial rule the row of the rule
        it relates to (followed through provincial rules: Hunan's TCM refiling twins Hunan's refiling)."""
        if rule.document in national_docs:
            return rule
        target = (rule.spec.get("relation") or {}).get("rule")
        if target in in_force and target not in seen:
            return home(kb.rule_by_id[target], seen | {rule.id})
        return rule

    for r in rules:
        spec = r.spec
        if r.document in national_docs:
            group(r.id, r.order)["national"] = r
            continue
        rel = spec.get("relation") or {}
        placed = False
        if rel.get("rule") in in_force:
            other = home(kb.rule_by_id[rel["rule"]], frozenset({r.id}))
            group(other.id, other.order)["provincial"].append((r, rel["kind"], rel.get("note")))
            placed = True
        for other_id in spec.get("displaces", []):
            # a rule of another stage (an authority's annotation that takes the place of a filing) keeps its own row
            if other_id in in_force and kb.rule_by_id[other_id].stage == r.stage:
                other = kb.rule_by_id[other_id]
                group(other.id, other.order)["provincial"].append((r, "displaces", None))
                placed = True
        if not placed:
            group(r.id, r.order)["provincial"].append((r, None, None))
    v = vocabulary()
    actors = v.local_names(jurisdiction_id, "actors")
    addressees = v.local_names(jurisdiction_id, "addressees")
    actions = v.names("actions")
    rows = []
    for key, g in sorted(groups.items(), key=lambda kv: kv[1]["order"]):
        origins = []
        provincial = []
        for r, kind, note in g["provincial"]:
            if kind is None:
                origin = w["unrelated_origin"]
            elif kind == "displaces":
                origin = w["displaces_origin"]
            else:
                origin = w["relation_origins"][kind]
            origins.append(origin)
            view = rule_view(kb, r, quotes)
            view["relation"] = (
                {"kind": kind, "name": w["relation_names"][kind], "rule": key, "note": note} if kind else None
            )
            view["origin"] = origin
            provincial.append((r, kind, view))
        origin = max(origins, key=ORIGIN_STRENGTH.index) if origins else "national"
        national = rule_view(kb, g["national"], quotes) if g["national"] else None
        # the wording that governs: the last provincial rule that changes the national one, else the national
        # rule, else the provincial rule alone
        changing = [view for _, kind, view in provincial if kind != "twin"]
        head = changing[-1] if changing else (national or provincial[0][2])
        # a provincial rule that takes a national one's place binds where the national one did
        trigger_of = national if national and any(kind == "displaces" for _, kind, _ in provincial) else head
        views = ([national] if national else []) + [view for _, _, view in provincial]
        # the governing wording's deadline; where it sets none, the first rule behind the row that does
        deadline = head["deadline"]
        if deadline["kind"] == "none":
            deadline = next((v["deadline"] for v in views if v["deadline"]["kind"] != "none"), deadline)
        rules_behind = ([g["national"]] if g["national"] else []) + [r for r, _, _ in provincial]
        replaced = {x for r in rules_behind for x in r.spec.get("replaces_materials_of", [])}
        materials: list[dict] = []
        for r, view in zip(rules_behind, views, strict=True):
            if r.id in replaced:
                continue
            materials += [m for m in view["materials"] if m["text"] not in {x["text"] for x in materials}]
        citations: list[dict] = []
        consequences: list[dict] = []
        for view in views:
            citations += [c for c in view["citations"] if c not in citations]
            consequences += [c for c in view["consequences"] if c["text"] not in {x["text"] for x in consequences}]
        rows.append(
            {
                "id": key,
                "stage": rules_behind[0].stage,
                "origin": origin,
                "origin_name": origin_name(origin),
                "trigger": trigger_of["trigger"],
                "summary": head["summary"],
                "act": head["act"],
                "action": head["action"],
                "action_name": actions.get(head["action"], head["action"]),
                "actor": head["actor"],
                "actor_name": actors.get(head["actor"], head["actor"]),
                "addressee": head["addressee"],
                "addressee_name": addressees.get(head["addressee"]) if head["addressee"] else None,
                "deadline": deadline,
                "materials": materials,
                "citations": citations,
                "consequences": consequences,
                "rules": [r.id for r in rules_behind],
                "national": national,
                "provincial": [view for _, _, view in provincial],
            }
        )
    return rows


def _institution(category: str | None, level: int | None, tcm: bool | None) -> dict:
    v = vocabulary()
    errors = []
    if category is not None and category not in v.ids("institution_categories"):
        allowed = ", ".join(v.ids("institution_categories"))
        errors.append({"path": "category", "message": f"{category!r} is not one of: {allowed}"})
    if level is not None and level not in (1, 2, 3):
        errors.append({"path": "level", "message": f"{level!r} is not one of: 1, 2, 3"})
    if errors:
        raise InvalidRequest(errors)
    return {"institution.category": category, "institution.level": level, "institution.tcm": tcm}


def build_register(
    jurisdiction: str,
    as_of: dt.date,
    *,
    category: str | None = None,
    level: int | None = None,
    tcm: bool | None = None,
    quotes: bool = False,
) -> dict:
    """The register of a jurisdiction (id or Chinese name) on `as_of`, optionally for one kind of institution.

    NotFound for an unknown jurisdiction; InvalidRequest for a category or level outside the vocabulary.
    `quotes`: every provision with its verbatim text (else labels only)."""
    kb = knowledge_base()
    j = vocabulary().jurisdiction(jurisdiction)
    institution = _institution(category, level, tcm)
    rules = rules_in_force(kb, j, as_of, institution)
    rows = _rows(kb, rules, j.id, quotes)
    return {
        "jurisdiction": {"id": j.id, "name": j.name},
        "as_of": as_of.isoformat(),
        "knowledge_base": {"version": kb.version, "digest": kb.digest},
        "documents": _documents(kb, j, as_of),
        "filters": {"category": category, "level": level, "tcm": tcm},
        "duties": [r for r in rows if r["stage"] == "obligation"],
        "authority_duties": [r for r in rows if r["stage"] == "authority"],
    }


def filtered(reg: dict, *, actor: str | None = None, action: str | None = None, origin: str | None = None) -> dict:
    """The register with only the rows of this actor, action and origin (None: any)."""

    def keep(row: dict) -> bool:
        return (
            (not actor or row["actor"] == actor)
            and (not action or row["action"] == action)
            and (not origin or row["origin"] == origin)
        )

    return {
        **reg,
        "filters": {**reg["filters"], "actor": actor, "action": action, "origin": origin},
        "duties": [r for r in reg["duties"] if keep(r)],
        "authority_duties": [r for r in reg["authority_duties"] if keep(r)],
    }
