"""check_catalogs: the real catalogues are sound; each broken fixture yields its problem at its place."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.catalog import Catalogs, check_catalogs, load_catalogs
from engine.errors import KnowledgeBaseError
from engine.paths import CATALOGS_DIR, DOCUMENTS_DIR

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "broken_catalogs"
BASE = "tests/fixtures/broken_catalogs"


def test_real_catalogues_have_no_problems():
    assert check_catalogs() == []


@pytest.mark.parametrize(
    "case,file,location,words",
    [
        ("duplicate_code", "versions/hunan-2018.yaml", "entries.1.code", ["duplicate code S01"]),
        (
            "unmapped_technology",
            "versions/hunan-2018.yaml",
            "entries.0.technology",
            ["unknown technology", "no-such-technology"],
        ),
        (
            "cyclic_taxonomy",
            "taxonomy.yaml",
            "technologies.0.is_a.0",
            ["cycle", "respiratory-endoscopy", "nasal-endoscopy"],
        ),
        ("ambiguous_alias", "taxonomy.yaml", "technologies.3.aliases", ["透析", "hemodialysis", "peritoneal-dialysis"]),
        ("unknown_eid", "versions/hunan-2018.yaml", "entries.0.citation.eid", ["att_1__item_99", "hn-2018-11"]),
        ("schema_violation", "versions/hunan-2018.yaml", "entries.0.colour", ["unknown field"]),
    ],
)
def test_broken_fixture(case, file, location, words):
    problems = check_catalogs(FIXTURES / case, DOCUMENTS_DIR)
    assert len(problems) == 1, problems
    p = problems[0]
    assert p.file == f"{BASE}/{case}/{file}"
    assert p.location == location
    for w in words:
        assert w in p.message


@pytest.mark.parametrize("case", ["unmapped_technology", "cyclic_taxonomy"])
def test_loading_a_broken_fixture_raises_with_the_problems(case):
    with pytest.raises(KnowledgeBaseError) as err:
        load_catalogs(FIXTURES / case, DOCUMENTS_DIR)
    assert err.value.problems and err.value.problems[0].file.startswith(f"{BASE}/{case}/")


def test_citations_are_skipped_while_documents_are_missing(tmp_path):
    # no kb/documents files at all: eids cannot be checked, and that is not a problem
    assert check_catalogs(CATALOGS_DIR, tmp_path) == []
    assert check_catalogs(FIXTURES / "unknown_eid", tmp_path) == []


def test_versions_fall_back_to_their_own_copy_of_the_dates(tmp_path):
    cat = Catalogs(CATALOGS_DIR, tmp_path)
    import datetime as dt

    assert [v.id for v in cat.in_force("hunan", dt.date(2025, 3, 10))] == ["national-2022", "hunan-2018"]
    assert [v.id for v in cat.in_force("shanghai", dt.date(2029, 8, 15))] == ["national-2022"]
    assert cat.document_status("jl-2021", dt.date(2021, 5, 1)) == "uncertain"
    assert cat.document_status("cq-2019-61", dt.date(2020, 1, 9)) == "not_yet_in_force"


def test_dates_copies_agree_with_the_documents():
    cat = load_catalogs()
    for v in cat.provincial:
        doc = cat.documents.get(v.document)
        if doc is None:
            pytest.skip("documents not encoded")
        for key in ("in_force_from", "in_force_until"):
            assert (v.validity["dates"].get(key) or None) == (doc["dates"].get(key) or None)
