"""The register and ledger pages in a real browser (Debian's chromium driven by Playwright, as tests/test_browser.py):
the ledger template filled with ten rows is uploaded, the rows are answered on the page and the three results
download; the register page filters and prints.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import screenshots  # noqa: E402  (scripts/screenshots.py: server and browser helpers)

pytestmark = pytest.mark.skipif(os.environ.get("MEDTECH_SKIP_BROWSER") == "1", reason="MEDTECH_SKIP_BROWSER=1")


@pytest.fixture(scope="module")
def base():
    if screenshots.missing_tools():
        subprocess.run(["bash", str(ROOT / "scripts" / "setup.sh"), "--browser"], capture_output=True, text=True)
        if screenshots.missing_tools():
            pytest.fail(f"browser tests need {', '.join(screenshots.missing_tools())}")
    with screenshots.serve() as url:
        yield url


@pytest.fixture
def page(base):
    with screenshots.browser(screenshots.DESKTOP, accept_downloads=True) as ctx:
        p = ctx.new_page()
        p.set_default_timeout(30_000)
        p.route(lambda u: not u.startswith(base + "/"), lambda route: route.abort())
        yield p


def ten_rows(path: Path) -> Path:
    """The template (engine.ledger.output.template) with its example row replaced by ten rows (tests/test_ledger.py)."""
    from openpyxl import load_workbook

    from engine.ledger.output import template
    from test_ledger import ROWS

    wb = load_workbook(io.BytesIO(template()))
    ws = wb.worksheets[0]
    headers = [c.value for c in ws[1]]
    ws.delete_rows(2)
    for r in ROWS:
        cells = dict(zip(["技术名称或编号", "手术分级", "首例日期", "备案日期", "是否本机构首次"], r, strict=True))
        ws.append([cells.get(h) for h in headers])
    wb.save(path)
    return path


def _fill(page, base, ledger: Path) -> None:
    page.goto(base + "/ledger")
    page.select_option("#l-jurisdiction", "hunan")
    page.fill("#l-inst_name", "某市第一人民医院")
    page.select_option("#l-category", "hospital")
    page.select_option("#l-level", "3")
    page.fill("#l-as_of", "2025-03-10")
    page.set_input_files("#l-file", str(ledger))


def test_upload_ten_rows_and_download_the_results(page, base, tmp_path):
    from openpyxl import load_workbook

    ledger = ten_rows(tmp_path / "台账.xlsx")
    _fill(page, base, ledger)
    page.click("#l-view")
    page.wait_for_selector("#l-rows")
    text = page.inner_text("#l-rows")
    # hand-worked in tests/test_ledger.py: 15 working days from each first case
    for due in ("2025-03-24", "2025-03-26", "2025-03-20", "2025-03-31"):
        assert due in text
    assert "第 9 行" in page.inner_text("#l-bad") and "第 10 行" in page.inner_text("#l-bad")
    assert page.inner_text("#l-acts tbody tr:first-child").split("\t")[0].strip() == "7"  # the prohibition leads
    downloads = {}
    for fmt in ("xlsx", "csv", "ics"):
        _fill(page, base, ledger)
        with page.expect_download() as info:
            page.click(f"#l-dl-{fmt}")
        downloads[fmt] = Path(info.value.path()).read_bytes()
    wb = load_workbook(io.BytesIO(downloads["xlsx"]))
    assert wb.sheetnames == ["台账", "全部事项", "无法读取的行"]
    assert "限制类技术：须于 2025-03-24 前向发证部门备案" in downloads["csv"].decode("utf-8-sig")
    assert b"BEGIN:VEVENT" in downloads["ics"] and b"DTSTART;VALUE=DATE:20250324" in downloads["ics"]


def test_template_downloads_from_the_page(page, base):
    page.goto(base + "/ledger")
    with page.expect_download() as info:
        page.click("a[href='/ledger/template.xlsx']")
    assert Path(info.value.path()).read_bytes()[:2] == b"PK"


def test_register_page_filters_and_prints(page, base, tmp_path):
    page.goto(base + "/register?jurisdiction=shanghai&as_of=" + dt.date(2025, 3, 10).isoformat())
    page.select_option("select[name=origin]", "adds")
    page.click("button.primary")
    page.wait_for_load_state()
    assert page.locator("tr.origin-adds").count() == 1  # 第四十一条: the third-party assessment
    assert "第三方机构" in page.inner_text("table.reg")
    pdf = tmp_path / "register.pdf"
    page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
    assert pdf.stat().st_size > 10_000
