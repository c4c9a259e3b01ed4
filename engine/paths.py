"""Where the project's data lives.

The knowledge base (`kb/`) and the catalogues (`catalogs/`) are read from the repository unless
`MEDTECH_KB` (a directory laid out like `kb/`) or `MEDTECH_CATALOGS` (one laid out like
`catalogs/`) name others. They are read once, when this module is imported: a process serves
exactly one knowledge base, so the in-process caches never mix two (the validation marker in the
user's cache is keyed by the content digest, see engine.kb.loader).
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _dir(variable: str, default: Path) -> Path:
    value = os.environ.get(variable)
    return Path(value).expanduser().resolve() if value else default


KB_DIR = _dir("MEDTECH_KB", ROOT / "kb")
DOCUMENTS_DIR = KB_DIR / "documents"
RULES_DIR = KB_DIR / "rules"
SCHEMA_DIR = KB_DIR / "schema"
CATALOGS_DIR = _dir("MEDTECH_CATALOGS", ROOT / "catalogs")
DIAGRAMS_DIR = ROOT / "diagrams"
SOURCES_DIR = KB_DIR / "sources"  # the source texts, verbatim, as published (kb/sources/README.md)


def relative(path: str | Path) -> str:
    """A path as shown in messages: relative to the repository root when inside it, else absolute."""
    p = Path(path).resolve()
    try:
        return str(p.relative_to(ROOT))
    except ValueError:
        return str(p)
