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

from engine.errors import KnowledgeBaseError, Problem
from engine.kb.rules import CompiledRule, check_rules, compile_rules, load_rule_files
from engine.kb.schemas import schema_problems
from engine.kb.vocabulary import Vocabulary, vocabulary
from engine.paths import CATALOGS_DIR, KB_DIR, ROOT, relative
from engine.yamlio import load_yaml

VERSION_FILE = KB_DIR / "version.yaml"


def version_problems() -> list[Problem]:
    """Problems of kb/version.yaml (missing, unreadable, or not valid against version.schema.json)."""
    file = relative(VERSION_FILE)
    if not VERSION_FILE.is_file():
        return [Problem(file, "(file)", "missing: the knowledge base needs a version (see CHANGELOG.md)")]
    try:
        data = load_yaml(VERSION_FILE)
    except Exception as exc:  # yaml.YAMLError, UnicodeDecodeError, OSError
        return [Problem(file, "(file)", f"cannot be read as YAML: {exc}")]
    return schema_problems("version", data, file)


def kb_version() -> str:
    """The knowledge base's version, from kb/version.yaml; KnowledgeBaseError when it is unusable."""
    problems = version_problems()
    if problems:
        raise KnowledgeBaseError(problems)
    return str(load_yaml(VERSION_FILE)["version"])


def kb_current_to() -> str:
    """The latest day the encoded documents were checked against the published law (kb/version.yaml)."""
    problems = version_problems()
    if problems:
        raise KnowledgeBaseError(problems)
    return str(load_yaml(VERSION_FILE)["current_to"])


def kb_digest() -> str:
    """sha256 over every file of kb/ and catalogs/ (path and content), in path order.

    Paths count relative to their own directory (`kb/…`, `catalogs/…`), so a copy of the
    knowledge base elsewhere (MEDTECH_KB, MEDTECH_CATALOGS) has the digest of its content.
    """
    h = hashlib.sha256()
    for label, base in (("kb", KB_DIR), ("catalogs", CATALOGS_DIR)):
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            h.update(f"{label}/{path.relative_to(base).as_posix()}".encode())
            h.update(b"\0")
            h.update(path.read_bytes())
            h.update(b"\0")
    return "sha256:" + h.hexdigest()


def document_order(vocab: Vocabulary) -> list[str]:
    """Documents in the order they are cited: the national measures first, then each province."""
    return vocab.documents


@dataclass(eq=False)
class KnowledgeBase:
    vocabulary: Vocabulary
    documents: dict
    rules: list[CompiledRule]
    rule_files: dict
    digest: str
    version: str
    current_to: str = ""

    @cached_property
    def national_notices(self) -> list[dict]:
        """The national notices issued under the measures (documents of the national jurisdiction whose
        kind is notice), in the order the vocabulary lists them, with the day each applies from."""
        from engine.kb import validity

        national = [j for j in self.vocabulary.jurisdictions if j.level == "national"]
        out = []
        for doc_id in national[0].documents if national else ():
            doc = self.documents[doc_id]
            if doc.kind == "notice" and doc.jurisdiction == national[0].id:
                start = validity.bounds(doc.dates.get("in_force_from"))[0]
                out.append({"id": doc.id, "title": doc.title, "in_force_from": start.isoformat() if start else None})
        return out

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

    version = kb_version()
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
    return KnowledgeBase(
        vocab, documents, compile_rules(files, documents, order), files, digest, version, kb_current_to()
    )
