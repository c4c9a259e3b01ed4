"""The one place that pins what the repository holds: the five jurisdictions, their documents, the
catalogue versions and the charts. Every other test takes "every jurisdiction/document/chart/catalogue
version" from the data (tests/inventory.py).

The pins are a floor: losing or renaming one of these fails here; adding a jurisdiction (YAML
alone, docs/adding-a-jurisdiction.md) leaves this test passing, and the consistency checks below
then hold for the new one as for the others.
"""

from __future__ import annotations

from engine.catalog import load_catalogs
from engine.kb.documents import load_documents
from engine.kb.vocabulary import vocabulary
from engine.paths import DOCUMENTS_DIR, RULES_DIR, SOURCES_DIR
from inventory import CATALOG_VERSIONS, CHARTS, DOCUMENT_JURISDICTION, DOCUMENTS, JURISDICTIONS

# jurisdiction -> (its Chinese name, the documents that apply in it, the national measures first)
# the national measures and the national notices issued under them, in every jurisdiction
NATIONAL = ["nhc-2018-1", "nhc-2022-list", "nhc-2025-282", "nhc-2025-jejunoileal"]
EXPECTED = {
    "national": ("全国", NATIONAL),
    "chongqing": ("重庆市", [*NATIONAL, "cq-2019-61"]),
    "hunan": ("湖南省", [*NATIONAL, "hn-2018-11"]),
    "shanghai": ("上海市", [*NATIONAL, "sh-2024-13"]),
    "jilin": ("吉林省", [*NATIONAL, "jl-2021"]),
}
EXPECTED_CATALOG_VERSIONS = {
    "national-2018": "national",
    "national-2022": "national",
    "chongqing-2019": "chongqing",
    "hunan-2018": "hunan",
    "shanghai-2024": "shanghai",
    "jilin-2021": "jilin",
}
EXPECTED_CHARTS = ["filing", "incident", "training"]


def test_the_five_jurisdictions_and_their_documents():
    found = {j.id: (j.name, list(j.documents)) for j in vocabulary().jurisdictions}
    assert {j: found.get(j) for j in EXPECTED} == EXPECTED
    assert JURISDICTIONS[0] == "national" and JURISDICTIONS[: len(EXPECTED)] == list(EXPECTED)


def test_the_catalogue_versions_and_charts():
    versions = load_catalogs().versions
    assert {
        v: versions[v].jurisdiction for v in EXPECTED_CATALOG_VERSIONS if v in versions
    } == EXPECTED_CATALOG_VERSIONS
    assert CHARTS[: len(EXPECTED_CHARTS)] == EXPECTED_CHARTS


def test_every_document_has_its_text_rules_and_source():
    """Each document the vocabulary lists has kb/documents/<id>.yaml, kb/rules/<id>.yaml and its
    source text in kb/sources/, names the jurisdiction that lists it, and nothing else is there."""
    docs = load_documents()
    assert sorted(p.stem for p in DOCUMENTS_DIR.glob("*.yaml")) == sorted(DOCUMENTS)
    assert sorted(p.stem for p in RULES_DIR.glob("*.yaml")) == sorted(DOCUMENTS)
    assert {d: docs[d].jurisdiction for d in DOCUMENTS} == DOCUMENT_JURISDICTION
    assert sorted(docs[d].source_file for d in DOCUMENTS) == sorted(p.name for p in SOURCES_DIR.glob("*.txt"))
    assert all(docs[d].source_file == f"{d}.txt" for d in DOCUMENTS)


def test_every_catalogue_version_belongs_to_a_jurisdiction():
    versions = load_catalogs().versions
    assert sorted(versions) == CATALOG_VERSIONS
    assert {versions[v].jurisdiction for v in CATALOG_VERSIONS} <= set(JURISDICTIONS)
