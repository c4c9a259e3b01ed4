"""Which provisions the knowledge base accounts for: cited by a rule or a catalogue, or marked
in kb/rules/ (`not_duties`) as creating no duty, with a reason from kb/vocabulary.yaml's
`not_duty_reasons` and a sentence.

Two counts:
- lenient: a provision counts when it, or a provision above it, is cited or marked, or when
  every provision below it is accounted for;
- strict: only the leaves (provisions with no children) are counted, and a leaf counts only
  when that leaf itself is cited or marked. `medtech kb check` requires every leaf (strict 100%).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from engine.errors import Problem
from engine.kb.rules import load_rule_files, references, split_ref
from engine.paths import CATALOGS_DIR, relative
from engine.yamlio import load_yaml

REF = re.compile(r"^([a-z]+-[0-9a-z-]+):([a-z0-9_]+)$")


def _catalog_refs(node, out: set) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("document"), str) and isinstance(node.get("eid"), str):
            out.add((node["document"], node["eid"]))
        for v in node.values():
            _catalog_refs(v, out)
    elif isinstance(node, list):
        for v in node:
            _catalog_refs(v, out)
    elif isinstance(node, str):
        m = REF.match(node)
        if m:
            out.add((m.group(1), m.group(2)))


def marked(rule_files: dict | None = None) -> tuple[set, dict]:
    """(provisions cited anywhere, {(doc, eid): reason id} of those marked as no duty)."""
    cited: set = set()
    reasons: dict = {}
    for data in (rule_files or load_rule_files()).values():
        for rule in data.get("rules", []):
            cited.update(split_ref(r) for _, r in references(rule))
        for item in data.get("not_duties") or []:
            reasons[(data["document"], item["eid"])] = item["reason"]
    for path in sorted(Path(CATALOGS_DIR).rglob("*.yaml")):
        _catalog_refs(load_yaml(path), cited)
    return cited, reasons


def accounted(documents: dict, cited: set, reasons: dict) -> dict[str, dict[str, str]]:
    """Lenient: {document: {eid: how}} where how is 'cited', 'no duty: …', 'inherited' or 'children'."""
    out: dict = {}
    for doc_id, doc in documents.items():
        how: dict = {}
        for eid, p in doc.provisions.items():  # document order: parents first
            if (doc_id, eid) in cited:
                how[eid] = "cited"
            elif (doc_id, eid) in reasons:
                how[eid] = "no duty: " + reasons[(doc_id, eid)]
            elif p.parent and p.parent in how:
                how[eid] = "inherited"
        for eid in reversed(list(doc.provisions)):  # children before parents
            p = doc.provisions[eid]
            if eid not in how and p.children and all(c in how for c in p.children):
                how[eid] = "children"
        out[doc_id] = how
    return out


def leaves(doc) -> list[str]:
    """The eIds of a document's provisions that have no children, in document order."""
    return [eid for eid, p in doc.provisions.items() if not p.children]


def strict(documents: dict, cited: set, reasons: dict) -> dict[str, dict[str, str | None]]:
    """Strict: {document: {leaf: 'cited', the reason id of its own mark, or None}}."""
    out: dict = {}
    for doc_id, doc in documents.items():
        out[doc_id] = {eid: "cited" if (doc_id, eid) in cited else reasons.get((doc_id, eid)) for eid in leaves(doc)}
    return out


def mark_problems(rule_files: dict, documents: dict, cited: set) -> list[Problem]:
    """Marks that strict coverage cannot use: on a provision with children (mark its leaves), or on a
    provision that a rule or catalogue cites (the mark contradicts the citation)."""
    problems = []
    for path, data in rule_files.items():
        doc = documents.get(data.get("document")) if isinstance(data, dict) else None
        if doc is None:
            continue
        for i, item in enumerate(data.get("not_duties") or []):
            p = doc.provisions.get(item.get("eid"))
            if p is None:
                continue
            where = f"not_duties.{i}.eid"
            if p.children:
                problems.append(
                    Problem(relative(path), where, f"{p.eid} has provisions below it: mark each of its leaves instead")
                )
            elif (data["document"], p.eid) in cited:
                problems.append(
                    Problem(relative(path), where, f"{p.eid} is cited by a rule or catalogue: drop its mark")
                )
    return problems


