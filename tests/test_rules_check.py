"""Rule files: the real ones are sound; broken copies fail with file and location."""

from pathlib import Path

import pytest

from engine.checks import check
from engine.kb.documents import load_documents
from engine.kb.loader import knowledge_base
from engine.kb.rules import check_rules, load_rule_files

BROKEN = Path(__file__).parent / "fixtures" / "broken_rules"


def _problems(case):
    return check_rules(load_rule_files(BROKEN / case), load_documents())


def test_knowledge_base_is_sound():
    assert check() == []


@pytest.mark.parametrize(
    "case, location, fragment",
    [
        ("unknown_eid", "rules.0.citations", "no provision art_99__para_1 in nhc-2018-1"),
        ("duplicate_id", "rules.1.id", "duplicate rule id nhc.same"),
        ("no_citation", "rules.0.citations", "at least one provision"),
        ("unknown_key", "rules.0.colour", "unknown field"),
        ("bad_relation", "rules.0.relation.rule", "unknown rule nhc.does-not-exist"),
    ],
)
def test_broken_rules_are_reported_with_location(case, location, fragment):
    problems = _problems(case)
    assert any(p.location == location and fragment in p.message for p in problems), problems
    assert all(p.file.endswith(f"broken_rules/{case}/nhc-2018-1.yaml") for p in problems)


def test_every_rule_cites_its_own_document_and_existing_provisions():
    kb = knowledge_base()
    for rule in kb.rules:
        assert rule.citations, rule.id
        assert any(doc == rule.document for doc, _ in rule.citations), rule.id
        for doc, eid in rule.citations:
            assert eid in kb.documents[doc].provisions, (rule.id, doc, eid)


def test_generated_schemas_are_current():
    from engine.kb import schema_gen
    from engine.paths import SCHEMA_DIR

    for name in schema_gen.GENERATED:
        assert (SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8") == schema_gen.render(name), (
            f"kb/schema/{name}.schema.json is out of date: run bash scripts/regenerate.sh"
        )


def test_published_schemas_are_valid_draft_2020_12():
    import json

    from jsonschema import Draft202012Validator

    from engine.paths import SCHEMA_DIR

    for path in sorted(SCHEMA_DIR.glob("*.schema.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        assert schema.get("$schema") == "https://json-schema.org/draft/2020-12/schema", path.name
        Draft202012Validator.check_schema(schema)
