"""Restricted-technology catalogues: which versions are in force where, and what covers a technique.

Data (catalogs/):
- `versions/*.yaml`: one file per catalogue version (`scope: national`, or `provincial` with the
  jurisdiction and the document whose force it follows);
- `taxonomy.yaml`: the canonical technologies every entry maps to (engine.catalog.taxonomy);
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

This module is the facade; the work is done in (each importing only the ones above it):
- engine.catalog.model: constants, dataclasses (`Entry`, `Version`, `Prohibited`, `OutOfScope`),
  reading version and document files;
- engine.catalog.check: `check_catalogs`;
- engine.catalog.data: `Catalogs` (the index), `load_catalogs`, `clear_cache`, `catalogs_in_force`;
- engine.catalog.resolve: `Resolution`, `resolve`;
- engine.catalog.views: `crosswalk`, `crosswalk_markdown`, `crosswalk_csv`, `format_catalog`,
  `format_search`.
"""

from __future__ import annotations

from engine.catalog.check import check_catalogs
from engine.catalog.data import Catalogs, catalogs_in_force, clear_cache, load_catalogs
from engine.catalog.model import (
    ALL,
    APPLICABLE,
    CHINA,
    GRADE_ZH,
    STATUS_ZH,
    Entry,
    OutOfScope,
    Prohibited,
    Version,
)
from engine.catalog.resolve import Resolution, resolve
from engine.catalog.views import (
    crosswalk,
    crosswalk_csv,
    crosswalk_markdown,
    format_catalog,
    format_search,
)

__all__ = [
    "ALL",
    "APPLICABLE",
    "CHINA",
    "GRADE_ZH",
    "STATUS_ZH",
    "Catalogs",
    "Entry",
    "OutOfScope",
    "Prohibited",
    "Resolution",
    "Version",
    "catalogs_in_force",
    "check_catalogs",
    "clear_cache",
    "crosswalk",
    "crosswalk_csv",
    "crosswalk_markdown",
    "format_catalog",
    "format_search",
    "load_catalogs",
    "resolve",
]
