"""The catalogues indexed for queries (`Catalogs`), loaded once per directory pair.

`Catalogs` holds every version, the taxonomy (with the catalogue wordings added as names),
prohibited techniques and out-of-scope families, and answers: which versions are in force in a
jurisdiction on a day, a document's status, which entries cover a technology, how an entry is
cited. `load_catalogs` caches it; `clear_cache` forgets it; `catalogs_in_force` is the public query.

Part of engine.catalog (the public facade).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from engine.catalog import textnorm
from engine.catalog.check import check_catalogs
from engine.catalog.model import (
    ALL,
    APPLICABLE,
    Entry,
    OutOfScope,
    Prohibited,
    Version,
    _as_date,
    _document_data,
    _load_version,
)
from engine.catalog.taxonomy import Taxonomy
from engine.errors import KnowledgeBaseError, NotFound, Problem
from engine.kb import validity
from engine.paths import CATALOGS_DIR, DOCUMENTS_DIR, KB_DIR, relative
from engine.yamlio import load_yaml


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
            Prohibited(
                p["id"],
                p["name"],
                p["technology"],
                p["ground"],
                tuple(p["jurisdictions"]),
                tuple(p["documents"]),
                p["citation"],
                p.get("note"),
                p.get("indication"),
            )
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
            bad += [
                f"{v.id} {e.code}: unknown technology {e.technology}" for e in v.entries if e.technology not in known
            ]
        bad += [
            f"prohibited {p.id}: unknown technology {p.technology}"
            for p in self.prohibited
            if p.technology not in known
        ]
        bad += [
            f"prohibited {p.id}: unknown indication {p.indication}"
            for p in self.prohibited
            if p.indication is not None and p.indication not in self.taxonomy.indications
        ]
        bad += [
            f"out_of_scope {f.id}: unknown technology {f.technology}"
            for f in self.out_of_scope
            if f.technology not in known
        ]
        if bad:
            problems = check_catalogs(self.catalogs_dir, self.documents_dir)
            raise KnowledgeBaseError(problems or [Problem(relative(self.catalogs_dir), "", b) for b in bad])

    def _index(self) -> None:
        tax = self.taxonomy
        self.national = sorted(
            (v for v in self.versions.values() if v.scope == "national"),
            key=lambda v: validity.bounds(v.validity.get("in_force_from"))[0] or dt.date.min,
        )
        self.provincial = [v for v in self.versions.values() if v.scope == "provincial"]
        # technology -> entries covering it / entries strictly below it, per version
        self.cover: dict[str, dict[str, list[Entry]]] = {}
        self.narrower: dict[str, dict[str, list[Entry]]] = {}

        def specific_first(e: Entry) -> tuple[int, int]:
            return (-tax.depth(e.technology), e.index)

        for v in self.versions.values():
            cover: dict[str, list[Entry]] = {}
            narrower: dict[str, list[Entry]] = {}
            for e in v.entries:
                for d in tax.down(e.technology):
                    cover.setdefault(d, []).append(e)
                for a in tax.ancestors(e.technology):
                    narrower.setdefault(a, []).append(e)
            self.cover[v.id] = {k: sorted(es, key=specific_first) for k, es in cover.items()}
            self.narrower[v.id] = {k: sorted(es, key=lambda e: e.index) for k, es in narrower.items()}
        # codes
        self.codes: dict[str, dict[str | None, Entry]] = {
            v.id: {textnorm.code_key(e.code): e for e in v.entries} for v in self.versions.values()
        }
        # reproductions: document -> national version -> code key -> entry (only where a code is printed)
        self.reproductions: dict[str, list[Version]] = {}
        self.repro_codes: dict[str, dict[str | None, Entry]] = {}
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
        self._state_cache: dict[dt.date, tuple] = {}
        # every document whose status can vary by day (any other has no dates: always `uncertain`)
        self._dated_documents = tuple(
            dict.fromkeys([*self.documents, *(v.document for v in self.versions.values() if v.document)])
        )
        self._undocumented_versions = tuple(v for v in self.versions.values() if not v.document)

    # ------------------------------------------------------------------ documents and jurisdictions

    def document_dates(self, doc_id: str) -> dict | None:
        """A document's `dates`: from kb/documents/<doc>.yaml, else a version's copy, else None (unknown)."""
        data = self.documents.get(doc_id)
        if data and isinstance(data.get("dates"), dict):
            return data["dates"]
        for v in self.provincial:
            if v.document == doc_id and v.validity.get("dates"):
                return v.validity["dates"]
        return None

    def document_status(self, doc_id: str, as_of: dt.date) -> str:
        """The document's status on `as_of` (engine.kb.validity); `uncertain` when its dates are unknown."""
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
        """Whether the document applies on `as_of` (in force, or its status uncertain)."""
        return self.document_status(doc_id, as_of) in APPLICABLE

    def version_status(self, v: Version, as_of: dt.date) -> str:
        """A version's status on `as_of`: its document's for a provincial version, its own validity otherwise."""
        if v.document:
            return self.document_status(v.document, as_of)
        return validity.status_on(v.validity, as_of)

    def state_on(self, as_of: dt.date) -> tuple:
        """Everything about `as_of` that the catalogue views read: the status of each document and of
        each version without a document (memoised). Two days with the same state get the same answers
        from `in_force`, `applicable`, `version_status` and `listing`."""
        st = self._state_cache.get(as_of)
        if st is None:
            if len(self._state_cache) > 200_000:
                self._state_cache.clear()
            st = tuple(self.document_status(d, as_of) for d in self._dated_documents) + tuple(
                validity.status_on(v.validity, as_of) for v in self._undocumented_versions
            )
            self._state_cache[as_of] = st
        return st

    def jurisdiction_id(self, spelling: str | None) -> str:
        """Canonical jurisdiction id (or 'all'); NotFound lists the supported ids."""
        if spelling is None:
            return "national"
        j = self._spellings.get(textnorm.normalize(str(spelling)).lower())
        if j is None:
            raise NotFound("jurisdiction", str(spelling), [*self.jurisdictions, ALL])
        return j

    def jurisdiction_documents(self, j: str) -> list[str]:
        """The documents of a jurisdiction (of every jurisdiction for 'all'), in vocabulary order."""
        if j == ALL:
            out: list[str] = []
            for jj in self.jurisdictions.values():
                out += [d for d in jj["documents"] if d not in out]
            return out
        return list(self.jurisdictions[j]["documents"])

    def in_force(self, j: str, as_of: dt.date) -> tuple[Version, ...]:
        """The versions applicable in a jurisdiction on `as_of`: national ones first, then provincial (memoised)."""
        key = (j, as_of)
        hit = self._in_force_cache.get(key)
        if hit is None:
            if len(self._in_force_cache) > 200_000:
                self._in_force_cache.clear()
            out = [v for v in self.national if self.version_status(v, as_of) in APPLICABLE]
            out += [
                v
                for v in self.provincial
                if (j == ALL or v.jurisdiction == j) and self.version_status(v, as_of) in APPLICABLE
            ]
            hit = tuple(out)
            self._in_force_cache[key] = hit
        return hit

    # ------------------------------------------------------------------ views

    def listing(self, e: Entry, j: str, as_of: dt.date) -> dict:
        """An entry as a listing dict (catalog, code, name, scope, grades, citation, jurisdiction)."""
        v = self.versions[e.catalog]
        return {
            "catalog": e.catalog,
            "code": e.code,
            "name": e.name,
            "scope": e.scope,
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


def catalogs_in_force(jurisdiction: str | None = "national", as_of=None) -> list[Version]:
    """The national version in force on `as_of` plus the jurisdiction's provincial version while
    its document is in force (or its status is uncertain). `jurisdiction='all'`: every province."""
    cat = load_catalogs()
    return list(cat.in_force(cat.jurisdiction_id(jurisdiction), _as_date(as_of)))
