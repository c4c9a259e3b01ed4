"""`medtech kb check`: every problem across documents, rules, catalogues, calendar, flowcharts
and generated schemas, gathered without raising.

It sits above the stages it checks (kb, catalog, flowchart), so none of them imports it.
"""
from __future__ import annotations

from engine.errors import Problem
from engine.kb.rules import check_rules, load_rule_files
from engine.paths import KB_DIR


def check() -> list[Problem]:
    """Every problem in the knowledge base (empty when it is sound)."""
    from engine.kb.documents import check_documents, load_documents
    problems = list(check_documents())
    if problems:
        return problems
    documents = load_documents()
    problems += check_rules(load_rule_files(), documents)
    from engine.catalog import check_catalogs
    from engine.flowchart.build import check as check_flowcharts
    from engine.kb.schemas import schema_problems
    from engine.yamlio import load_yaml
    problems += check_catalogs()
    problems += schema_problems("calendar", load_yaml(KB_DIR / "calendar.yaml"), "kb/calendar.yaml")
    problems += check_flowcharts()
    from engine.kb import schema_gen
    from engine.paths import SCHEMA_DIR
    for name in schema_gen.GENERATED:
        path = SCHEMA_DIR / f"{name}.schema.json"
        if not path.exists() or path.read_text(encoding="utf-8") != schema_gen.render(name):
            problems.append(Problem(f"kb/schema/{name}.schema.json", "", "out of date with kb/vocabulary.yaml: run `medtech kb schemas`"))
    return sorted(set(problems))
