"""The knowledge base as one object: load -> validate -> resolve references -> compile.

Built once per process (`knowledge_base()`); the evaluators of its compiled rules are in
engine.inference.backends, and `medtech kb check` is engine.checks.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from engine.errors import KnowledgeBaseError
from engine.kb.rules import CompiledRule, check_rules, compile_rules, load_rule_files
from engine.kb.vocabulary import Vocabulary, vocabulary
from engine.paths import CATALOGS_DIR, KB_DIR, ROOT

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

    def provision(self, document: str, eid: str):
        return self.documents[document].get(eid)


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


@lru_cache(maxsize=1)
def knowledge_base() -> KnowledgeBase:
    """The validated, compiled knowledge base; raises KnowledgeBaseError listing every problem.

    Schema validation of the documents and rules takes most of the start-up time, so it is
    done once per knowledge-base digest (and engine code) and remembered in the user's cache;
    `medtech kb check` always validates everything.
    """
    from engine.kb.documents import load_documents
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
