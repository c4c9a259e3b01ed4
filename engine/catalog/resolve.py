"""Resolving a name or code: what technique it means and how the catalogues in force treat it.

`resolve` -> `Resolution`: the technology (by exact name, alias or code; ambiguous aliases and
codes with several meanings give candidates, unknown names ranked suggestions), the entries in
force that cover it, grade handling (`grade_needed`, `grade_excluded`), narrower listings,
prohibited techniques, out-of-scope families and superseded national lists still reproduced in
provincial documents.

Part of engine.catalog (the public facade).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, fields

from engine.catalog import textnorm
from engine.catalog.data import Catalogs, load_catalogs
from engine.catalog.model import ALL, APPLICABLE, Entry, _as_date
from engine.errors import NotFound


@dataclass
class Resolution:
    """What a name or code means and how the catalogues in force treat it (see `resolve`)."""

    query: str | None
    jurisdiction: str
    as_of: str
    surgery_grade: int | None
    status: str  # recognized | ambiguous | not_recognized
    technology: dict | None = None  # {id, name}
    matched: dict | None = None  # how the query was matched
    candidates: list[dict] = field(default_factory=list)  # [{id, name, score, reason}]
    listings: list[dict] = field(default_factory=list)  # entries in force that cover it
    grade_needed: list[dict] = field(default_factory=list)  # would cover it at another grade; grade not given
    grade_excluded: list[dict] = field(default_factory=list)  # graded entries the given grade falls outside
    narrower_listings: list[dict] = field(default_factory=list)  # entries in force for narrower techniques
    prohibited: list[dict] = field(default_factory=list)  # [{id, name, ground, citation}]
    prohibited_elsewhere: list[dict] = field(
        default_factory=list
    )  # named as prohibited by a document not applicable here
    # prohibited for one indication by a document applicable here: [{id, name, ground, citation,
    # indication: {id, name}}]; whether the request's indication is it is for the facts to say
    indication_bans: list[dict] = field(default_factory=list)
    # prohibited techniques named here that are narrower than the one asked (Hunan: 除医疗目的以外的肢体延长术
    # under 肢体延长术): which one is meant decides, so it is asked
    narrower_prohibited: list[dict] = field(default_factory=list)
    out_of_scope: dict | None = None  # {family, name, citations}
    superseded: list[dict] = field(default_factory=list)  # see `resolve`
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """A JSON-ready copy (nested dicts and lists copied, so callers may modify it)."""
        return {f: _copy(getattr(self, f)) for f in _RESOLUTION_FIELDS}


def _copy(value):
    """Copy of a JSON-like value (dicts, lists, scalars), much cheaper than copy.deepcopy."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_copy(v) for v in value]
    return value


_RESOLUTION_FIELDS = tuple(f.name for f in fields(Resolution))


# --------------------------------------------------------------------------- codes

_PREFIX = re.compile(r"^(?P<prefix>[^:]+):(?P<code>.+)$")


