"""Which provisions the knowledge base accounts for: cited by a rule or a catalogue, or marked
in kb/rules/ as not creating an institution's duty (with a reason).

A provision counts as accounted for when it, or a provision above it, is cited or marked,
or when every provision below it is accounted for.
"""

from __future__ import annotations

import re
from pathlib import Path

from engine.kb.rules import load_rule_files, references, split_ref
from engine.paths import CATALOGS_DIR
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
    """(provisions cited anywhere, {(doc, eid): reason} of those marked as no duty)."""
    cited: set = set()
    reasons: dict = {}
    for data in (rule_files or load_rule_files()).values():
        for rule in data.get("rules", []):
            cited.update(split_ref(r) for _, r in references(rule))
        for item in data.get("not_duties", []):
            reasons[(data["document"], item["eid"])] = item["reason"]
    for path in sorted(Path(CATALOGS_DIR).rglob("*.yaml")):
        _catalog_refs(load_yaml(path), cited)
    return cited, reasons


def accounted(documents: dict, cited: set, reasons: dict) -> dict[str, dict[str, str]]:
    """{document: {eid: how}} where how is 'cited', 'no duty: …', 'inherited' or 'children'."""
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


def report() -> tuple[str, bool]:
    """The coverage table and the unaccounted provisions; ok when everything is accounted for."""
    from engine.kb.documents import load_documents

    documents = load_documents()
    cited, reasons = marked()
    acc = accounted(documents, cited, reasons)
    width = max([17, *(len(d) for d in documents)])
    head = f"{'document':<{width}} provisions  accounted  cited  no-duty  share"
    lines = [head, "-" * len(head)]
    missing_lines = []
    for doc_id, doc in documents.items():
        how = acc[doc_id]
        total = len(doc.provisions)
        n_cited = sum(1 for v in how.values() if v == "cited")
        n_none = sum(1 for v in how.values() if v.startswith("no duty"))
        lines.append(
            f"{doc_id:<{width}} {total:>10} {len(how):>10} {n_cited:>6} {n_none:>8} {100 * len(how) / total:>6.1f}%"
        )
        for eid, p in doc.provisions.items():
            if eid not in how:
                missing_lines.append(f"  {doc_id} {eid} {p.label}: {p.text[:40]}")
    ok = not missing_lines
    if missing_lines:
        lines += ["", f"not accounted for ({len(missing_lines)}):", *missing_lines]
    else:
        lines += ["", "every provision is accounted for"]
    return "\n".join(lines), ok
