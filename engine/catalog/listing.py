"""The catalogues in force as data: the versions of a jurisdiction on a day, and the technologies
they list as a searchable, pageable list (the HTTP service's /v1/catalogs and /v1/technologies).

A technology is listed once, with every entry that lists it (`listings`). A query `q` keeps
the technologies whose catalogue name, code, canonical name or alias contains it (compared by
engine.catalog.textnorm.compact: no spaces or punctuation, full-width = half-width, Latin
upper-cased) or that the name look-up recognises (PCI, ECMO …), with the broader technologies
whose entries cover it and the narrower ones it covers.
"""

from __future__ import annotations

import datetime as dt

from engine.catalog import textnorm
from engine.catalog.data import load_catalogs
from engine.catalog.model import ALL, _as_date


def catalogs_view(jurisdiction: str, as_of=None) -> dict:
    """The catalogue versions in force in `jurisdiction` (an id, a Chinese name or `all`) on `as_of`,
    each with its status, validity, citations and entries."""
    cat = load_catalogs()
    j = cat.jurisdiction_id(jurisdiction)
    day = _as_date(as_of)
    versions = []
    for v in cat.in_force(j, day):
        out = v.to_dict()
        out["status"] = cat.version_status(v, day)
        out["note"] = v.note
        versions.append(out)
    return {"jurisdiction": j, "as_of": day.isoformat(), "versions": versions}


def _matches(q: str, names: list[str]) -> bool:
    key = textnorm.compact(q)
    return bool(key) and any(key in textnorm.compact(n) for n in names)


def technologies(jurisdiction: str = "national", as_of=None, q: str | None = None) -> list[dict]:
    """Every technology the catalogues in force list (filtered by `q`), in catalogue order:
    [{id, name, listings: [{catalog, code, name, scope, grades, jurisdiction}]}]."""
    cat = load_catalogs()
    j = cat.jurisdiction_id(jurisdiction)
    day: dt.date = _as_date(as_of)
    recognised: set[str] = set()
    if q:
        m = cat.taxonomy.lookup(q)
        if m.status in ("recognized", "ambiguous"):
            for tid in m.ids:
                recognised |= set(cat.taxonomy.down(tid)) | set(cat.taxonomy.ancestors(tid))
    items: dict[str, dict] = {}
    for v in cat.in_force(j, day):
        for e in v.entries:
            item = items.get(e.technology)
            if item is None:
                tech = cat.taxonomy.get(e.technology)
                item = items[e.technology] = {
                    "id": tech.id,
                    "name": tech.name,
                    "aliases": list(tech.aliases),
                    "listings": [],
                }
            item["listings"].append(
                {
                    "catalog": e.catalog,
                    "code": e.code,
                    "name": e.name,
                    "scope": e.scope,
                    "grades": list(e.grades) if e.grades else None,
                    "jurisdiction": v.jurisdiction,
                }
            )
    out = []
    for item in items.values():
        names = [
            item["name"],
            *item["aliases"],
            *(x["name"] for x in item["listings"]),
            *(x["code"] for x in item["listings"]),
        ]
        if q and item["id"] not in recognised and not _matches(q, names):
            continue
        out.append({k: item[k] for k in ("id", "name", "listings")})
    return out


__all__ = ["ALL", "catalogs_view", "technologies"]
