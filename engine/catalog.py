"""Restricted-technology catalogues: which versions are in force where, and what covers a technique.

Data (catalogs/):
- `versions/*.yaml`: one file per catalogue version (national-2018, national-2022, and the
  provincial lists chongqing-2019, hunan-2018, shanghai-2024, jilin-2021);
- `taxonomy.yaml`: the canonical technologies every entry maps to (engine.taxonomy);
- `prohibited.yaml`: prohibited techniques the texts name; `out_of_scope.yaml`: families the
  measures do not govern.

Semantics (contract section 5, "Catalogues"):
- the national version in force on `as_of` applies everywhere; a provincial version applies in
  its province while its document is in force (document status `uncertain` counts as applicable);
- an entry covers its own technology and every narrower one, never a broader one, and only for
  the surgery grades it names (`grades`);
- a provincial attachment reproducing a superseded national list does not keep that list alive:
  where the technique's listing there differs from the national list in force it is reported in
  `superseded`.

Public API: `load_catalogs`, `catalogs_in_force`, `resolve` (-> `Resolution`), `crosswalk`,
`crosswalk_markdown`, `crosswalk_csv`, `format_catalog`, `format_search`, `check_catalogs`,
`clear_cache`.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from engine import textnorm, validity
from engine.errors import KnowledgeBaseError, NotFound, Problem
from engine.paths import CATALOGS_DIR, DOCUMENTS_DIR, KB_DIR, relative
from engine.taxonomy import Taxonomy
from engine.yamlio import load_yaml

CHINA = ZoneInfo("Asia/Shanghai")
APPLICABLE = ("in_force", "uncertain")
ALL = "all"
GRADE_ZH = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}
STATUS_ZH = {"in_force": "有效", "not_yet_in_force": "尚未施行", "expired": "已失效", "uncertain": "施行日期不确定"}

# Used only when kb/documents/nhc-2018-1.yaml is missing (the provincial versions carry their own copy).
_FALLBACK_DATES = {
    "nhc-2018-1": {"in_force_from": {"date": "2018-11-01", "precision": "day"}, "in_force_until": None},
}


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Entry:
    """One item of a catalogue version."""

    catalog: str
    code: str
    name: str
    technology: str
    grades: tuple[int, ...] | None
    citation: dict | None
    reproduced_in: tuple[dict, ...]
    note: str | None
    index: int
    scope: str

    def covers_grade(self, grade: int | None) -> bool | None:
        """True/False when the grade settles it; None when the entry is graded and no grade is given."""
        if self.grades is None:
            return True
        if grade is None:
            return None
        return grade in self.grades

    def reproduction(self, document: str) -> dict | None:
        for r in self.reproduced_in:
            if r["document"] == document:
                return r
        return None


@dataclass
class Version:
    """One catalogue version (a file of catalogs/versions/)."""

    id: str
    name: str
    scope: str
    jurisdiction: str
    validity: dict
    citations: list[dict]
    reproduced_in: list[dict]
    note: str | None
    entries: list[Entry]
    file: str

    @property
    def document(self) -> str | None:
        """The document whose force governs a provincial version (None for a national one)."""
        return self.validity.get("document")

    def entry(self, code: str) -> Entry | None:
        key = textnorm.code_key(code)
        for e in self.entries:
            if textnorm.code_key(e.code) == key:
                return e
        return None

    def to_dict(self) -> dict:
        return {
            "id": self.id, "name": self.name, "scope": self.scope, "jurisdiction": self.jurisdiction,
            "validity": self.validity, "citations": self.citations,
            "entries": [
                {"code": e.code, "name": e.name, "technology": e.technology, "grades": list(e.grades) if e.grades else None}
                for e in self.entries
            ],
        }


@dataclass(frozen=True)
class Prohibited:
    id: str
    name: str
    technology: str
    ground: str
    jurisdictions: tuple[str, ...]
    documents: tuple[str, ...]
    citation: dict
    note: str | None = None


@dataclass(frozen=True)
class OutOfScope:
    id: str
    name: str
    technology: str
    citations: tuple[dict, ...]
    note: str | None = None


@dataclass
class Resolution:
    """What a name or code means and how the catalogues in force treat it (see `resolve`)."""

    query: str | None
    jurisdiction: str
    as_of: str
    surgery_grade: int | None
    status: str                                   # recognized | ambiguous | not_recognized
    technology: dict | None = None                # {id, name}
    matched: dict | None = None                   # how the query was matched
    candidates: list[dict] = field(default_factory=list)        # [{id, name, score, reason}]
    listings: list[dict] = field(default_factory=list)          # entries in force that cover it
    grade_needed: list[dict] = field(default_factory=list)      # would cover it at another grade; grade not given
    grade_excluded: list[dict] = field(default_factory=list)    # graded entries the given grade falls outside
    narrower_listings: list[dict] = field(default_factory=list) # entries in force for narrower techniques
    prohibited: list[dict] = field(default_factory=list)        # [{id, name, ground, citation}]
    out_of_scope: dict | None = None              # {family, name, citations}
    superseded: list[dict] = field(default_factory=list)        # see `resolve`
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


# --------------------------------------------------------------------------- loading


def _grades(value) -> tuple[int, ...] | None:
    return None if value is None else tuple(sorted(value))


def _load_version(path: Path, data: dict) -> Version:
    vid = data["id"]
    scope = data["scope"]
    entries = [
        Entry(
            catalog=vid, code=e["code"], name=e["name"], technology=e["technology"], grades=_grades(e.get("grades")),
            citation=e.get("citation"), reproduced_in=tuple(e.get("reproduced_in") or ()), note=e.get("note"),
            index=i, scope=scope,
        )
        for i, e in enumerate(data["entries"])
    ]
    return Version(
        id=vid, name=data["name"], scope=scope, jurisdiction=data["jurisdiction"], validity=data["validity"],
        citations=list(data.get("citations") or []), reproduced_in=list(data.get("reproduced_in") or []),
        note=data.get("note"), entries=entries, file=relative(path),
    )


@lru_cache(maxsize=8)
def _document_data(directory: str) -> dict[str, dict]:
    """Raw document files of a directory by id (parsed once per process)."""
    out = {}
    for path in sorted(Path(directory).glob("*.yaml")):
        try:
            data = load_yaml(path)
        except Exception:  # reported by engine.documents.check_documents
            continue
        if isinstance(data, dict) and isinstance(data.get("id"), str):
            out[data["id"]] = data
    return out


class Catalogs:
    """Every catalogue version, the taxonomy, prohibited techniques and out-of-scope families, indexed."""

    def __init__(self, catalogs_dir: Path, documents_dir: Path):
        self.catalogs_dir = Path(catalogs_dir)
        self.documents_dir = Path(documents_dir)
        tax_path = self.catalogs_dir / "taxonomy.yaml"
        self.taxonomy = Taxonomy(load_yaml(tax_path) or {}, relative(tax_path))
        self.versions: dict[str, Version] = {}
        for path in sorted((self.catalogs_dir / "versions").glob("*.yaml")):
            v = _load_version(path, load_yaml(path))
            self.versions[v.id] = v
        pro = load_yaml(self.catalogs_dir / "prohibited.yaml") or {}
        self.grounds = {g["id"]: g for g in pro.get("grounds") or []}
        self.prohibited = [
            Prohibited(p["id"], p["name"], p["technology"], p["ground"], tuple(p["jurisdictions"]), tuple(p["documents"]),
                       p["citation"], p.get("note"))
            for p in pro.get("techniques") or []
        ]
        oos = load_yaml(self.catalogs_dir / "out_of_scope.yaml") or {}
        self.out_of_scope = [
            OutOfScope(f["id"], f["name"], f["technology"], tuple(f["citations"]), f.get("note"))
            for f in oos.get("families") or []
        ]
        self.documents = _document_data(str(self.documents_dir))
        self._vocab = load_yaml(KB_DIR / "vocabulary.yaml") or {}
        self._integrity()
        self._index()

    # ------------------------------------------------------------------ set-up

    def _integrity(self) -> None:
        """Fail early, with every problem, when the data cannot be indexed."""
        bad = []
        if not self.taxonomy.acyclic:
            bad.append("cyclic taxonomy")
        known = self.taxonomy.nodes
        for v in self.versions.values():
            bad += [f"{v.id} {e.code}: unknown technology {e.technology}" for e in v.entries if e.technology not in known]
        bad += [f"prohibited {p.id}: unknown technology {p.technology}" for p in self.prohibited if p.technology not in known]
        bad += [f"out_of_scope {f.id}: unknown technology {f.technology}" for f in self.out_of_scope if f.technology not in known]
        if bad:
            problems = check_catalogs(self.catalogs_dir, self.documents_dir)
            raise KnowledgeBaseError(problems or [Problem(relative(self.catalogs_dir), "", b) for b in bad])

    def _index(self) -> None:
        tax = self.taxonomy
        self.national = sorted((v for v in self.versions.values() if v.scope == "national"),
                               key=lambda v: validity.bounds(v.validity.get("in_force_from"))[0] or dt.date.min)
        self.provincial = [v for v in self.versions.values() if v.scope == "provincial"]
        # technology -> entries covering it / entries strictly below it, per version
        self.cover: dict[str, dict[str, list[Entry]]] = {}
        self.narrower: dict[str, dict[str, list[Entry]]] = {}
        for v in self.versions.values():
            cover: dict[str, list[Entry]] = {}
            narrower: dict[str, list[Entry]] = {}
            for e in v.entries:
                for d in tax.down(e.technology):
                    cover.setdefault(d, []).append(e)
                for a in tax.ancestors(e.technology):
                    narrower.setdefault(a, []).append(e)
            key = lambda e: (-tax.depth(e.technology), e.index)  # most specific entry first
            self.cover[v.id] = {k: sorted(es, key=key) for k, es in cover.items()}
            self.narrower[v.id] = {k: sorted(es, key=lambda e: e.index) for k, es in narrower.items()}
        # codes
        self.codes: dict[str, dict[str, Entry]] = {
            v.id: {textnorm.code_key(e.code): e for e in v.entries} for v in self.versions.values()
        }
        # reproductions: document -> national version -> code key -> entry (only where a code is printed)
        self.reproductions: dict[str, list[Version]] = {}
        self.repro_codes: dict[str, dict[str, Entry]] = {}
        for v in self.national:
            for r in v.reproduced_in:
                self.reproductions.setdefault(r["document"], []).append(v)
            for e in v.entries:
                for r in e.reproduced_in:
                    if r.get("code"):
                        self.repro_codes.setdefault(r["document"], {})[textnorm.code_key(r["code"])] = e
        # names printed in the catalogues are indexed as names of their technologies
        names = []
        for v in self.versions.values():
            for e in v.entries:
                names.append((e.name, e.technology, f"{v.id} {e.code}"))
                for r in e.reproduced_in:
                    if r.get("name"):
                        names.append((r["name"], e.technology, f"{v.id} {e.code} as printed in {r['document']}"))
        for p in self.prohibited:
            names.append((p.name, p.technology, f"prohibited {p.id}"))
        tax.add_names(names)
        tax.lookup("")  # build the name index now, not on the first query
        # jurisdictions
        self.jurisdictions: dict[str, dict] = {}
        self._spellings: dict[str, str] = {}
        for j in self._vocab.get("jurisdictions") or []:
            self.jurisdictions[j["id"]] = j
            for s in (j["id"], j["name"], *(j.get("aliases") or [])):
                self._spellings[textnorm.normalize(s).lower()] = j["id"]
        for s in (ALL, "*", "全部", "所有"):
            self._spellings[s] = ALL
        self._status_cache: dict[tuple[str, dt.date], str] = {}
        self._in_force_cache: dict[tuple[str, dt.date], tuple[Version, ...]] = {}

    # ------------------------------------------------------------------ documents and jurisdictions

    def document_dates(self, doc_id: str) -> dict | None:
        """A document's `dates`: from kb/documents/<doc>.yaml, else a version's copy, else the fallback."""
        data = self.documents.get(doc_id)
        if data and isinstance(data.get("dates"), dict):
            return data["dates"]
        for v in self.provincial:
            if v.document == doc_id and v.validity.get("dates"):
                return v.validity["dates"]
        return _FALLBACK_DATES.get(doc_id)

    def document_status(self, doc_id: str, as_of: dt.date) -> str:
        key = (doc_id, as_of)
        st = self._status_cache.get(key)
        if st is None:
            if len(self._status_cache) > 200_000:  # bound the memo for long-running services
                self._status_cache.clear()
            dates = self.document_dates(doc_id)
            st = validity.status_on(dates, as_of) if dates else "uncertain"
            self._status_cache[key] = st
        return st

    def applicable(self, doc_id: str, as_of: dt.date) -> bool:
        return self.document_status(doc_id, as_of) in APPLICABLE

    def version_status(self, v: Version, as_of: dt.date) -> str:
        if v.document:
            return self.document_status(v.document, as_of)
        return validity.status_on(v.validity, as_of)

    def jurisdiction_id(self, spelling: str | None) -> str:
        """Canonical jurisdiction id (or 'all'); NotFound lists the supported ids."""
        if spelling is None:
            return "national"
        j = self._spellings.get(textnorm.normalize(str(spelling)).lower())
        if j is None:
            raise NotFound("jurisdiction", str(spelling), [*self.jurisdictions, ALL])
        return j

    def jurisdiction_documents(self, j: str) -> list[str]:
        if j == ALL:
            out: list[str] = []
            for jj in self.jurisdictions.values():
                out += [d for d in jj["documents"] if d not in out]
            return out
        return list(self.jurisdictions[j]["documents"])

    def in_force(self, j: str, as_of: dt.date) -> tuple[Version, ...]:
        key = (j, as_of)
        hit = self._in_force_cache.get(key)
        if hit is None:
            if len(self._in_force_cache) > 200_000:
                self._in_force_cache.clear()
            out = [v for v in self.national if self.version_status(v, as_of) in APPLICABLE]
            out += [
                v for v in self.provincial
                if (j == ALL or v.jurisdiction == j) and self.version_status(v, as_of) in APPLICABLE
            ]
            hit = tuple(out)
            self._in_force_cache[key] = hit
        return hit

    # ------------------------------------------------------------------ views

    def listing(self, e: Entry, j: str, as_of: dt.date) -> dict:
        v = self.versions[e.catalog]
        return {
            "catalog": e.catalog, "code": e.code, "name": e.name, "scope": e.scope,
            "grades": list(e.grades) if e.grades else None,
            "citation": self.entry_citation(e, j, as_of),
            "jurisdiction": v.jurisdiction,
        }

    def entry_citation(self, e: Entry, j: str, as_of: dt.date) -> dict | None:
        """The provision printing the entry: for a national entry, its reproduction in an applicable
        document of the jurisdiction, else the provision that publishes the list."""
        if e.citation:
            return {"document": e.citation["document"], "eid": e.citation["eid"]}
        docs = self.jurisdiction_documents(j)
        for r in e.reproduced_in:
            if r["document"] in docs and self.applicable(r["document"], as_of):
                return {"document": r["document"], "eid": r["eid"]}
        c = self.versions[e.catalog].citations
        return {"document": c[0]["document"], "eid": c[0]["eid"]} if c else None


_CACHE: dict[tuple[str, str], Catalogs] = {}
_DEFAULT: list[Catalogs] = []


def load_catalogs(catalogs_dir: str | Path | None = None, documents_dir: str | Path | None = None) -> Catalogs:
    """The catalogues, indexed (cached per directory pair); KnowledgeBaseError when they cannot be indexed."""
    if catalogs_dir is None and documents_dir is None:
        if not _DEFAULT:
            _DEFAULT.append(load_catalogs(CATALOGS_DIR, DOCUMENTS_DIR))
        return _DEFAULT[0]
    catalogs_dir = CATALOGS_DIR if catalogs_dir is None else catalogs_dir
    documents_dir = DOCUMENTS_DIR if documents_dir is None else documents_dir
    key = (str(Path(catalogs_dir).resolve()), str(Path(documents_dir).resolve()))
    cat = _CACHE.get(key)
    if cat is None:
        cat = _CACHE[key] = Catalogs(Path(catalogs_dir), Path(documents_dir))
    return cat


def clear_cache() -> None:
    """Forget loaded catalogues and documents (after the files changed)."""
    _CACHE.clear()
    _DEFAULT.clear()
    _document_data.cache_clear()


# --------------------------------------------------------------------------- helpers


def _as_date(as_of) -> dt.date:
    if as_of is None:
        return dt.datetime.now(CHINA).date()
    if isinstance(as_of, dt.datetime):
        return as_of.date()
    if isinstance(as_of, dt.date):
        return as_of
    return dt.date.fromisoformat(str(as_of))


def catalogs_in_force(jurisdiction: str | None = "national", as_of=None) -> list[Version]:
    """The national version in force on `as_of` plus the jurisdiction's provincial version while
    its document is in force (or its status is uncertain). `jurisdiction='all'`: every province."""
    cat = load_catalogs()
    return list(cat.in_force(cat.jurisdiction_id(jurisdiction), _as_date(as_of)))


def _grades_zh(grades) -> str:
    return "、".join(GRADE_ZH[g] for g in grades) if grades else ""


# --------------------------------------------------------------------------- codes

_PREFIX = re.compile(r"^(?P<prefix>[^:]+):(?P<code>.+)$")


def _code_matches(cat: Catalogs, code: str, j: str, as_of: dt.date) -> tuple[list[tuple[Entry, dict]], str | None, list[str]]:
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
            return e, {"by": "code", "text": code, "catalog": e.catalog, "code": r.get("code", e.code),
                       "name": r.get("name", e.name), "document": document, "eid": r.get("eid")}
        c = cat.entry_citation(e, j, as_of)
        return e, {"by": "code", "text": code, "catalog": e.catalog, "code": e.code, "name": e.name,
                   "document": c["document"] if c else None, "eid": c["eid"] if c else None}

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
        if e is not None and doc != "nhc-2018-1":
            return [hit(e, doc)], pj, notes
    # a jurisdiction's catalogue in force also contains the national version in force
    out = [hit(cat.codes[v.id][key]) for v in cat.national if cat.version_status(v, as_of) in APPLICABLE and key in cat.codes[v.id]]
    if not out:
        notes.append(f"{pj} 的目录中没有编号 {text}")
    return out, pj, notes


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
            out.append({"id": t.id, "name": t.name, "score": 0.5,
                        "reason": f"{v.id} {e.code} {e.name}（{v.name}，不适用于所问地区或日期）"})
    for doc, codes in cat.repro_codes.items():
        e = codes.get(key)
        if e is not None:
            t = cat.taxonomy.nodes[e.technology]
            r = e.reproduction(doc) or {}
            out.append({"id": t.id, "name": t.name, "score": 0.5,
                        "reason": f"{doc} {r.get('eid')} 转载的 {e.catalog} {r.get('code', e.code)} {r.get('name', e.name)}"})
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
    # prohibited techniques named in an applicable document of the jurisdiction
    for p in cat.prohibited:
        if p.technology not in up:
            continue
        if j != ALL and j not in p.jurisdictions and "national" not in p.jurisdictions:
            continue
        if not any(cat.applicable(d, as_of) for d in p.documents):
            continue
        ground = cat.grounds.get(p.ground, {})
        res.prohibited.append({"id": p.id, "name": p.name, "ground": p.ground, "ground_name": ground.get("name"),
                               "citation": {"document": p.citation["document"], "eid": p.citation["eid"]}})
    # out of scope
    for f in cat.out_of_scope:
        if f.technology not in up:
            continue
        cites = [
            {"document": c["document"], "eid": c["eid"]}
            for c in f.citations
            if (c["jurisdictions"] == ALL or j == ALL or j in c["jurisdictions"]) and cat.applicable(c["document"], as_of)
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
                res.superseded.append({
                    "catalog": nv.id, "code": r.get("code", e.code), "name": r.get("name", e.name),
                    "reproduced_in": {"document": doc, "eid": r["eid"]},
                    "in_force_listing": cat.listing(now[0], j, as_of) if now else None,
                })


def resolve(name: str | None = None, code: str | None = None, jurisdiction: str | None = None, as_of=None,
            surgery_grade: int | None = None, *, catalogs: Catalogs | None = None) -> Resolution:
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
    res = Resolution(query=query, jurisdiction=j, as_of=day.isoformat(), surgery_grade=surgery_grade, status="not_recognized")
    tax = cat.taxonomy
    tech_id: str | None = None

    if name:
        m = tax.lookup(name)
        if m.status == "recognized":
            tech_id = m.ids[0]
            res.matched = {"by": "name", "how": m.how, "text": m.matched}
        elif m.status == "ambiguous":
            res.status = "ambiguous"
            reason = f"“{m.matched}”可指多项技术" + (f"：{m.note}" if m.note else "")
            res.candidates = [{"id": i, "name": tax.nodes[i].name, "score": 1.0, "reason": reason} for i in m.ids]
            return res
        else:
            if code:  # an unrecognised name with a code: the code decides
                by_code = resolve(code=code, jurisdiction=jurisdiction, as_of=day, surgery_grade=surgery_grade, catalogs=cat)
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
                {"id": e.technology, "name": tax.nodes[e.technology].name, "score": 1.0,
                 "reason": f"{e.catalog} {info['code']} {info['name']}"}
                for e, info in hits
            ]
            return res
        tech_id = techs[0]
        res.matched = hits[0][1]
        # a plain code whose meaning differs in a superseded reproduction the jurisdiction still prints
        if ":" not in textnorm.normalize(code):
            key = textnorm.code_key(textnorm.normalize(code))
            for doc in cat.jurisdiction_documents(j):
                e = cat.repro_codes.get(doc, {}).get(key)
                if e is None or e.technology == tech_id or not cat.applicable(doc, day):
                    continue
                if cat.version_status(cat.versions[e.catalog], day) == "expired":
                    r = e.reproduction(doc) or {}
                    res.candidates.append({
                        "id": e.technology, "name": tax.nodes[e.technology].name, "score": 0.0,
                        "reason": f"{doc} {r.get('eid')} 转载的已被替代的 {e.catalog} 中，{r.get('code', e.code)} 为{r.get('name', e.name)}",
                    })
    else:
        res.notes.append("未提供技术名称或编号")
        return res

    res.status = "recognized"
    res.technology = tax.nodes[tech_id].ref()
    _fill(cat, res, tech_id, j, day, surgery_grade)
    return res


# --------------------------------------------------------------------------- crosswalk


def crosswalk(catalogs: Catalogs | None = None) -> list[dict]:
    """One row per canonical technology: {technology, name, <version id>: cell, …}.

    A cell lists the codes of the version's entries covering the technology: `S25` when the entry
    is mapped to the technology itself, `(S25)` when it covers it as a broader entry, with the
    grade qualifier appended (`S06[3,4]`); empty when the version does not cover it.
    """
    cat = catalogs or load_catalogs()
    tax = cat.taxonomy
    order = sorted(cat.versions.values(), key=lambda v: (v.scope != "national", v.id))
    rows = []
    for t in sorted(tax.nodes.values(), key=lambda t: t.index):
        row = {"technology": t.id, "name": t.name}
        for v in order:
            cells = []
            for e in cat.cover[v.id].get(t.id, ()):
                c = e.code + (f"[{','.join(map(str, e.grades))}]" if e.grades else "")
                cells.append(c if e.technology == t.id else f"({c})")
            row[v.id] = " ".join(cells)
        rows.append(row)
    return rows


def _crosswalk_columns(cat: Catalogs) -> list[str]:
    return ["technology", "name"] + [v.id for v in sorted(cat.versions.values(), key=lambda v: (v.scope != "national", v.id))]


def crosswalk_markdown(catalogs: Catalogs | None = None) -> str:
    """The crosswalk as a Markdown table."""
    cat = catalogs or load_catalogs()
    cols = _crosswalk_columns(cat)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in crosswalk(cat):
        lines.append("| " + " | ".join(str(row[c]).replace("|", "\\|") for c in cols) + " |")
    return "\n".join(lines) + "\n"


def crosswalk_csv(catalogs: Catalogs | None = None) -> str:
    """The crosswalk as CSV (header row first)."""
    cat = catalogs or load_catalogs()
    cols = _crosswalk_columns(cat)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for row in crosswalk(cat):
        w.writerow(row)
    return buf.getvalue()


# --------------------------------------------------------------------------- text


def _dated_text(value: dict | None) -> str:
    if not value or not value.get("date") or value.get("precision") == "unknown":
        return "不详"
    if value.get("precision") == "year":
        return f"{value['date']}年（月日不详）"
    return str(value["date"])


def _version_heading(cat: Catalogs, v: Version, as_of: dt.date) -> str:
    st = cat.version_status(v, as_of)
    if v.document:
        d = cat.document_dates(v.document) or {}
        span = f"依据 {v.document}，自{_dated_text(d.get('in_force_from'))}起施行"
        if d.get("in_force_until"):
            span += f"，至{_dated_text(d.get('in_force_until'))}"
    else:
        span = f"自{_dated_text(v.validity.get('in_force_from'))}起施行"
        if v.validity.get("in_force_until"):
            span += f"，至{_dated_text(v.validity.get('in_force_until'))}"
    scope = "国家" if v.scope == "national" else "省级"
    return f"{v.name}（{v.id}，{scope}，{span}；{as_of.isoformat()}：{STATUS_ZH.get(st, st)}）"


def format_catalog(jurisdiction: str | None = "national", as_of=None) -> str:
    """The restricted-technology catalogue in force in a jurisdiction: national version + provincial, with codes and grade qualifiers."""
    cat = load_catalogs()
    day = _as_date(as_of)
    j = cat.jurisdiction_id(jurisdiction)
    jname = "全部地区" if j == ALL else cat.jurisdictions[j]["name"]
    versions = cat.in_force(j, day)
    lines = [f"{jname}限制类技术目录（{day.isoformat()}）", ""]
    if not versions:
        lines.append("该日没有施行中的限制类技术目录。")
    for v in versions:
        lines.append(_version_heading(cat, v, day))
        width = max(len(e.code) for e in v.entries)
        for e in v.entries:
            cite = cat.entry_citation(e, j, day)
            grade = f"  〔限{_grades_zh(e.grades)}〕" if e.grades else ""
            where = f"  [{cite['document']} {cite['eid']}]" if cite else ""
            lines.append(f"  {e.code.ljust(width)}  {e.name}{grade}{where}")
        lines.append("")
    # provincial documents in force that reproduce a superseded national list
    for doc in cat.jurisdiction_documents(j):
        if doc not in cat.reproductions or not cat.applicable(doc, day):
            continue
        for nv in cat.reproductions[doc]:
            if cat.version_status(nv, day) == "expired":
                r = next(x for x in nv.reproduced_in if x["document"] == doc)
                now = "、".join(v.id for v in versions if v.scope == "national") or "无"
                lines.append(f"注：{doc} {r['eid']} 转载的{nv.name}（{nv.id}，{len(nv.entries)}项）已于"
                             f"{_dated_text(nv.validity.get('in_force_until'))}后被替代，不再适用；现行国家目录：{now}。")
    for v in cat.versions.values():
        if v.scope == "provincial" and (j == ALL or v.jurisdiction == j) and v not in versions:
            lines.append(f"注：{v.name}（{v.id}）在{day.isoformat()}{STATUS_ZH.get(cat.version_status(v, day), '')}，未列入。")
    return "\n".join(lines).rstrip() + "\n"


def _listing_line(l: dict) -> str:
    grade = f"〔限{_grades_zh(l['grades'])}〕" if l.get("grades") else ""
    c = l.get("citation") or {}
    where = f" [{c.get('document')} {c.get('eid')}]" if c else ""
    scope = "国家" if l["scope"] == "national" else "省级"
    return f"  {l['catalog']} {l['code']} {l['name']}{grade}（{scope}）{where}"


def format_search(query: str, jurisdiction: str | None = "national", as_of=None, surgery_grade: int | None = None) -> str:
    """A person-readable answer to "what is this technique and is it listed here?" (query: name or code)."""
    if textnorm.looks_like_code(query):
        res = resolve(code=query, jurisdiction=jurisdiction, as_of=as_of, surgery_grade=surgery_grade)
        if res.status == "not_recognized":
            by_name = resolve(name=query, jurisdiction=jurisdiction, as_of=as_of, surgery_grade=surgery_grade)
            if by_name.status != "not_recognized":
                res = by_name
    else:
        res = resolve(name=query, jurisdiction=jurisdiction, as_of=as_of, surgery_grade=surgery_grade)
    cat = load_catalogs()
    jname = "全部地区" if res.jurisdiction == ALL else cat.jurisdictions[res.jurisdiction]["name"]
    lines = [f"查询：{query}（{jname}，{res.as_of}" + (f"，手术分级{surgery_grade}级" if surgery_grade else "") + "）"]
    if res.status == "ambiguous":
        lines.append("结果：名称或编号对应多项技术，请指明：")
        lines += [f"  - {c['name']}（{c['id']}）：{c['reason']}" for c in res.candidates]
        return "\n".join(lines) + "\n"
    if res.status == "not_recognized":
        lines.append("结果：未能识别。")
        lines += [f"  注：{n}" for n in res.notes]
        if res.candidates:
            lines.append("相近的技术：")
            lines += [f"  - {c['name']}（{c['id']}，相似度{c['score']:.2f}）：{c['reason']}" for c in res.candidates]
        return "\n".join(lines) + "\n"
    t = res.technology
    lines.append(f"技术：{t['name']}（{t['id']}）")
    if res.matched and res.matched.get("by") == "code":
        m = res.matched
        lines.append(f"编号：{m['catalog']} {m['code']} {m['name']}" + (f" [{m['document']} {m['eid']}]" if m.get("document") else ""))
    node = cat.taxonomy.nodes[t["id"]]
    parents = [cat.taxonomy.nodes[p].name for p in node.is_a]
    if parents:
        lines.append(f"上位技术：{'、'.join(parents)}")
    if res.prohibited:
        lines.append("禁止类技术：")
        lines += [f"  - {p['name']}（{p['ground_name'] or p['ground']}） [{p['citation']['document']} {p['citation']['eid']}]" for p in res.prohibited]
    if res.out_of_scope:
        o = res.out_of_scope
        cites = "、".join(f"{c['document']} {c['eid']}" for c in o["citations"])
        lines.append(f"不适用本办法：属于{o['name']} [{cites}]")
    if res.listings:
        lines.append("列入施行中的限制类技术目录：")
        lines += [_listing_line(l) for l in res.listings]
    elif not res.grade_needed:
        lines.append("未列入施行中的限制类技术目录。")
    if res.grade_needed:
        lines.append("取决于手术分级（未提供）：")
        lines += [_listing_line(l) for l in res.grade_needed]
    if res.grade_excluded:
        lines.append(f"所给手术分级（{surgery_grade}级）不在以下条目的范围内：")
        lines += [_listing_line(l) for l in res.grade_excluded]
    if res.narrower_listings:
        lines.append("下位技术另有列入（所问技术更宽，不因此整体列入）：")
        lines += [_listing_line(l) + f" ← {l['technology']['name']}" for l in res.narrower_listings]
    for s in res.superseded:
        now = s["in_force_listing"]
        now_text = f"现行为 {now['catalog']} {now['code']} {now['name']}" if now else "现行国家目录未列入"
        r = s["reproduced_in"]
        lines.append(f"注意：{r['document']} {r['eid']} 转载的 {s['catalog']} {s['code']} {s['name']} 已被新版国家目录替代；{now_text}。")
    for c in res.candidates:
        lines.append(f"另：{c['reason']}")
    day = _as_date(res.as_of)
    for v in cat.provincial:
        if (res.jurisdiction == ALL or v.jurisdiction == res.jurisdiction) and v not in cat.in_force(res.jurisdiction, day):
            lines.append(f"注：{v.name}（{v.id}）在{res.as_of}{STATUS_ZH.get(cat.version_status(v, day), '')}，未适用。")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- checking


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text or "")


def _walk_citations(node, path: list, out: list) -> None:
    """Every {document, eid} mapping in a parsed file, with its dotted location."""
    if isinstance(node, dict):
        if isinstance(node.get("document"), str) and isinstance(node.get("eid"), str):
            out.append((".".join(map(str, path)), node["document"], node["eid"]))
        for k, v in node.items():
            _walk_citations(v, path + [k], out)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _walk_citations(v, path + [i], out)


def check_catalogs(catalogs_dir: str | Path = CATALOGS_DIR, documents_dir: str | Path = DOCUMENTS_DIR) -> list[Problem]:
    """Every problem of the catalogue files, each with its file and location (empty when sound).

    Schema validation; version ids unique; codes unique within a version (and within each
    reproduction); every entry, prohibited technique and out-of-scope family mapped to an
    existing technology; no listed entry under an out-of-scope family; the taxonomy acyclic
    with known parents; every alias unambiguous or declared ambiguous; every citation's eid
    present in kb/documents/<doc>.yaml (skipped while that file does not exist); entry wording
    and quotes found in the cited provision; version dates copies equal to the documents' dates.
    """
    from engine.schemas import schema_problems

    catalogs_dir, documents_dir = Path(catalogs_dir), Path(documents_dir)
    problems: list[Problem] = []
    parsed: dict[Path, object] = {}
    files = [catalogs_dir / "taxonomy.yaml", catalogs_dir / "prohibited.yaml", catalogs_dir / "out_of_scope.yaml"]
    files += sorted((catalogs_dir / "versions").glob("*.yaml"))
    schema_of = {"taxonomy.yaml": "taxonomy", "prohibited.yaml": "prohibited", "out_of_scope.yaml": "out_of_scope"}
    for path in files:
        file = relative(path)
        if not path.exists():
            problems.append(Problem(file, "(file)", "missing"))
            continue
        try:
            data = load_yaml(path)
        except Exception as exc:
            problems.append(Problem(file, "(file)", f"cannot be read as YAML: {exc}"))
            continue
        name = schema_of.get(path.name, "catalog")
        found = schema_problems(name, data, file)
        problems += found
        if not found:
            parsed[path] = data
    if not parsed.get(files[0]):
        return sorted(set(problems))

    tax_path = files[0]
    tax = Taxonomy(parsed[tax_path], relative(tax_path))
    known = tax.nodes
    problems += tax.problems()

    docs = _document_data(str(documents_dir.resolve()))
    texts: dict[str, dict[str, dict]] = {
        d: {p["eid"]: p for p in data.get("provisions") or [] if isinstance(p, dict) and "eid" in p} for d, data in docs.items()
    }
    oos_data = parsed.get(files[2]) or {}
    oos_nodes = {f["technology"] for f in oos_data.get("families") or [] if f.get("technology") in known}

    def under_oos(tid: str) -> str | None:
        if not tax.acyclic or tid not in known:
            return None
        hit = tax.up(tid) & oos_nodes
        return sorted(hit)[0] if hit else None

    # versions
    version_ids: dict[str, str] = {}
    names: list[tuple[str, str, str]] = []
    for path in files[3:]:
        data = parsed.get(path)
        if not isinstance(data, dict):
            continue
        file = relative(path)
        vid = data["id"]
        if vid != path.stem:
            problems.append(Problem(file, "id", f"id {vid!r} does not match the file name {path.name}"))
        if vid in version_ids:
            problems.append(Problem(file, "id", f"version id {vid} also used in {version_ids[vid]}"))
        version_ids.setdefault(vid, file)
        codes: dict[str, int] = {}
        repro_codes: dict[tuple[str, str], int] = {}
        for i, e in enumerate(data["entries"]):
            key = textnorm.code_key(e["code"])
            if key in codes:
                problems.append(Problem(file, f"entries.{i}.code", f"duplicate code {e['code']} (also entries.{codes[key]})"))
            else:
                codes[key] = i
            for k, r in enumerate(e.get("reproduced_in") or []):
                if r.get("code"):
                    rk = (r["document"], textnorm.code_key(r["code"]))
                    if rk in repro_codes:
                        problems.append(Problem(file, f"entries.{i}.reproduced_in.{k}.code", f"duplicate code {r['code']} in the reproduction in {r['document']} (also entries.{repro_codes[rk]})"))
                    repro_codes.setdefault(rk, i)
                if r.get("name"):
                    names.append((r["name"], e["technology"], f"{vid} {e['code']} as printed in {r['document']}"))
            if e["technology"] not in known:
                problems.append(Problem(file, f"entries.{i}.technology", f"{e['code']} is mapped to unknown technology {e['technology']}"))
            else:
                names.append((e["name"], e["technology"], f"{vid} {e['code']}"))
                fam = under_oos(e["technology"])
                if fam:
                    problems.append(Problem(file, f"entries.{i}.technology", f"{e['code']} ({e['technology']}) is under the out-of-scope family {fam}"))
            # wording found in the cited provision
            for loc, cite, wording in (
                [(f"entries.{i}.name", e.get("citation"), e["name"])] if e.get("citation") else []
            ) + [(f"entries.{i}.reproduced_in.{k}", r, r.get("name") or e["name"]) for k, r in enumerate(e.get("reproduced_in") or [])]:
                p = texts.get(cite["document"], {}).get(cite["eid"])
                if p is not None and _squash(wording) not in _squash(p.get("text")):
                    problems.append(Problem(file, loc, f"{wording!r} does not occur in {cite['document']} {cite['eid']} ({_squash(p.get('text'))[:40]!r})"))
        if data["scope"] == "national" and data["jurisdiction"] != "national":
            problems.append(Problem(file, "jurisdiction", "a national version has jurisdiction national"))
        doc = data["validity"].get("document") if isinstance(data["validity"], dict) else None
        if doc and doc in docs:
            have = docs[doc].get("dates") or {}
            copy = data["validity"].get("dates") or {}
            for k in ("in_force_from", "in_force_until"):
                if (copy.get(k) or None) != (have.get(k) or None):
                    problems.append(Problem(file, f"validity.dates.{k}", f"copy {copy.get(k)!r} differs from {doc}'s {have.get(k)!r}"))
        for k, r in enumerate(data.get("reproduced_in") or []):
            p = texts.get(r["document"], {}).get(r["eid"])
            if p is not None and r.get("title") and _squash(r["title"]) != _squash(p.get("heading")):
                problems.append(Problem(file, f"reproduced_in.{k}.title", f"{r['title']!r} is not the heading of {r['document']} {r['eid']} ({p.get('heading')!r})"))

    # prohibited and out of scope
    pro = parsed.get(files[1])
    if isinstance(pro, dict):
        file = relative(files[1])
        grounds = {g["id"] for g in pro["grounds"]}
        for i, p in enumerate(pro["techniques"]):
            if p["technology"] not in known:
                problems.append(Problem(file, f"techniques.{i}.technology", f"unknown technology {p['technology']}"))
            else:
                names.append((p["name"], p["technology"], f"prohibited {p['id']}"))
            if p["ground"] not in grounds:
                problems.append(Problem(file, f"techniques.{i}.ground", f"ground {p['ground']} is not defined under grounds"))
            c = p["citation"]
            if c["document"] not in p["documents"]:
                problems.append(Problem(file, f"techniques.{i}.citation.document", f"{c['document']} is not among the documents {p['documents']}"))
            prov = texts.get(c["document"], {}).get(c["eid"])
            if prov is not None:
                for what in (p["name"], c.get("quote")):
                    if what and _squash(what) not in _squash(prov.get("text")):
                        problems.append(Problem(file, f"techniques.{i}.citation", f"{what!r} does not occur in {c['document']} {c['eid']}"))
    if isinstance(oos_data, dict) and oos_data:
        file = relative(files[2])
        for i, f in enumerate(oos_data.get("families") or []):
            if f["technology"] not in known:
                problems.append(Problem(file, f"families.{i}.technology", f"unknown technology {f['technology']}"))

    # catalogue wordings may not clash with other technologies' names
    if tax.acyclic:
        before = set(tax.problems())
        tax.add_names(names)
        for p in tax.problems():
            if p not in before:
                problems.append(p)

    # citations resolve
    for path, data in parsed.items():
        found: list = []
        _walk_citations(data, [], found)
        for loc, doc, eid in found:
            if doc not in docs:
                if not (documents_dir / f"{doc}.yaml").exists():
                    continue  # the document is not encoded yet
                problems.append(Problem(relative(path), loc, f"{doc}.yaml could not be read"))
                continue
            if eid not in texts[doc]:
                problems.append(Problem(relative(path), f"{loc}.eid", f"no provision {eid} in {doc}"))
    return sorted(set(problems))
