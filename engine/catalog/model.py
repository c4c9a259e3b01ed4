"""Catalogue data model: constants, the dataclasses a catalogue file becomes, and the raw readers.

- `Entry`, `Version`, `Prohibited`, `OutOfScope`: one catalogue item, one version file of
  catalogs/versions/, one prohibited technique, one out-of-scope family;
- `_load_version`: a parsed version file -> `Version`; `_document_data`: the raw kb/documents
  files by id (cached per directory; `engine.catalog.data.clear_cache` clears it);
- `_as_date`: the `as_of` argument every public function takes -> a date (today in China when None).

Part of engine.catalog (the public facade); the indexed catalogues live in engine.catalog.data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from engine.catalog import textnorm
from engine.kb.validity import APPLICABLE  # noqa: F401 - re-exported for the catalogue modules
from engine.kb.vocabulary import vocabulary
from engine.paths import relative
from engine.yamlio import load_yaml

CHINA = ZoneInfo("Asia/Shanghai")
ALL = "all"
GRADE_ZH = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}
STATUS_ZH = vocabulary().names("document_statuses")  # kb/vocabulary.yaml: the one source of these labels

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
        """The entry's reproduction in `document` ({document, eid, code?, name?}), or None."""
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
        """The entry with this code (compared by textnorm.code_key), or None."""
        key = textnorm.code_key(code)
        for e in self.entries:
            if textnorm.code_key(e.code) == key:
                return e
        return None

    def to_dict(self) -> dict:
        """The version as a JSON-ready dict (entries reduced to code, name, technology, grades)."""
        return {
            "id": self.id,
            "name": self.name,
            "scope": self.scope,
            "jurisdiction": self.jurisdiction,
            "validity": self.validity,
            "citations": self.citations,
            "entries": [
                {
                    "code": e.code,
                    "name": e.name,
                    "technology": e.technology,
                    "grades": list(e.grades) if e.grades else None,
                }
                for e in self.entries
            ],
        }


@dataclass(frozen=True)
class Prohibited:
    """A prohibited technique a document names (catalogs/prohibited.yaml)."""

    id: str
    name: str
    technology: str
    ground: str
    jurisdictions: tuple[str, ...]
    documents: tuple[str, ...]
    citation: dict
    note: str | None = None
    indication: str | None = None  # banned for this indication only (taxonomy `indications`)


@dataclass(frozen=True)
class OutOfScope:
    """A family of techniques the measures do not govern (catalogs/out_of_scope.yaml)."""

    id: str
    name: str
    technology: str
    citations: tuple[dict, ...]
    note: str | None = None


# --------------------------------------------------------------------------- loading


def _grades(value) -> tuple[int, ...] | None:
    return None if value is None else tuple(sorted(value))


def _load_version(path: Path, data: dict) -> Version:
    vid = data["id"]
    scope = data["scope"]
    entries = [
        Entry(
            catalog=vid,
            code=e["code"],
            name=e["name"],
            technology=e["technology"],
            grades=_grades(e.get("grades")),
            citation=e.get("citation"),
            reproduced_in=tuple(e.get("reproduced_in") or ()),
            note=e.get("note"),
            index=i,
            scope=scope,
        )
        for i, e in enumerate(data["entries"])
    ]
    return Version(
        id=vid,
        name=data["name"],
        scope=scope,
        jurisdiction=data["jurisdiction"],
        validity=data["validity"],
        citations=list(data.get("citations") or []),
        reproduced_in=list(data.get("reproduced_in") or []),
        note=data.get("note"),
        entries=entries,
        file=relative(path),
    )


@lru_cache(maxsize=8)
def _document_data(directory: str) -> dict[str, dict]:
    """Raw document files of a directory by id (parsed once per process)."""
    out = {}
    for path in sorted(Path(directory).glob("*.yaml")):
        try:
            data = load_yaml(path)
        except Exception:  # reported by engine.kb.documents.check_documents
            continue
        if isinstance(data, dict) and isinstance(data.get("id"), str):
            out[data["id"]] = data
    return out


# --------------------------------------------------------------------------- dates


def _as_date(as_of) -> dt.date:
    if as_of is None:
        return dt.datetime.now(CHINA).date()
    if isinstance(as_of, dt.datetime):
        return as_of.date()
    if isinstance(as_of, dt.date):
        return as_of
    return dt.date.fromisoformat(str(as_of))
