"""Load the rules in kb/rules/, validate them, resolve their references and compile their conditions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from engine.errors import Problem
from engine.kb import conditions, validity
from engine.kb.schemas import schema_problems
from engine.paths import RULES_DIR, relative
from engine.yamlio import load_yaml

STAGES = ("classify", "obligation", "authority")


def doc_fact(document_id: str) -> str:
    """The fact that says whether a document applies on the day asked."""
    return "active." + document_id.replace("-", "_")


@dataclass(frozen=True, eq=False)
class CompiledRule:
    id: str
    document: str
    stage: str
    order: int
    condition: conditions.Node
    spec: dict = field(hash=False, compare=False)
    # (fact, first ordinal, last ordinal) of each date the condition compares with that is known only
    # to a window (Jilin's year): a fact inside the window cannot be placed before or after it
    windows: tuple = ()

    @cached_property
    def governed_by(self) -> dict | str | None:
        """Which day's law decides this rule (contract §5): "as_of", a `{document, date}` (a transition
        provision, judged on the day it speaks), or None for the day of its deadline's event."""
        return self.spec.get("governed_by")

    @cached_property
    def test(self):
        """The compiled condition: `(facts, unknown) -> True | False | None`."""
        return conditions.compile_node(self.condition)

    @cached_property
    def fact_set(self) -> frozenset:
        return frozenset(self.facts_used)

    @property
    def citations(self) -> list[tuple[str, str]]:
        return [split_ref(c) for c in self.spec["citations"]]

    @cached_property
    def institution_wide(self) -> bool:
        """True when the rule depends on no technology, classification or event: it binds every institution."""
        return not any(f == "class" or f.startswith(("technology.", "events.")) for f in self.facts_used)

    @cached_property
    def facts_used(self) -> list[str]:
        seen: list[str] = []
        for leaf in conditions.leaves(self.condition):
            if leaf.fact not in seen:
                seen.append(leaf.fact)
        return seen


def split_ref(ref: str) -> tuple[str, str]:
    doc, _, eid = ref.partition(":")
    return doc, eid


def references(spec: dict) -> list[tuple[str, str]]:
    """Every `document:eid` reference a rule makes, with where it is made."""
    out = [("citations", c) for c in spec.get("citations", [])]
    for i, m in enumerate(spec.get("materials", [])):
        out.append((f"materials.{i}.cite", m["cite"]))
    for i, cons in enumerate(spec.get("consequences", [])):
        out += [(f"consequences.{i}.cite", c) for c in cons["cite"]]
    for c in (spec.get("deadline") or {}).get("cite", []):
        out.append(("deadline.cite", c))
    return out


def load_rule_files(directory: Path = RULES_DIR) -> dict[str, dict]:
    """Every rules file by path, parsed but not validated."""
    return {str(p): load_yaml(p) for p in sorted(Path(directory).glob("*.yaml"))}


def check_rules(files: dict[str, dict], documents: dict) -> list[Problem]:
    """Schema, reference and integrity problems in the rule files."""
    problems: list[Problem] = []
    ids: dict[str, str] = {}
    all_rules = []
    for path, data in files.items():
        rel = relative(path)
        problems += schema_problems("rules", data, rel)
        if not isinstance(data, dict):
            continue
        doc = data.get("document")
        if doc not in documents:
            problems.append(Problem(rel, "document", f"unknown document {doc!r}"))
        elif Path(path).stem != doc:
            problems.append(Problem(rel, "document", f"file name should be {doc}.yaml"))
        for i, rule in enumerate(data.get("rules") or []):
            loc = f"rules.{i}"
            rid = rule.get("id", "?")
            if rid in ids:
                problems.append(Problem(rel, f"{loc}.id", f"duplicate rule id {rid} (also in {ids[rid]})"))
            ids[rid] = rel
            all_rules.append((rel, loc, rule))
            for where, ref in references(rule):
                d, eid = split_ref(ref)
                if d not in documents:
                    problems.append(Problem(rel, f"{loc}.{where}", f"unknown document {d!r} in {ref}"))
                elif eid not in documents[d].provisions:
                    problems.append(Problem(rel, f"{loc}.{where}", f"no provision {eid} in {d}"))
            if not rule.get("citations"):
                problems.append(Problem(rel, f"{loc}.citations", "a rule must cite at least one provision"))
            elif doc in documents and not any(split_ref(c)[0] == doc for c in rule["citations"]):
                problems.append(Problem(rel, f"{loc}.citations", f"cites nothing of its own document {doc}"))
        for i, item in enumerate(data.get("not_duties") or []):
            if doc in documents and item.get("eid") not in documents[doc].provisions:
                problems.append(Problem(rel, f"not_duties.{i}.eid", f"no provision {item.get('eid')} in {doc}"))
    for rel, loc, rule in all_rules:
        rel_to = (rule.get("relation") or {}).get("rule")
        if rel_to and rel_to not in ids:
            problems.append(Problem(rel, f"{loc}.relation.rule", f"unknown rule {rel_to}"))
        for key in ("replaces_materials_of", "displaces"):
            for other in rule.get(key, []):
                if other not in ids:
                    problems.append(Problem(rel, f"{loc}.{key}", f"unknown rule {other}"))
    return problems


def _date_resolver(documents: dict, windows: list):
    def resolve(ref, op: str) -> int | None:
        if isinstance(ref, str):
            return dt.date.fromisoformat(ref).toordinal()
        lo, hi = validity.bounds(documents[ref["document"]].dates.get(ref["date"]))
        if lo is None or hi is None:
            return None
        if lo != hi:
            windows.append((lo.toordinal(), hi.toordinal()))
        # "before a day" excludes that day (contract §5 "Counting periods"): before 2018-08-13 is up to
        # 2018-08-12. A date known only to the year or month (Jilin) compares as what is possible:
        # "before" it is any day up to its last possible day, "on or after" any day from its first; the
        # engine marks a fact inside the window as uncertain (CompiledRule.windows)
        if lo == hi:
            return lo.toordinal()
        return hi.toordinal() + 1 if op == "before" else lo.toordinal()

    return resolve


def compile_rules(files: dict[str, dict], documents: dict, document_order: list[str]) -> list[CompiledRule]:
    """Compile every rule, in document order then file order; each gets the implicit 'its document applies' leaf."""
    by_doc = {data["document"]: data for data in files.values()}
    out: list[CompiledRule] = []
    for doc in document_order:
        for rule in (by_doc.get(doc) or {}).get("rules", []):
            found: list = []
            cond = conditions.parse(rule["when"], _date_resolver(documents, found))
            windows = tuple(
                (leaf.fact, lo, hi)
                for leaf in conditions.leaves(cond)
                for lo, hi in found
                if leaf.op in ("lt", "gte") and leaf.value in (lo, hi + 1)
            )
            cond = conditions.All((conditions.Leaf(doc_fact(doc), "eq", True), cond))
            out.append(CompiledRule(rule["id"], doc, rule["stage"], len(out), cond, rule, windows))
    return out
