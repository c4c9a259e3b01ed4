"""`medtech kb check`: every problem across documents, rules, catalogues, calendar, flowcharts
and generated schemas, gathered without raising.

It sits above the stages it checks (kb, catalog, flowchart), so none of them imports it.
"""

from __future__ import annotations

import datetime as dt
from contextlib import suppress
from zoneinfo import ZoneInfo

from engine.errors import KnowledgeBaseError, Problem, UnreadableYaml
from engine.kb.rules import check_rules, load_rule_files
from engine.kb.schemas import schema_problems
from engine.kb.vocabulary import vocabulary
from engine.paths import DOCUMENTS_DIR, KB_DIR, relative


def check() -> list[Problem]:
    """Every problem in the knowledge base (empty when it is sound). A file that cannot be read
    at all stops the check there, reported as the problem it is."""
    try:
        return _check()
    except KnowledgeBaseError as exc:
        return sorted(set(exc.problems))
    except UnreadableYaml as exc:
        return [unreadable_problem(exc)]


def unreadable_problem(exc: UnreadableYaml) -> Problem:
    """A file that cannot be read as YAML, as a problem of the knowledge base."""
    return Problem(relative(exc.path), "(file)", f"cannot be read as YAML: {exc.reason}")


def _check() -> list[Problem]:
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
    problems += rule_file_problems(rule_files)
    problems += fact_problems(rule_files)
    problems += replacement_cycles(rule_files)
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
    if not problems:  # the rest looks sound: what the loader and a first decision would trip on
        problems += load_problems()
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


def rule_file_problems(files: dict) -> list[Problem]:
    """Every document a jurisdiction lists has its rules file (kb/rules/<document>.yaml): without
    it the jurisdiction would answer as if the document laid down nothing."""
    from engine.paths import RULES_DIR

    have = {data.get("document") for data in files.values() if isinstance(data, dict)}
    file = relative(KB_DIR / "vocabulary.yaml")
    out = []
    for i, j in enumerate(vocabulary().jurisdictions):
        for k, d in enumerate(j.documents):
            if d not in have:
                out.append(
                    Problem(
                        file,
                        f"jurisdictions.{i}.documents.{k}",
                        f"{j.id} lists {d}, which has no rules file {relative(RULES_DIR / f'{d}.yaml')}",
                    )
                )
    return out


def _rules(files: dict):
    """(file, location, rule) of every rule that is a mapping."""
    for path, data in files.items():
        rules = data.get("rules") if isinstance(data, dict) else None
        for i, rule in enumerate(rules if isinstance(rules, list) else []):
            if isinstance(rule, dict):
                yield relative(path), f"rules.{i}", rule


def _fact_leaves(node, where: str):
    """(location, fact name) of every leaf of a condition written as data (iterative)."""
    stack = [(node, where)]
    while stack:
        n, w = stack.pop()
        if isinstance(n, dict):
            if isinstance(n.get("fact"), str):
                yield f"{w}.fact", n["fact"]
            stack.extend((v, f"{w}.{k}") for k, v in n.items() if isinstance(v, (dict, list)))
        elif isinstance(n, list):
            stack.extend((v, f"{w}.{i}") for i, v in enumerate(n))


def fact_problems(files: dict) -> list[Problem]:
    """Every fact a rule's condition names is one a request field or a derived fact defines
    (engine.inference.facts.known_facts); a misspelt name would make the rule silently never fire."""
    from engine.inference.facts import known_facts

    known = known_facts()
    out = []
    for file, loc, rule in _rules(files):
        for where, fact in _fact_leaves(rule.get("when"), f"{loc}.when"):
            if fact not in known:
                out.append(Problem(file, where, f"unknown fact {fact!r}: no request field or derived fact defines it"))
    return out


def replacement_cycles(files: dict) -> list[Problem]:
    """No rule replaces, through `replaces_materials_of`, its own materials (directly or round a
    cycle): each rule of the cycle would drop the other's materials and none would be listed."""
    import networkx as nx

    graph = nx.DiGraph()
    where = {}
    for file, loc, rule in _rules(files):
        rid = rule.get("id")
        where[rid] = (file, loc)
        for other in rule.get("replaces_materials_of") or []:
            graph.add_edge(rid, other)
    out = []
    for cycle in nx.simple_cycles(graph):
        first = min(cycle)
        file, loc = where.get(first, ("kb/rules", ""))
        ring = cycle[cycle.index(first) :] + cycle[: cycle.index(first)] + [first]
        out.append(Problem(file, f"{loc}.replaces_materials_of", "replaces_materials_of cycle: " + " -> ".join(ring)))
    return out


def load_problems() -> list[Problem]:
    """What building the knowledge base, loading the catalogues or answering a first request in
    each jurisdiction raises, as problems (a check that passes must leave nothing for them to trip on)."""
    from engine.errors import InvalidRequest
    from engine.kb.loader import knowledge_base

    out: list[Problem] = []
    try:
        knowledge_base.__wrapped__()
    except KnowledgeBaseError as exc:
        return list(exc.problems)
    except Exception as exc:  # noqa: BLE001 - whatever the loader trips on is the finding
        return [Problem("(knowledge base)", "load", f"{type(exc).__name__}: {exc}")]
    from engine.inference.decision import decide

    for j in vocabulary().jurisdictions:
        try:
            decide({"institution": {"jurisdiction": j.id}, "technology": {"name": "_"}})
        except InvalidRequest:
            continue
        except KnowledgeBaseError as exc:
            out += exc.problems
        except Exception as exc:  # noqa: BLE001
            out.append(Problem("(knowledge base)", f"decide {j.id}", f"{type(exc).__name__}: {exc}"))
    return out


def ensure_sound() -> None:
    """Raise KnowledgeBaseError listing every problem unless the knowledge base passes `check()`;
    a pass is remembered per knowledge-base digest and engine code (as the loader's validation is),
    so `medtech decide` and `serve` pay for the whole check only once per change."""
    from engine.kb.loader import _remember_valid, _validated_marker, kb_digest

    marker = _validated_marker(kb_digest())
    marker = marker.with_name("checked-" + marker.name)
    if marker.exists():
        return
    problems = check()
    if problems:
        raise KnowledgeBaseError(problems)
    _remember_valid(marker)


def problems_zh(problems: list[Problem]) -> str:
    """The problems of a knowledge base that refuses to start, for a person (Chinese framing)."""
    lines = [f"知识库有 {len(problems)} 处错误，拒绝启动（请运行 medtech kb check 查看并修正）："]
    lines += [f"  {p.file}{'（' + p.location + '）' if p.location else ''}：{p.message}" for p in problems]
    return "\n".join(lines)


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