def coverage_problems(rule_files: dict, documents: dict) -> list[Problem]:
    """For `medtech kb check`: every leaf neither cited nor marked by itself, and every unusable mark."""
    cited, reasons = marked(rule_files)
    files = {data.get("document"): path for path, data in rule_files.items() if isinstance(data, dict)}
    problems = mark_problems(rule_files, documents, cited)
    for doc_id, how in strict(documents, cited, reasons).items():
        file = relative(files[doc_id]) if doc_id in files else f"kb/rules/{doc_id}.yaml"
        for eid, h in how.items():
            if h is None:
                label = documents[doc_id].provisions[eid].label
                problems.append(
                    Problem(
                        file,
                        "not_duties",
                        f"{eid} ({label}) is neither cited by a rule or catalogue nor marked with a reason "
                        "(strict coverage, `medtech kb coverage --strict`)",
                    )
                )
    return problems


def report(strict_only: bool = False) -> tuple[str, bool]:
    """The coverage table, both counts, and what is not accounted for.

    ok: every provision accounted for (lenient), or with `strict_only` every leaf by itself.
    """
    from engine.kb.documents import load_documents
    from engine.kb.vocabulary import vocabulary

    documents = load_documents()
    cited, reasons = marked()
    acc = accounted(documents, cited, reasons)
    st = strict(documents, cited, reasons)
    width = max([17, *(len(d) for d in documents)])
    head = f"{'document':<{width}} provisions  lenient    leaves   cited  marked  strict"
    lines = [head, "-" * len(head)]
    missing_lenient, missing_strict = [], []
    by_reason: Counter = Counter()
    for doc_id, doc in documents.items():
        how, leaf_how = acc[doc_id], st[doc_id]
        total, n_leaves = len(doc.provisions), len(leaf_how)
        n_cited = sum(1 for v in leaf_how.values() if v == "cited")
        n_marked = sum(1 for v in leaf_how.values() if v not in (None, "cited"))
        by_reason.update(v for v in leaf_how.values() if v not in (None, "cited"))
        lines.append(
            f"{doc_id:<{width}} {total:>10} {100 * len(how) / total:>7.1f}% {n_leaves:>9} {n_cited:>7} {n_marked:>7}"
            f" {100 * (n_cited + n_marked) / n_leaves:>6.1f}%"
        )
        for eid, p in doc.provisions.items():
            if eid not in how:
                missing_lenient.append(f"  {doc_id} {eid} {p.label}: {p.text[:40]}")
            if leaf_how.get(eid, "") is None:
                missing_strict.append(f"  {doc_id} {eid} {p.label}: {p.text[:40]}")
    lines += [
        "",
        "lenient: a provision counts when it, a provision above it, or all those below it are cited or marked;",
        "strict: each leaf (a provision with no children) counts only when it is itself cited or marked.",
    ]
    names = vocabulary().names("not_duty_reasons") if "not_duty_reasons" in vocabulary().raw else {}
    if by_reason:
        lines += ["", "leaves marked as creating no duty, by reason:"]
        lines += [f"  {r:<24} {n:>4}  {names.get(r, '')}" for r, n in sorted(by_reason.items())]
    if missing_strict:
        lines += ["", f"leaves not accounted for by themselves ({len(missing_strict)}):", *missing_strict]
    else:
        lines += ["", "every leaf is accounted for by itself"]
    if missing_lenient:
        lines += ["", f"not accounted for (lenient, {len(missing_lenient)}):", *missing_lenient]
    return "\n".join(lines), not (missing_strict if strict_only else missing_lenient)