def _code_matches(
    cat: Catalogs, code: str, j: str, as_of: dt.date
) -> tuple[list[tuple[Entry, dict]], str | None, list[str]]:
    """Entries a (possibly qualified) code names: [(entry, matched-info)], implied jurisdiction, notes."""
    text = textnorm.normalize(code)
    m = _PREFIX.match(text)
    notes: list[str] = []
    prefix = None
    if m:
        prefix, text = m.group("prefix").lower(), m.group("code")
    key = textnorm.code_key(text)
    if key is None:
        return [], None, [f"“{code}”不是目录编号的格式"]

    def hit(e: Entry, document: str | None = None) -> tuple[Entry, dict]:
        if document:
            r = e.reproduction(document) or {}
            return e, {
                "by": "code",
                "text": code,
                "catalog": e.catalog,
                "code": r.get("code", e.code),
                "name": r.get("name", e.name),
                "document": document,
                "eid": r.get("eid"),
            }
        c = cat.entry_citation(e, j, as_of)
        return e, {
            "by": "code",
            "text": code,
            "catalog": e.catalog,
            "code": e.code,
            "name": e.name,
            "document": c["document"] if c else None,
            "eid": c["eid"] if c else None,
        }

    if prefix is None:
        out = []
        for v in cat.in_force(j, as_of):
            e = cat.codes[v.id].get(key)
            if e is not None:
                out.append(hit(e))
        return out, None, notes

    if prefix in cat.versions:
        v = cat.versions[prefix]
        e = cat.codes[v.id].get(key)
        if e is not None:
            return [hit(e)], (v.jurisdiction if v.scope == "provincial" else None), notes
        if v.document:  # e.g. hunan-2018:G05 = Hunan's reproduction of the national list in the same attachment
            e = cat.repro_codes.get(v.document, {}).get(key)
            if e is not None:
                return [hit(e, v.document)], v.jurisdiction, notes
        return [], (v.jurisdiction if v.scope == "provincial" else None), [f"{v.id} 中没有编号 {text}"]

    try:
        pj = cat.jurisdiction_id(prefix)
    except NotFound:
        return [], None, [f"未知的目录或地区“{prefix}”（可用：{', '.join([*cat.versions, *cat.jurisdictions])}）"]
    if pj in ("national", ALL):
        out = []
        for v in cat.national:
            if cat.version_status(v, as_of) in APPLICABLE and key in cat.codes[v.id]:
                out.append(hit(cat.codes[v.id][key]))
        if not out:
            notes.append(f"{as_of.isoformat()} 施行的国家目录中没有编号 {text}")
        return out, None, notes
    provincial = [v for v in cat.provincial if v.jurisdiction == pj]
    for v in provincial:
        e = cat.codes[v.id].get(key)
        if e is not None:
            return [hit(e)], pj, notes
    for doc in cat.jurisdiction_documents(pj):
        e = cat.repro_codes.get(doc, {}).get(key)
        if e is not None and doc not in cat.jurisdiction_documents("national"):
            return [hit(e, doc)], pj, notes
    # a jurisdiction's catalogue in force also contains the national version in force
    out = [
        hit(cat.codes[v.id][key])
        for v in cat.national
        if cat.version_status(v, as_of) in APPLICABLE and key in cat.codes[v.id]
    ]
    if not out:
        notes.append(f"{pj} 的目录中没有编号 {text}")
    return out, pj, notes


_GRADE_PREFIX = re.compile(r"^(?:([一二三四])|([1-4]))级(.+)$")


def _grade_in_name(name: str) -> tuple[int, str] | None:
    """(grade, the rest) for a name that begins with its surgery grade (四级…, 4级…), else None."""
    m = _GRADE_PREFIX.match(textnorm.normalize(name))
    if not m:
        return None
    grade = "一二三四".index(m.group(1)) + 1 if m.group(1) else int(m.group(2))
    return grade, m.group(3)


def _code_suggestions(cat: Catalogs, code: str) -> list[dict]:
    """Every entry anywhere with this code, as suggestions for a code not found in force."""
    text = textnorm.normalize(code)
    m = _PREFIX.match(text)
    key = textnorm.code_key(m.group("code") if m else text)
    out = []
    for v in cat.versions.values():
        e = cat.codes[v.id].get(key)
        if e is not None:
            t = cat.taxonomy.nodes[e.technology]
            out.append(
                {
                    "id": t.id,
                    "name": t.name,
                    "score": 0.5,
                    "reason": f"{v.id} {e.code} {e.name}（{v.name}，不适用于所问地区或日期）",
                }
            )
    for doc, codes in cat.repro_codes.items():
        e = codes.get(key)
        if e is not None:
            t = cat.taxonomy.nodes[e.technology]
            r = e.reproduction(doc) or {}
            out.append(
                {
                    "id": t.id,
                    "name": t.name,
                    "score": 0.5,
                    "reason": f"{doc} {r.get('eid')} 转载的 {e.catalog} {r.get('code', e.code)} {r.get('name', e.name)}",
                }
            )
    return out


