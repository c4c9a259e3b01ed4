"""The knowledge base as one object: load -> validate -> resolve references -> compile.

Built once per process (`knowledge_base()`); `check()` gathers every problem across
documents, rules, catalogues and calendar without raising, for `medtech kb check`.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from engine.errors import KnowledgeBaseError, Problem
from engine.paths import CATALOGS_DIR, KB_DIR, ROOT
from engine.rules import CompiledRule, check_rules, compile_rules, load_rule_files
from engine.vocabulary import Vocabulary, vocabulary

VERSION = "0.1.0"


def kb_digest() -> str:
    """sha256 over every file of kb/ and catalogs/ (path and content), in path order."""
    h = hashlib.sha256()
    for base in (KB_DIR, CATALOGS_DIR):
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            h.update(str(path.relative_to(ROOT)).encode())
            h.update(b"\0")
            h.update(path.read_bytes())
            h.update(b"\0")
    return "sha256:" + h.hexdigest()


def document_order(vocab: Vocabulary) -> list[str]:
    """Documents in the order they are cited: the national measures first, then each province."""
    order: list[str] = []
    for j in vocab.jurisdictions:
        for d in j.documents:
            if d not in order:
                order.append(d)
    return order


@dataclass(eq=False)
class KnowledgeBase:
    vocabulary: Vocabulary
    documents: dict
    rules: list[CompiledRule]
    rule_files: dict
    digest: str
    version: str = VERSION

    @cached_property
    def rule_by_id(self) -> dict[str, CompiledRule]:
        return {r.id: r for r in self.rules}

    @cached_property
    def pure(self):
        from engine.evaluator import PureEvaluator
        return PureEvaluator(self.rules)

    @property
    def durable(self):
        from engine.durable_backend import durable_backend
        return durable_backend(self.rules, self.digest)

    def provision(self, document: str, eid: str):
        return self.documents[document].get(eid)


def check() -> list[Problem]:
    """Every problem in the knowledge base (empty when it is sound)."""
    from engine.documents import check_documents, load_documents
    problems = list(check_documents())
    if problems:
        return problems
    documents = load_documents()
    problems += check_rules(load_rule_files(), documents)
    from engine.catalog import check_catalogs
    from engine.flowchart.build import check as check_flowcharts
    from engine.schemas import schema_problems
    from engine.yamlio import load_yaml
    problems += check_catalogs()
    problems += schema_problems("calendar", load_yaml(KB_DIR / "calendar.yaml"), "kb/calendar.yaml")
    problems += check_flowcharts()
    from engine import schema_gen
    from engine.paths import SCHEMA_DIR
    for name in schema_gen.GENERATED:
        path = SCHEMA_DIR / f"{name}.schema.json"
        if not path.exists() or path.read_text(encoding="utf-8") != schema_gen.render(name):
            problems.append(Problem(f"kb/schema/{name}.schema.json", "", "out of date with kb/vocabulary.yaml: run `medtech kb schemas`"))
    return sorted(set(problems))


def _validated_marker(digest: str) -> Path:
    """Where a successful validation of this exact knowledge base and engine code is remembered."""
    h = hashlib.sha256(digest.encode())
    for path in sorted((ROOT / "engine").rglob("*.py")):
        h.update(path.read_bytes())
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "medtech-rules"
    return base / f"validated-{h.hexdigest()[:32]}"


def _remember_valid(marker: Path) -> None:
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:  # a read-only home only costs the next start-up its validation
        pass


def warm_up() -> KnowledgeBase:
    """Build everything a decision needs before serving (knowledge base, durable_rules ruleset,
    catalogue index, validators, one decision), then move those long-lived objects out of the
    cyclic collector's reach (gc.freeze) so collections caused by request garbage stay short."""
    import gc

    from engine import decide
    from engine.catalog import load_catalogs
    base = knowledge_base()
    base.durable  # noqa: B018 - builds the ruleset
    load_catalogs()
    decide({"institution": {"jurisdiction": base.vocabulary.jurisdictions[0].id}})
    gc.collect()
    gc.freeze()
    return base


@lru_cache(maxsize=1)
def knowledge_base() -> KnowledgeBase:
    """The validated, compiled knowledge base; raises KnowledgeBaseError listing every problem.

    Schema validation of the documents and rules takes most of the start-up time, so it is
    done once per knowledge-base digest (and engine code) and remembered in the user's cache;
    `medtech kb check` always validates everything.
    """
    from engine.documents import load_documents
    digest = kb_digest()
    marker = _validated_marker(digest)
    known_good = marker.exists()
    vocab = vocabulary()
    documents = load_documents(validate=not known_good)
    files = load_rule_files()
    order = document_order(vocab)
    if not known_good:
        problems = check_rules(files, documents)
        if problems:
            raise KnowledgeBaseError(problems)
        _remember_valid(marker)
    return KnowledgeBase(vocab, documents, compile_rules(files, documents, order), files, digest)
