"""`medtech kb check`: every problem across documents, rules, catalogues, calendar, flowcharts
and generated schemas, gathered without raising.

It sits above the stages it checks (kb, catalog, flowchart), so none of them imports it.
"""

from __future__ import annotations

import datetime as dt
from contextlib import suppress
from zoneinfo import ZoneInfo

from engine.errors import KnowledgeBaseError, Problem
from engine.kb.rules import check_rules, load_rule_files
from engine.kb.schemas import schema_problems
from engine.kb.vocabulary import vocabulary
from engine.paths import DOCUMENTS_DIR, KB_DIR, relative


def check() -> list[Problem]:
    """Every problem in the knowledge base (empty when it is sound)."""
    from engine.kb.documents import check_documents, load_documents
    from engine.kb.loader import version_problems

    problems = version_problems()
    document_problems = check_documents()
    if document_problems:  # rules and catalogues are checked against readable documents
        return problems + document_problems
    documents = load_documents()
    problems += jurisdiction_problems(documents)
    rule_files = load_rule_files()
    problems += check_rules(rule_files, documents)
    if not problems:  # strict coverage needs readable, valid rules
        from engine.kb.coverage import coverage_problems

        problems += coverage_problems(rule_files, documents)
    from engine.catalog import check_catalogs
    from engine.flowchart.build import check as check_flowcharts
    from engine.yamlio import load_yaml

    problems += check_catalogs()
    problems += schema_problems("calendar", load_yaml(KB_DIR / "calendar.yaml"), relative(KB_DIR / "calendar.yaml"))
    # the charts are checked against a loadable knowledge base: what prevents loading is listed above
    with suppress(KnowledgeBaseError):
        problems += check_flowcharts()
    from engine.kb import schema_gen
    from engine.paths import SCHEMA_DIR

    for name in schema_gen.GENERATED:
        path = SCHEMA_DIR / f"{name}.schema.json"
        if not path.exists() or path.read_text(encoding="utf-8") != schema_gen.render(name):
            problems.append(
                Problem(
                    relative(path),
                    "",
                    "out of date with kb/vocabulary.yaml: run `bash scripts/regenerate.sh` (or `medtech kb schemas`)",
                )
            )
    return sorted(set(problems))


def warnings() -> list[Problem]:
    """What `medtech kb check` reports without failing: citations that one child would make narrower."""
    from engine.kb.documents import load_documents
    from engine.kb.narrowest import narrower_citations

    return narrower_citations(load_rule_files(), load_documents())
def currency_warnings(today: dt.date | None = None) -> list[str]:
    """Warnings (not problems) about how current the knowledge base is: `current_to` in kb/version.yaml
    more than a year before `today` (default: today in China) means later notices may be missing."""
    from engine.kb.loader import VERSION_FILE, kb_current_to

    if today is None:
        today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    try:
        checked = dt.date.fromisoformat(kb_current_to())
    except (KnowledgeBaseError, ValueError):  # reported as a problem of kb/version.yaml
        return []
    try:
        year_before = today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        year_before = today.replace(year=today.year - 1, day=28)
    if checked >= year_before:
        return []
    return [
        f"{relative(VERSION_FILE)}: current_to {checked.isoformat()} is more than a year before {today.isoformat()}: "
        "check the documents against the law published since (new national notices, provincial lists) and move it forward"
    ]


def jurisdiction_problems(documents: dict) -> list[Problem]:
    """kb/vocabulary.yaml's jurisdictions against the documents.

    The schema; no spelling (id, name, alias) shared by two jurisdictions; every listed document
    exists and is the jurisdiction's own or a national one; every provincial jurisdiction also
    lists the national documents (they apply everywhere); every document is listed under the
    jurisdiction it names.
    """
    vocab = vocabulary()
    file = relative(KB_DIR / "vocabulary.yaml")
    problems = list(schema_problems("vocabulary", vocab.raw, file))
    if problems:
        return problems
    national = [d for j in vocab.jurisdictions if j.level == "national" for d in j.documents]
    spellings: dict[str, str] = {}
    for i, j in enumerate(vocab.jurisdictions):
        where = f"jurisdictions.{i}"
        for spelling in dict.fromkeys((j.id, j.name, *j.aliases)):
            other = spellings.setdefault(spelling, j.id)
            if other != j.id:
                problems.append(Problem(file, where, f"{spelling!r} names both {other} and {j.id}"))
        for k, d in enumerate(j.documents):
            if d not in documents:
                problems.append(
                    Problem(file, f"{where}.documents.{k}", f"no document {d} in {relative(DOCUMENTS_DIR)}")
                )
            elif d not in national and documents[d].jurisdiction != j.id:
                problems.append(
                    Problem(
                        file, f"{where}.documents.{k}", f"{d} is a document of {documents[d].jurisdiction}, not {j.id}"
                    )
                )
        missing = [d for d in national if d not in j.documents]
        if j.level == "provincial" and missing:
            problems.append(
                Problem(
                    file, f"{where}.documents", f"{j.id} does not list the national document(s) {', '.join(missing)}"
                )
            )
    by_id = {j.id: j for j in vocab.jurisdictions}
    for d, doc in documents.items():
        owner = by_id.get(doc.jurisdiction)
        if owner is not None and d not in owner.documents:
            problems.append(
                Problem(
                    relative(DOCUMENTS_DIR / f"{d}.yaml"),
                    "jurisdiction",
                    f"{d} names {doc.jurisdiction}, whose entry in {file} does not list it",
                )
            )
    return problems