# --------------------------------------------------------------------------- resolve


def _fill(cat: Catalogs, res: Resolution, tech_id: str, j: str, as_of: dt.date, grade: int | None) -> None:
    """Listings, grade_needed, prohibited, out_of_scope and superseded for a recognized technology."""
    tax = cat.taxonomy
    up = tax.up(tech_id)
    versions = cat.in_force(j, as_of)
    for v in versions:
        for e in cat.cover[v.id].get(tech_id, ()):
            ok = e.covers_grade(grade)
            if ok:
                res.listings.append(cat.listing(e, j, as_of))
            elif ok is None:
                res.grade_needed.append(cat.listing(e, j, as_of))
            else:
                res.grade_excluded.append(cat.listing(e, j, as_of))
        for e in cat.narrower[v.id].get(tech_id, ()):
            item = cat.listing(e, j, as_of)
            t = tax.nodes[e.technology]
            item["technology"] = {"id": t.id, "name": t.name}
            res.narrower_listings.append(item)
    # prohibited techniques named in an applicable document of the jurisdiction; the others are
    # named elsewhere (another province's examples, or a document not in force on the day)
    down = tax.descendants(tech_id)
    for p in cat.prohibited:
        if p.technology in down:
            here = j == ALL or j in p.jurisdictions or "national" in p.jurisdictions
            if here and any(cat.applicable(d, as_of) for d in p.documents):
                t = tax.nodes[p.technology]
                res.narrower_prohibited.append(
                    {
                        "id": p.id,
                        "name": p.name,
                        "technology": {"id": t.id, "name": t.name},
                        "citation": {"document": p.citation["document"], "eid": p.citation["eid"]},
                    }
                )
            continue
        if p.technology not in up:
            continue
        ground = cat.grounds.get(p.ground, {})
        item = {
            "id": p.id,
            "name": p.name,
            "ground": p.ground,
            "ground_name": ground.get("name"),
            "citation": {"document": p.citation["document"], "eid": p.citation["eid"]},
        }
        here = j == ALL or j in p.jurisdictions or "national" in p.jurisdictions
        if p.indication is not None:
            # a ban for one indication: only where and when its document applies (before it, the
            # technique was not banned; there is nothing to ask)
            if here and any(cat.applicable(d, as_of) for d in p.documents):
                ind = tax.indications[p.indication]
                res.indication_bans.append({**item, "indication": {"id": ind.id, "name": ind.name}})
            continue
        if here and any(cat.applicable(d, as_of) for d in p.documents):
            res.prohibited.append(item)
        else:
            res.prohibited_elsewhere.append(item)
    # out of scope
    for f in cat.out_of_scope:
        if f.technology not in up:
            continue
        cites = [
            {"document": c["document"], "eid": c["eid"]}
            for c in f.citations
            if (c["jurisdictions"] == ALL or j == ALL or j in c["jurisdictions"])
            and cat.applicable(c["document"], as_of)
        ]
        if cites:
            res.out_of_scope = {"family": f.id, "name": f.name, "citations": cites}
            break
    # superseded national lists reproduced in applicable provincial documents
    current = [v for v in cat.national if v in versions]
    for doc in cat.jurisdiction_documents(j):
        if doc not in cat.reproductions or not cat.applicable(doc, as_of):
            continue
        for nv in cat.reproductions[doc]:
            if nv in versions or cat.version_status(nv, as_of) != "expired":
                continue
            for e in cat.cover[nv.id].get(tech_id, ()):
                r = e.reproduction(doc)
                if r is None:
                    continue
                now = [x for v in current for x in cat.cover[v.id].get(tech_id, ())]
                if any(x.code == e.code for x in now):
                    continue
                res.superseded.append(
                    {
                        "catalog": nv.id,
                        "code": r.get("code", e.code),
                        "name": r.get("name", e.name),
                        "reproduced_in": {"document": doc, "eid": r["eid"]},
                        "in_force_listing": cat.listing(now[0], j, as_of) if now else None,
                    }
                )


