"""Where the project's data lives.

The knowledge base (`kb/`), the catalogues (`catalogs/`), the pre-rendered charts (`diagrams/`)
and the examples (`examples/`) are read from the repository in a checkout, and from the package
(`engine/_data/`, where the wheel's build copies them: setup.py) when installed from a wheel;
`MEDTECH_KB` (a directory laid out like `kb/`) or `MEDTECH_CATALOGS` (one laid out like
`catalogs/`) name others. They are read once, when this module is imported: a process serves
exactly one knowledge base, so the in-process caches never mix two (the validation marker in the
user's cache is keyed by the content digest, see engine.kb.loader).
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGED_DATA = Path(__file__).resolve().parent / "_data"  # only in an installed wheel
IN_CHECKOUT = (ROOT / "pyproject.toml").is_file() and (ROOT / "kb").is_dir()
DATA_ROOT = ROOT if IN_CHECKOUT else PACKAGED_DATA


def _dir(variable: str, default: Path) -> Path:
    value = os.environ.get(variable)
    return Path(value).expanduser().resolve() if value else default


KB_DIR = _dir("MEDTECH_KB", DATA_ROOT / "kb")
DOCUMENTS_DIR = KB_DIR / "documents"
RULES_DIR = KB_DIR / "rules"
SCHEMA_DIR = KB_DIR / "schema"
CATALOGS_DIR = _dir("MEDTECH_CATALOGS", DATA_ROOT / "catalogs")
DIAGRAMS_DIR = DATA_ROOT / "diagrams"
EXAMPLES_DIR = DATA_ROOT / "examples"
SOURCES_DIR = KB_DIR / "sources"  # the source texts, verbatim, as published (kb/sources/README.md)


def relative(path: str | Path) -> str:
    """A path as shown in messages: relative to the repository root when inside it, else absolute."""
    p = Path(path).resolve()
    try:
        return str(p.relative_to(ROOT))
    except ValueError:
        return str(p)
