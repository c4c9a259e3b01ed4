"""decide(request) -> response: the stages wired together.

parse request -> documents in force -> resolve the technology in the catalogues -> facts ->
classify (rules) -> obligations (rules) -> merge, date and cite -> explain (trace).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from functools import lru_cache

from engine.inference import backends, memo
from engine.inference import blocks as blocks_mod
from engine.inference.backends import BACKENDS  # noqa: F401 - re-exported for the CLI
from engine.inference.citations import citations
from engine.inference.citations import citations as _cited
from engine.inference.days import LATER_STAGES, Days, status_on
from engine.inference.facts import (
    OPTIONAL_BOOLEANS,
    TECH_BOOLEANS,
    indication_fact,
)
from engine.inference.lawday import Governance
from engine.inference.obligations import build as build_obligations
from engine.inference.obligations import build_light
from engine.inference.occurrences import counted as counted_events
from engine.inference.occurrences import occurrences
from engine.inference.outcomes import outcomes_for, with_answer
from engine.inference.request import canonical, derived_request, parse_request
from engine.inference.verdict import OTHER, ordered, rank, verdict
from engine.jsonout import dumps_canonical
from engine.kb import validity
from engine.kb.loader import knowledge_base
from engine.kb.rules import doc_fact

DATE_FACTS = ("as_of", "technology.in_use_since")
# the obligation and authority rules a day's unknown facts leave open (the missing-fact search)
_UNDECIDED = memo.memo("undecided")


@lru_cache(maxsize=1)
def default_backend() -> str:
    """MEDTECH_BACKEND, read once per process (the CLI sets it before the first decision), else durable_rules."""
    return os.environ.get("MEDTECH_BACKEND") or BACKENDS[0]


def _backend(kb, name: str | None):
    name = name or default_backend()
    if name not in BACKENDS:
        raise ValueError(f"unknown back end {name!r} (choose from {', '.join(BACKENDS)})")
    return backends.backend(kb, name)


def _documents(kb, request, quiet: frozenset[str] | set[str] = frozenset()) -> tuple[list[dict], list[str], list[dict]]:
    """Every document of the jurisdiction with its status at `as_of`, those applicable, and the warnings
    about those not in force (none for the documents in `quiet`)."""
    docs, active, warnings = [], [], []
    for doc_id in request.jurisdiction.documents:
        doc = kb.documents[doc_id]
        st = validity.status_on(doc.dates, request.as_of)
        docs.append({"id": doc_id, "title": doc.title, "status": st})
        if st in validity.APPLICABLE:
            active.append(doc_id)
        if st == "not_yet_in_force" and doc_id not in quiet:
            start = validity.bounds(doc.dates.get("in_force_from"))[0]
            assert start is not None  # a document with an unknown start is "uncertain", not "not yet"
            warnings.append(
                {
                    "code": "document_not_in_force",
                    "message": f"{doc.title}（{doc_id}）自{start.isoformat()}起施行，{request.as_of.isoformat()}尚未施行；其规则适用于施行后发生的事件（过渡条款适用于施行前已开展的技术）",
                }
            )
        elif st == "expired":
            end = validity.bounds(doc.dates.get("in_force_until"))[1]
            assert end is not None  # only a known end makes a document expired
            warnings.append(
                {
                    "code": "document_expired",
                    "message": f"{doc.title}（{doc_id}）有效期至{end.isoformat()}，{request.as_of.isoformat()}已失效，其规则仅适用于有效期内发生的事件",
                }
            )
        if (doc.dates.get("in_force_from") or {}).get("precision") != "day":
            note = doc.dates.get("note") or ""
            applied = "其规则按可能已施行予以适用" if st in validity.APPLICABLE else "其规则未适用"
            warnings.append(
                {
                    "code": "effective_date_unknown",
                    "message": f"{doc.title}（{doc_id}）的施行日期在原文中不完整{('：' + note) if note else ''}；{applied}，依施行日期计算的期限无法确定",
                }
            )
    return docs, active, warnings


@lru_cache(maxsize=4)
def _trace_plans(kb) -> dict:
    """rule id -> (the facts the trace shows with whether each is a date, the quotes of the rule's
    citations), filled as rules fire; one per knowledge base, as its citations are."""
    return {}


def _trace_plan(kb, plans: dict, rule) -> tuple:
    plan = plans.get(rule.id)
    if plan is None:
        cited = citations(kb)
        shown = tuple((f, f in DATE_FACTS or f.startswith("events.")) for f in cited.of(rule).trace_facts)
        plan = plans[rule.id] = (shown, cited.quotes(tuple(rule.spec["citations"])))
    return plan


def _trace(kb, rules, facts: dict, blocks: blocks_mod.Fresh) -> list[dict]:
    """The trace: for each rule that fired, the facts it read (dates shown as days) and its citations."""
    plans = _trace_plans(kb)
    shown_values: dict = {}  # each fact's shown value, converted once per decision
    out = []
    for rule in rules:
        shown, quotes = _trace_plan(kb, plans, rule)
        used = {}
        for f, is_date in shown:
            if f in facts:
                v = shown_values.get(f, _NOT_SHOWN)
                if v is _NOT_SHOWN:
                    v = facts[f]
                    if is_date and isinstance(v, int):
                        v = dt.date.fromordinal(v).isoformat()
                    shown_values[f] = v
                used[f] = v
        out.append({"rule": rule.id, "stage": rule.stage, "facts": used, "citations": blocks.quotes(quotes)})
    return out


_NOT_SHOWN = object()


def _asked(path: str) -> bool:
    """Whether an unknown fact's request path is one to ask for (not a day's documents, an event or the class)."""
    return not (path.startswith("active.") or path.startswith("events.") or path == "class")


def _wanted(facts_obj) -> set[str]:
    """The request paths of the unknown facts that would be asked for."""
    because = facts_obj.unknown_because
    return {p for f in because if _asked(p := because.get(f, f))}


def _missing(kb, undecided, facts_obj, seen: dict) -> None:
    questions = kb.vocabulary.raw.get("questions", {})
    because = facts_obj.unknown_because
    wanted = _wanted(facts_obj)
    for u in undecided:
        if wanted <= seen.keys():
            return  # every unknown fact is asked for already: no later rule changes the list
        if all(because[f] in seen or not _asked(because[f]) for f in u.rule.fact_set if f in because):
            continue  # whatever leaves decide this rule, their questions are asked already
        for leaf in u.unknown:
            path = because.get(leaf.fact, leaf.fact)
            if not _asked(path):
                continue
            if path not in seen:
                why = f"规则“{u.rule.spec['summary']}”（{u.rule.id}）取决于此"
                seen[path] = {"path": path, "question": questions.get(path, f"请提供 {path}"), "why": why}


def _technology_view(kb, request, resolution, cls, class_rules, blocks: blocks_mod.Fresh) -> dict | None:
    if request.technology is None:
        return None
    tech = request.technology
    res = resolution or {}
    t = res.get("technology") or {}
    cited = _cited(kb)
    listings = []
    for listing in res.get("listings") or []:
        c = listing.get("citation")
        listings.append(
            {
                "catalog": listing["catalog"],
                "code": listing["code"],
                "name": listing["name"],
                "scope": listing["scope"],
                "grades": None if listing.get("grades") is None else list(listing["grades"]),
                "citation": blocks.one(cited.quote(f"{c['document']}:{c['eid']}")) if c else None,
            }
        )
    # each provision once (two references to one provision are the same citation)
    refs = dict.fromkeys(c for r in class_rules for c in r.spec["citations"])
    citations = blocks.quotes(cited.quotes(tuple(refs)))
    out = {
        "query": tech.get("name") or tech.get("code"),
        "id": t.get("id"),
        "name": t.get("name"),
        "class": cls or "undetermined",
        "listings": listings,
        "citations": citations,
    }
    if res.get("candidates") and res.get("status") != "recognized":
        out["candidates"] = [dict(c) for c in res["candidates"]]
    return out


def _technology_warnings(kb, resolution) -> list[dict]:
    if not resolution:
        return []
    out = []
    q = resolution.get("query")
    for p in resolution.get("prohibited_elsewhere") or []:
        c = p["citation"]
        named_in = f"《{kb.documents[c['document']].title}》{kb.provision(c['document'], c['eid']).label}"
        out.append(
            {
                "code": "prohibited_elsewhere",
                "message": f"{named_in}将“{p['name']}”列为禁止类技术的示例（{p['ground_name'] or p['ground']}）；所问地区的文件未列举，请说明该技术是否具有禁止类情形（technology.prohibited_grounds）",
            }
        )
    if resolution["status"] == "not_recognized":
        names = "、".join(c["name"] for c in (resolution.get("candidates") or [])[:5])
        out.append(
            {
                "code": "technology_not_recognized",
                "message": f"未能识别技术“{q}”" + (f"；相近的有：{names}" if names else ""),
            }
        )
    elif resolution["status"] == "ambiguous":
        cands = resolution.get("candidates") or []
        # a code's meanings are named by their catalogues (the qualified codes are the outcomes' values)
        names = "、".join(c["name"] + (f"（{c['reason']}）" if c.get("qualified") else "") for c in cands)
        how = "；请以技术名称或带目录的编号指明" if any(c.get("qualified") for c in cands) else "；请指明具体技术"
        out.append({"code": "technology_ambiguous", "message": f"“{q}”可指多项不同技术：{names}{how}"})
    for s in resolution.get("superseded") or []:
        now = s.get("in_force_listing")
        now_text = f"现行国家目录为{now['catalog']} {now['code']} {now['name']}" if now else "现行国家目录未列入"
        where = s.get("reproduced_in") or {}
        out.append(
            {
                "code": "catalog_superseded",
                "message": f"{where.get('document', '')} {where.get('eid', '')}转载的{s['catalog']} {s['code']} {s['name']}已被新版国家目录替代，{now_text}",
            }
        )
    return out


def _national_notices_naming(kb, resolution) -> set[str]:
    """The national notices whose prohibited listings (catalogs/prohibited.yaml) name the technique asked
    or a broader one."""
    tech_id = ((resolution or {}).get("technology") or {}).get("id")
    if not tech_id:
        return set()
    from engine.catalog.data import load_catalogs

    cat = load_catalogs()
    up = cat.taxonomy.up(tech_id)
    return {d for p in cat.prohibited if p.technology in up for d in p.documents}


def _unrelated_later_notices(kb, req, resolution) -> set[str]:
    """National notices not yet in force at `as_of` that name no technique asked: listed with their status
    but not warned about (the bans of 2025 say nothing about a filing asked in 2024; asked about LVA in
    2024, the ban that will apply from 2025-07-08 is)."""
    later = {n["id"] for n in kb.national_notices if status_on(kb, n["id"], req.as_of) == "not_yet_in_force"}
    return later - _national_notices_naming(kb, resolution)


def _province_warnings(kb, req) -> list[dict]:
    """`provincial_rules_not_encoded`: the institution is in a province whose own notice and list are not
    encoded (request parsing has refused an encoded one with `national`); the answer is the national floor."""
    name = req.institution.get("province")
    if not name:
        return []
    entry = next(p for p in kb.vocabulary.raw.get("provinces") or [] if p["name"] == name)
    if entry.get("jurisdiction"):  # the jurisdiction's own province (request parsing refuses any other)
        return []
    encoded = "、".join(p["name"] for p in kb.vocabulary.raw.get("provinces") or [] if p.get("jurisdiction"))
    if entry.get("outside_measures"):
        message = (
            f"{name}不适用内地卫生健康行政部门的医疗技术临床应用管理规定，本知识库未收录其规定；"
            "本答复只是国家规定的结论，不能作为该地区的合规意见"
        )
    else:
        message = (
            f"{name}的通知和省级限制类技术目录未收录：本答复只依据国家规定（国家底线），"
            f"{name}自己的规定（如增补的限制类技术、备案要求）可能另有要求，请查阅{name}卫生健康委的文件；"
            f"已收录的省份：{encoded}"
        )
    return [{"code": "provincial_rules_not_encoded", "message": message}]


def _indication_warnings(kb, req, resolution, facts: dict) -> list[dict]:
    """`prohibited_for_other_indication`: a ban for one indication covers the technique and the request
    names another indication; the rest of the knowledge base decided, and the warning names the ban."""
    out = []
    given = (req.technology or {}).get("indication")
    for ban in (resolution or {}).get("indication_bans") or []:
        if facts.get(indication_fact(ban["id"])) is not False:
            continue
        c = ban["citation"]
        doc = kb.documents[c["document"]]
        out.append(
            {
                "code": "prohibited_for_other_indication",
                "message": f"《{doc.title}》{kb.provision(c['document'], c['eid']).label}禁止将该技术应用于"
                f"{ban['indication']['name']}治疗；所给适应证“{given}”不在禁止之列，本答复按其他规定作出",
            }
        )
    return out


def _indication_why(kb, resolution, entry: dict) -> None:
    """`technology.indication` asked: its `why` says what each answer means (若用于阿尔茨海默病治疗：禁止…),
    from the outcomes, and which notices ban which indication."""
    bans = (resolution or {}).get("indication_bans") or []
    if not bans or not entry.get("outcomes"):
        return
    names = kb.vocabulary.names("technology_classes")
    other = kb.vocabulary.raw["other_indication"]
    verbs = kb.vocabulary.names("action_verbs")
    said = []
    for o in entry["outcomes"]:
        value, cls, nxt = o["value"], o["class"] or "undetermined", o["next"]
        act = f"，{verbs.get(nxt['action'], nxt['action'])}" if nxt else ""
        said.append(f"若用于{value}{'' if value == other else '治疗'}：{names.get(cls, cls)}{act}")
    refs = "；".join(
        f"《{kb.documents[b['citation']['document']].title}》{kb.provision(b['citation']['document'], b['citation']['eid']).label}"
        for b in bans
    )
    entry["why"] = f"{'；'.join(said)}（{refs}）"


# request fields that state a fact about the technique, with the facts rules read them through
STATED_FACTS: dict[str, tuple[str, ...]] = {
    f"technology.{n}": (f"technology.{n}",) for n in TECH_BOOLEANS + OPTIONAL_BOOLEANS
}


@lru_cache(maxsize=4)
def _readers(kb) -> dict[str, frozenset]:
    """fact -> ids of the rules that read it, in their condition or in what they list (`uses`)."""
    out: dict[str, set] = {}
    for r in kb.rules:
        for f in r.facts_used + list(r.spec.get("uses", [])):
            out.setdefault(f, set()).add(r.id)
    return {f: frozenset(ids) for f, ids in out.items()}


@lru_cache(maxsize=256)
def _rules_reading(kb, names: tuple[str, ...]) -> tuple:
    """The rules (in rule order) that read any of the facts `names`."""
    readers_of = _readers(kb)
    return tuple(r for r in kb.rules if any(r.id in readers_of.get(n, ()) for n in names))


@lru_cache(maxsize=64)
def _rules_reading_event(kb, event_type: str) -> tuple:
    """The rules (in rule order) that read an event: in their condition, or as the event their
    deadline runs from or is done by."""
    readers_of = _readers(kb)
    return tuple(
        r
        for r in kb.rules
        if r.id in readers_of.get(f"events.{event_type}", ())
        or (r.spec.get("deadline") or {}).get("event") == event_type
        or r.spec.get("done_by") == event_type
    )


def _unused_facts(kb, req, facts: dict) -> list[dict]:
    """`fact_unused`: a fact the request states (true, grounds given, or an event) that no rule of an
    applicable document reads, in its condition, in what it lists (`uses`) or, for an event, as the
    event its deadline runs from or is done by."""
    tech = req.technology or {}
    stated: dict[str, tuple[str, ...]] = {
        p: names for p, names in STATED_FACTS.items() if tech.get(p.split(".", 1)[1]) is True
    }
    if tech.get("prohibited_grounds"):
        stated["technology.prohibited_grounds"] = ("technology.any_prohibited_ground",) + tuple(
            f"technology.ground.{g}" for g in kb.vocabulary.ids("prohibited_grounds")
        )
    candidates = {p: _rules_reading(kb, names) for p, names in stated.items()}
    # an event is a stated fact too (contract §5): one that no rule of an applicable document reads, in
    # its condition or as the event its deadline runs from or is done by, is named as well
    event_names = kb.vocabulary.names("event_types")
    for event_type, index in {e.type: e.index for e in reversed(req.events)}.items():
        label = f"events.{index}.type={event_type}（{event_names.get(event_type, event_type)}）"
        candidates[label] = _rules_reading_event(kb, event_type)
    out = []
    applicable = {d for d in kb.documents if facts.get(doc_fact(d))}
    for path, readers in candidates.items():
        if any(r.document in applicable for r in readers):
            continue
        elsewhere = "、".join(dict.fromkeys(kb.documents[r.document].title for r in readers))
        out.append(
            {
                "code": "fact_unused",
                "message": f"所给事实 {path} 在所适用的文件中没有条款使用，未影响结论"
                + (f"（使用它的是：{elsewhere}）" if elsewhere else ""),
            }
        )
    return out


def _name_narrower(resolution, missing: dict) -> None:
    """When a family name leaves the class open, say which narrower techniques the catalogues list."""
    narrower = (resolution or {}).get("narrower_listings") or []
    banned = (resolution or {}).get("narrower_prohibited") or []
    path = "technology.code" if (resolution or {}).get("by_code") else "technology.name"
    if narrower and path in missing:
        names = "、".join(f"{x['technology']['name']}（{x['catalog']} {x['code']}）" for x in narrower)
        missing[path]["why"] = (
            f"“{resolution.get('query')}”是技术类别，目录列入的是其下位技术：{names}；" + missing[path]["why"]
        )
    if banned and path in missing:
        names = "、".join(f"“{x['name']}”" for x in banned)
        missing[path]["why"] = (
            f"“{resolution.get('query')}”是技术类别，其下位技术{names}被列为禁止类技术，其余（如以医疗为目的）不在其列："
            "请说明具体所指（目的）；" + missing[path]["why"]
        )


def decision_id(req, digest: str) -> str:
    """A deterministic id of the decision: a hash of the canonical request (keys sorted, dates as days, `as_of`
    as answered, so a request that leaves it out is the request of that day) and the knowledge-base digest.
    The same request and digest give the same id (and the same answer); it does not depend on how the answer is
    shaped (quotes, trace)."""
    text = dumps_canonical({"request": canonical(req), "digest": digest})
    return "dec_" + hashlib.sha256(text).hexdigest()[:32]


def decide(
    request: dict,
    *,
    backend: str | None = None,
    outcomes: bool = True,
    trace: bool = True,
    blocks: blocks_mod.Fresh = blocks_mod.FRESH,
) -> dict:
    """Answer one decision request (contract section 3) with a response (section 4).

    Raises engine.InvalidRequest (a ValueError) listing every problem of an invalid request.
    `backend` ("durable" or "pure") is for differential testing; the default is durable_rules.
    `outcomes`: say for each closed-set missing fact what each answer would mean (the answers are
    decided without outcomes of their own).
    `trace=False` answers without the `trace` member (it is not built).
    `blocks`: how the answer holds its constant blocks (engine.inference.blocks): fresh dicts, or the
    encoded fragments engine.render.templates sends as bytes.
    """
    return _decide(request, backend=backend, outcomes=outcomes, trace=trace, blocks=blocks)


def _answering(kb, req, backend: str | None):
    """(request, path, value) -> conclusion() of the request with that answer given. An answer from the
    vocabulary's fixed sets (`outcome_values`: booleans and grades of the technique, each valid wherever the
    request is, tests/test_templates.py) is given to the request already parsed, which it changes in that
    one field; any other is a new request, parsed and validated."""
    fixed = kb.vocabulary.raw.get("outcome_values") or {}

    def answer(request: dict, path: str, value) -> dict:
        if req.technology is not None and path.startswith("technology.") and value in (fixed.get(path) or ()):
            return _decide(
                request,
                backend=backend,
                outcomes=False,
                trace=False,
                summary=True,
                blocks=_shared_blocks(),
                parsed=derived_request(req, path, value),
            )
        return conclusion(with_answer(request, path, value), backend=backend)

    return answer


def conclusion(request: dict, *, backend: str | None = None) -> dict:
    """What an outcome reads of an answer (engine.inference.outcomes): `{technology: {class} | None, verdict}`,
    the same values `decide(request, outcomes=False)` gives them, with nothing else built (no documents,
    authority actions, trace, id, or warnings the verdict does not read; citations shared, not copied)."""
    return _decide(request, backend=backend, outcomes=False, trace=False, summary=True, blocks=_shared_blocks())


@lru_cache(maxsize=1)
def _shared_blocks() -> blocks_mod.Shared:
    return blocks_mod.Shared()


def _decide(
    request: dict,
    *,
    backend: str | None,
    outcomes: bool,
    trace: bool,
    summary: bool = False,
    blocks: blocks_mod.Fresh = blocks_mod.FRESH,
    parsed=None,
) -> dict:
    """decide(), with `summary` (conclusion()), the kind of `blocks` the answer holds (engine.inference.blocks)
    and the request already `parsed` (engine.inference.request.Request) when it is."""
    req = parsed if parsed is not None else parse_request(request)
    kb = knowledge_base()
    engine = _backend(kb, backend)
    occ = occurrences(req, kb.vocabulary)
    events = counted_events(occ, kb.vocabulary)
    days = Days(kb, engine, req, events)
    today, facts_obj, resolution, class_rules, blocking = days.evaluate(req.as_of)
    days.cache[req.as_of] = today
    facts = facts_obj.values
    cls = today.cls
    docs: list[dict]
    warnings: list[dict]
    if summary:  # the verdict reads no document status, nor these warnings
        docs, warnings = [], []
    else:
        docs, _, warnings = _documents(kb, req, _unrelated_later_notices(kb, req, resolution))
        warnings += _province_warnings(kb, req)

    stages = LATER_STAGES

    def find_missing() -> dict:
        """request path -> {path, question, why} for each fact whose answer could change this answer."""
        found: dict = {}
        _missing(kb, blocking, facts_obj, found)
        unknown = frozenset(facts_obj.unknown_because)
        if not _wanted(facts_obj) <= found.keys():  # else every unknown fact is asked for already
            undecided = _UNDECIDED.get_or_compute(
                (kb.digest, memo.abstraction(kb, stages).key_with_unknown(facts, unknown)),
                lambda: [u.settled() for u in backends.pure(kb).undecided(stages, facts, unknown)],
            )
            _missing(kb, undecided, facts_obj, found)
        return found

    # contract: without a technology only institution-wide obligations
    law = Governance(
        kb,
        req.as_of,
        days,
        facts,
        occ,
        events,
        req.jurisdiction.documents,
        institution_wide_only=req.technology is None,
    )
    selected = law.select(stages)
    # a provincial rule that takes the place of a national one for the same act (rule field `displaces`)
    displaced = {x for sel in selected for x in sel.rule.spec.get("displaces", [])}
    selected = [sel for sel in selected if sel.rule.id not in displaced]
    fired = [s.rule for s in selected]
    duties = [s for s in selected if s.rule.stage == "obligation"]
    stated = _stated(kb, req)
    if summary:  # what the verdict reads, and nothing else
        light = ordered(build_light(kb, duties, occ, events, req.as_of, stated=stated))
        # the verdict counts the questions only when no obligation leads it
        asked = find_missing() if not light or rank(light[0]) == OTHER else {}
        short: dict = {
            "as_of": req.as_of.isoformat(),
            "technology": None if req.technology is None else {"class": cls or "undetermined"},
            "obligations": light,
            "warnings": warnings + law.warnings,  # `class_changed` heads the verdict
            "missing_facts": list(asked.values()),
        }
        short["verdict"] = verdict(kb.vocabulary, short, _local_addressees(kb, req.jurisdiction.id))
        return short
    missing = find_missing()
    obligations, prov1 = build_obligations(
        kb, duties, occ, events, req.as_of, stated=stated, home=req.jurisdiction.documents[-1], blocks=blocks
    )
    obligations = ordered(obligations)
    authority, prov2 = build_obligations(
        kb, [s for s in selected if s.rule.stage == "authority"], occ, events, req.as_of, authority=True, blocks=blocks
    )
    warnings += law.warnings
    warnings += _order_warnings(kb, occ)
    warnings += _technology_warnings(kb, resolution)
    warnings += _unused_facts(kb, req, facts)
    warnings += _indication_warnings(kb, req, resolution, facts)
    _name_narrower(resolution, missing)
    _name_waiting_events(kb, req, cls, blocking, facts_obj, missing)
    if prov1 or prov2:
        warnings.append(
            {"code": "calendar_provisional", "message": kb.vocabulary.names("warning_codes")["calendar_provisional"]}
        )

    shown = _trace(kb, class_rules + fired, facts, blocks) if trace else None
    missing_facts: list[dict] = list(missing.values())
    if outcomes:
        for m in missing_facts:
            found = outcomes_for(kb, request, m["path"], resolution, _answering(kb, req, backend))
            if found is not None:
                m["outcomes"] = found
        if "technology.indication" in missing:
            _indication_why(kb, resolution, missing["technology.indication"])
    response: dict = {
        "decision_id": decision_id(req, kb.digest),
        "as_of": req.as_of.isoformat(),
        "jurisdiction": {"id": req.jurisdiction.id, "name": req.jurisdiction.name},
        "knowledge_base": {
            "version": kb.version,
            "digest": kb.digest,
            "current_to": kb.current_to,
            "national_notices": [dict(n) for n in kb.national_notices],
        },
        "documents": docs,
        "technology": _technology_view(kb, req, resolution, cls, class_rules, blocks),
        "obligations": obligations,
        "authority_actions": authority,
        "warnings": warnings,
        "missing_facts": missing_facts,
    }
    # the verdict leads every surface (contract §5 "The verdict"); it sits before the trace
    response["verdict"] = verdict(kb.vocabulary, response, _local_addressees(kb, req.jurisdiction.id))
    if shown is not None:  # ?trace=false: never built
        response["trace"] = shown
    if "id" in req.raw:  # the caller's id for the request, echoed first
        response = {"id": req.raw["id"], **response}
    return response


def _order_warnings(kb, occ: dict) -> list[dict]:
    """`event_order`: an event dated before the event it presupposes (vocabulary `event_after`: a discharge
    before the first case), once per pair."""
    names = kb.vocabulary.names("event_types")
    out = []
    for later, earlier in (kb.vocabulary.raw.get("event_after") or {}).items():
        if later in occ and earlier in occ and min(occ[later]) < min(occ[earlier]):
            out.append(
                {
                    "code": "event_order",
                    "message": f"{names.get(later, later)}（{min(occ[later]).isoformat()}）早于"
                    f"{names.get(earlier, earlier)}（{min(occ[earlier]).isoformat()}），请核对日期；"
                    "早于后者的事件仍按所给日期计算",
                }
            )
    return out


def _name_waiting_events(kb, req, cls, blocking, facts_obj, missing: dict) -> None:
    """With the class undetermined, the events whose duties wait on the answer are named in the questions
    that decide the class (contract §5 "Unknowns": never dropped silently)."""
    if cls != "undetermined" or not req.events:
        return
    names = kb.vocabulary.names("event_types")
    because = facts_obj.unknown_because
    deciding = {because.get(leaf.fact, leaf.fact) for u in blocking for leaf in u.unknown}
    shown = "、".join(dict.fromkeys(f"{names.get(e.type, e.type)}（{e.date.isoformat()}）" for e in req.events))
    for path in deciding:
        if path in missing:
            missing[path]["why"] += f"；在回答之前，以下事件所生的义务无法确定：{shown}"


def _stated(kb, req) -> dict:
    """action -> what the request says of whether it was done (vocabulary `done_facts`: file ->
    technology.filed): True, False, or None when silent."""
    tech = req.technology or {}
    out = {}
    for action, path in (kb.vocabulary.raw.get("done_facts") or {}).items():
        out[action] = tech.get(path.split(".", 1)[1]) if path.startswith("technology.") else None
    return out


@lru_cache(maxsize=16)
def _local_addressees(kb, jurisdiction: str) -> dict:
    """The jurisdiction's own names for addressees where they differ from the generic ones."""
    for j in kb.vocabulary.raw["jurisdictions"]:
        if j["id"] == jurisdiction:
            return dict(j.get("local_short_names") or {})
    return {}