def resolve(
    name: str | None = None,
    code: str | None = None,
    jurisdiction: str | None = None,
    as_of=None,
    surgery_grade: int | None = None,
    *,
    catalogs: Catalogs | None = None,
) -> Resolution:
    """Identify a technique by name or code and say how the catalogues in force on `as_of` treat it.

    - `name`: catalogue wording, common name or abbreviation (PCI, ECMO, CRRT, 血透 …).
    - `code`: `S19` (searched in the versions in force in the jurisdiction: several different
      meanings -> ambiguous) or qualified `hunan:S19`, `hunan-2018:S19`, `national-2022:G05`,
      `hunan:G05` (= Hunan's reproduction of the national 2018 G05). A qualifier naming a
      province stands for the jurisdiction when `jurisdiction` is not given.
    - `jurisdiction`: id or Chinese name; None = national; 'all' = every province at once.

    status: `recognized` (exact name, alias or code), `ambiguous` (a declared ambiguous alias or a
    code with several meanings: see `candidates`), `not_recognized` (with ranked suggestions in
    `candidates`; a merely similar name is never recognized).
    """
    cat = catalogs or load_catalogs()
    day = _as_date(as_of)
    j = cat.jurisdiction_id(jurisdiction)
    query = name if name else code
    res = Resolution(
        query=query, jurisdiction=j, as_of=day.isoformat(), surgery_grade=surgery_grade, status="not_recognized"
    )
    tax = cat.taxonomy
    tech_id: str | None = None

    if name:
        m = tax.lookup(name)
        graded = _grade_in_name(name)
        if graded is not None:
            # a name that carries its grade (四级消化内镜诊疗技术) decides the grade (contract §5 "Unknowns")
            g, rest = graded
            surgery_grade = g if surgery_grade is None else surgery_grade
            res.surgery_grade = surgery_grade
            if m.status != "recognized":
                m = tax.lookup(rest)
        if m.status == "recognized":
            tech_id = m.ids[0]
            res.matched = {"by": "name", "how": m.how, "text": m.matched}
            if code and surgery_grade is None:
                # a code given beside the name decides what it can: the grade of a one-grade entry (SH10)
                hits, _, _ = _code_matches(cat, code, j, day)
                grades = {g for e, _ in hits if e.technology == tech_id and e.grades for g in e.grades}
                if hits and len(grades) == 1 and all(e.technology == tech_id and e.grades for e, _ in hits):
                    surgery_grade = res.surgery_grade = grades.pop()
        elif m.status == "ambiguous":
            res.status = "ambiguous"
            reason = f"“{m.matched}”可指多项技术" + (f"：{m.note}" if m.note else "")
            res.candidates = [{"id": i, "name": tax.nodes[i].name, "score": 1.0, "reason": reason} for i in m.ids]
            return res
        else:
            if code:  # an unrecognised name with a code: the code decides
                by_code = resolve(
                    code=code, jurisdiction=jurisdiction, as_of=day, surgery_grade=surgery_grade, catalogs=cat
                )
                if by_code.status != "not_recognized":
                    by_code.query = query
                    by_code.notes.insert(0, f"名称“{name}”未能识别，按编号 {code} 识别")
                    return by_code
            res.candidates = [
                {"id": i, "name": tax.nodes[i].name, "score": s, "reason": f"名称相近：{src}"}
                for i, s, src in tax.suggest(name)
            ]
            return res
    elif code:
        hits, implied, notes = _code_matches(cat, code, j, day)
        res.notes += notes
        if jurisdiction is None and implied:
            j = res.jurisdiction = implied
        techs = list(dict.fromkeys(e.technology for e, _ in hits))
        if not hits:
            res.candidates = _code_suggestions(cat, code)
            return res
        if len(techs) > 1:
            res.status = "ambiguous"
            res.candidates = [
                {
                    "id": e.technology,
                    "name": tax.nodes[e.technology].name,
                    "score": 1.0,
                    "reason": f"{e.catalog} {info['code']} {info['name']}",
                }
                for e, info in hits
            ]
            return res
        tech_id = techs[0]
        res.matched = hits[0][1]
        # an entry that is of one grade by definition (SH10 四级消化内镜诊疗技术) needs no grade
        only = {g for e, _ in hits for g in (e.grades or (0, 0))}
        if surgery_grade is None and len(only) == 1 and all(e.grades for e, _ in hits):
            surgery_grade = res.surgery_grade = only.pop()
        # a plain code whose meaning differs in a superseded reproduction the jurisdiction still prints
        # (Jilin's and Hunan's attachments reproduce the 2018 national list): which one is meant is asked
        # (contract §5 "Unknowns"): ambiguous, each meaning with the qualified code that decides it
        if ":" not in textnorm.normalize(code):
            key = textnorm.code_key(textnorm.normalize(code))
            alternatives = []
            for doc in cat.jurisdiction_documents(j):
                e = cat.repro_codes.get(doc, {}).get(key)
                if e is None or e.technology == tech_id or not cat.applicable(doc, day):
                    continue
                if cat.version_status(cat.versions[e.catalog], day) == "expired":
                    r = e.reproduction(doc) or {}
                    alternatives.append(
                        {
                            "id": e.technology,
                            "name": tax.nodes[e.technology].name,
                            "score": 0.0,
                            "reason": f"本地文件转载的已被替代的{cat.versions[e.catalog].name} {r.get('code', e.code)}",
                            "qualified": f"{j}:{r.get('code', e.code)}",
                        }
                    )
            if alternatives:
                first, info = hits[0]
                res.status = "ambiguous"
                res.candidates = [
                    {
                        "id": tech_id,
                        "name": tax.nodes[tech_id].name,
                        "score": 1.0,
                        "reason": f"现行{cat.versions[first.catalog].name} {info['code']}",
                        "qualified": f"{first.catalog}:{info['code']}",
                    },
                    *alternatives,
                ]
                return res
    else:
        res.notes.append("未提供技术名称或编号")
        return res

    res.status = "recognized"
    res.technology = tax.nodes[tech_id].ref()
    _fill(cat, res, tech_id, j, day, surgery_grade)
    return res


_MEMO_LIMIT = 4096


def resolve_on(
    name: str | None,
    code: str | None,
    jurisdiction: str | None,
    as_of: dt.date,
    surgery_grade: int | None,
    *,
    fresh: bool = True,
) -> dict:
    """`resolve(...).to_dict()` for the default catalogues, memoised: a day is keyed by the catalogue
    state in force on it (`Catalogs.state_on`), so the days a decision evaluates mostly share one
    resolution. A code can name the day in a note, so a query with a code is keyed by the day itself.
    Returns a fresh copy (callers may modify it); with `fresh=False` a shallow copy whose nested
    values are shared with the memo (callers must only read them, and `as_of` may be another day's)."""
    cat = load_catalogs()
    memo = cat.__dict__.setdefault("_resolve_memo", {})
    key = (name, code, jurisdiction, surgery_grade, as_of if code else cat.state_on(as_of))
    hit = memo.get(key)
    if hit is None:
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
        hit = memo[key] = resolve(
            name=name, code=code, jurisdiction=jurisdiction, as_of=as_of, surgery_grade=surgery_grade
        ).to_dict()
    if not fresh:
        return dict(hit)
    out = _copy(hit)
    out["as_of"] = as_of.isoformat()
    return out
