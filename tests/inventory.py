"""What the knowledge base holds, read from the data rather than written into tests.

Tests that need "every jurisdiction", "every document", "every chart" or "every catalogue version"
take them from here: from kb/vocabulary.yaml (jurisdictions and their documents), kb/flowcharts.yaml
(charts) and catalogs/versions/ (catalogue versions), so that adding a jurisdiction edits no test.
tests/test_inventory.py is the one place that pins what the repository is expected to hold.
"""

from __future__ import annotations

from engine.catalog import load_catalogs
from engine.flowchart.build import chart_names
from engine.kb.vocabulary import vocabulary

JURISDICTIONS: list[str] = [j.id for j in vocabulary().jurisdictions]
"""Every jurisdiction id, in vocabulary order (the national one first)."""
PROVINCES: list[str] = [j.id for j in vocabulary().jurisdictions if j.level == "provincial"]
"""The provincial jurisdiction ids."""
DOCUMENTS: list[str] = vocabulary().documents
"""Every document id, the national measures first, then each province's."""
CHARTS: list[str] = chart_names()
"""Every flowchart (kb/flowcharts.yaml `charts`)."""
CATALOG_VERSIONS: list[str] = sorted(load_catalogs().versions)
"""Every catalogue version id (catalogs/versions/)."""


def _document_jurisdiction() -> dict[str, str]:
    out: dict[str, str] = {}
    for level in ("national", "provincial"):  # a document every province lists is the national one's
        for j in vocabulary().jurisdictions:
            if j.level == level:
                for d in j.documents:
                    out.setdefault(d, j.id)
    return out


DOCUMENT_JURISDICTION: dict[str, str] = _document_jurisdiction()
"""Each document's jurisdiction as the vocabulary lists it (the national measures: `national`)."""
