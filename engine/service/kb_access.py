"""The knowledge base as the HTTP service sees it: loading (503 when invalid), its digest,
documents and jurisdictions looked up with 404s, and the warm-up before serving.

These functions load or evaluate, so they are called on the engine thread (`on_engine`).
"""

from __future__ import annotations

import logging

from engine.errors import KnowledgeBaseError, NotFound
from engine.service.errors import error, kb_unavailable, not_found

log = logging.getLogger("engine.service.app")

_DIGEST: str | None = None
_VERSION: str | None = None
_WARM = False  # set once `warm` has built everything without an error


def kb():
    """The loaded knowledge base (503 when it is invalid)."""
    from engine.kb.loader import knowledge_base

    try:
        return knowledge_base()
    except KnowledgeBaseError as exc:
        raise kb_unavailable(exc) from None


def digest() -> str:
    """The digest of the knowledge base answering requests (of the files when it cannot load)."""
    global _DIGEST
    if _DIGEST is None:
        from engine.kb.loader import kb_digest, knowledge_base

        try:
            _DIGEST = knowledge_base().digest
        except Exception:  # noqa: BLE001 - the header must still be set
            log.exception("knowledge base could not be loaded; digest taken from the files")
            _DIGEST = kb_digest()
    return _DIGEST


def kb_version() -> str:
    """The version of the knowledge base answering requests (kb/version.yaml when it cannot load)."""
    global _VERSION
    if _VERSION is None:
        from engine.kb.loader import kb_version as file_version
        from engine.kb.loader import knowledge_base

        try:
            _VERSION = knowledge_base().version
        except Exception:  # noqa: BLE001 - the header must still be set
            try:
                _VERSION = file_version()
            except KnowledgeBaseError:
                _VERSION = "unknown"
    return _VERSION


def cached_kb_version() -> str | None:
    """The knowledge-base version when `kb_version()` has already read it, else None (never loads anything)."""
    return _VERSION


def cached_digest() -> str | None:
    """The digest when `digest()` has already computed it, else None (never loads anything)."""
    return _DIGEST


def documents():
    """The encoded documents by id (503 when they are invalid)."""
    from engine.kb.documents import load_documents

    try:
        return load_documents()
    except KnowledgeBaseError as exc:
        raise kb_unavailable(exc) from None


def document(document_id: str):
    """One document (404 listing the others when it is unknown)."""
    docs = documents()
    if document_id not in docs:
        raise error(404, f"unknown document {document_id!r}", "document", available=sorted(docs))
    return docs[document_id]


def resolve_jurisdiction(spelling: str, path: str = "jurisdiction"):
    """The jurisdiction an id or Chinese name denotes (404 listing the known ones)."""
    from engine.kb.vocabulary import vocabulary

    try:
        return vocabulary().jurisdiction(spelling)
    except NotFound as exc:
        raise not_found(exc, path) from None


def warm() -> None:
    """Check the knowledge base as `medtech kb check` does (KnowledgeBaseError, logged with every
    problem, when it fails: the service refuses to start), then build it, the durable_rules
    ruleset and the validators before serving."""
    global _WARM
    from engine.checks import ensure_sound

    try:
        ensure_sound()
    except KnowledgeBaseError as exc:
        log.error("the knowledge base fails `medtech kb check`; not serving:\n%s", "\n".join(map(str, exc.problems)))
        raise
    try:
        from engine.inference.backends import warm_up

        warm_up()
        digest()
        kb_version()
        _WARM = True
    except Exception:  # noqa: BLE001 - serve anyway: /healthz reports the problem
        log.exception("warm-up failed")


def cool() -> None:
    """Mark the service as no longer ready (it is shutting down)."""
    global _WARM
    _WARM = False


def is_warm() -> bool:
    """True once `warm` has succeeded: a decision then takes a fraction of a millisecond (before,
    the first one may load the knowledge base, or fail to, which takes seconds)."""
    return _WARM
