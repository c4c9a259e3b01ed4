"""Where the project's data lives, relative to the repository root."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KB_DIR = ROOT / "kb"
DOCUMENTS_DIR = KB_DIR / "documents"
RULES_DIR = KB_DIR / "rules"
SCHEMA_DIR = KB_DIR / "schema"
CATALOGS_DIR = ROOT / "catalogs"
DIAGRAMS_DIR = ROOT / "diagrams"
SEEDS_DIR = Path(os.environ.get("MEDTECH_SEEDS", ROOT.parent / "shared" / "seeds"))


def relative(path: str | Path) -> str:
    """A path as shown in messages: relative to the repository root when inside it."""
    p = Path(path).resolve()
    try:
        return str(p.relative_to(ROOT))
    except ValueError:
        return str(p)
