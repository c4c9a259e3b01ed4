"""The knowledge-base version: kb/version.yaml, its schema, its CHANGELOG section, the responses."""

from __future__ import annotations

import re
from pathlib import Path

from engine.kb.loader import kb_version, version_problems
from engine.kb.schemas import schema_errors
from engine.yamlio import load_yaml

ROOT = Path(__file__).resolve().parent.parent


def test_version_file_is_valid():
    assert version_problems() == []
    assert kb_version() == load_yaml(ROOT / "kb" / "version.yaml")["version"]


def test_schema_refuses_a_malformed_version():
    assert schema_errors("version", {"version": "0.2"})
    assert schema_errors("version", {"version": "0.2.0", "date": "2026-12-01"})
    assert schema_errors("version", {}) and not schema_errors(
        "version", {"version": "10.0.1", "current_to": "2026-12-06"}
    )
    # current_to is required: every answer says how current it is
    assert schema_errors("version", {"version": "10.0.1"})
    assert schema_errors("version", {"version": "10.0.1", "current_to": "2026-12"})


def test_changelog_top_section_is_the_current_version():
    """Bumping kb/version.yaml comes with a CHANGELOG.md section saying what changed."""
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    sections = re.findall(r"^## (\d+\.\d+\.\d+) — (\d{4}-\d{2}-\d{2})$", text, re.M)
    assert sections, "CHANGELOG.md has no `## X.Y.Z — YYYY-MM-DD` section"
    assert sections[0][0] == kb_version()
    versions = [tuple(map(int, v.split("."))) for v, _ in sections]
    assert versions == sorted(versions, reverse=True) and len(set(versions)) == len(versions)


def test_responses_report_the_version():
    from engine import decide

    r = decide({"as_of": "2025-03-10", "institution": {"jurisdiction": "hunan"}})
    assert r["knowledge_base"]["version"] == load_yaml(ROOT / "kb" / "version.yaml")["version"]
    assert r["knowledge_base"]["digest"].startswith("sha256:")


def test_kb_check_warns_when_current_to_is_a_year_old():
    """kb/version.yaml current_to is 2026-12-06: on 2027-12-06 it is exactly a year old (no warning yet),
    on 2027-12-07 more than a year (a warning naming the file and the day)."""
    import datetime as dt

    from engine.checks import currency_warnings
    from engine.kb.loader import kb_current_to

    assert kb_current_to() == "2026-12-06"
    assert currency_warnings(dt.date(2027, 12, 6)) == []
    (warning,) = currency_warnings(dt.date(2027, 12, 7))
    assert "kb/version.yaml" in warning and "2026-12-06" in warning


def test_responses_say_how_current_they_are():
    from engine import decide

    kb = decide({"as_of": "2025-03-10", "institution": {"jurisdiction": "hunan"}})["knowledge_base"]
    assert kb["current_to"] == "2026-12-06"
    assert [n["id"] for n in kb["national_notices"]] == ["nhc-2022-list", "nhc-2025-282", "nhc-2025-jejunoileal"]
    assert [n["in_force_from"] for n in kb["national_notices"]] == ["2022-04-20", "2025-07-08", "2025-07-08"]
