"""The web page in a real browser: Debian's chromium driven by Playwright (executable_path; Playwright's
own browser download is never used), against a live uvicorn on a free loopback port.

The browser is test equipment: when chromium or pdftoppm is missing, the fixture installs them with
`bash scripts/setup.sh --browser` (apt). Set MEDTECH_SKIP_BROWSER=1 to skip these tests on a machine
where that is impossible.
"""
from __future__ import annotations

import base64
import datetime as dt
import os
import re
import subprocess
import sys
import urllib.parse
from pathlib import Path

import chinese_calendar
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import screenshots  # noqa: E402  (scripts/screenshots.py: server, browser and screenshot helpers)

pytestmark = pytest.mark.skipif(os.environ.get("MEDTECH_SKIP_BROWSER") == "1", reason="MEDTECH_SKIP_BROWSER=1")


@pytest.fixture(scope="module")
def tools():
    if screenshots.missing_tools():
        proc = subprocess.run(["bash", str(ROOT / "scripts" / "setup.sh"), "--browser"], capture_output=True, text=True)
        lacking = screenshots.missing_tools()
        if lacking:
            pytest.fail(f"browser tests need {', '.join(lacking)}; `bash scripts/setup.sh --browser` said:\n"
                        f"{proc.stdout[-1500:]}{proc.stderr[-1500:]}")


@pytest.fixture(scope="module")
def base(tools):
    with screenshots.serve() as url:
        yield url


@pytest.fixture(scope="module")
def context(base):
    with screenshots.browser(screenshots.DESKTOP) as ctx:
        yield ctx


@pytest.fixture
def page(context, base):
    """A fresh tab that records every request it makes; at the end, none may leave the page's origin."""
    p = context.new_page()
    p.set_default_timeout(30_000)
    requests: list[str] = []
    p.on("request", lambda r: requests.append(r.url))
    # nothing leaves the machine, even when a test fails: outside requests are recorded, then refused
    p.route(lambda u: not u.startswith(base + "/"), lambda route: route.abort())
    p.requests = requests
    yield p
    p.close()
    outside = [u for u in requests if not (u.startswith(base + "/") or u.startswith(("data:", "blob:", "about:")))]
    assert not outside, f"requests outside {base}: {outside}"


def due_after(day: dt.date, working_days: int) -> dt.date:
    """The Nth working day after `day` (chinese_calendar: the State Council's arrangement)."""
    while working_days:
        day += dt.timedelta(days=1)
        working_days -= chinese_calendar.is_workday(day)
    return day


def test_fill_the_form_and_read_the_verdict(page, base):
    page.goto(base + "/")
    page.select_option("#f-jurisdiction", "hunan")
    page.fill("#f-inst_name", "某市第一人民医院")
    page.select_option("#f-level", "3")
    page.locator("#f-tech").press_sequentially("冠心病介入治疗", delay=20)
    # suggestions as they type, from /v1/technologies on the same origin
    # (a locator wait: the page's CSP forbids the eval that wait_for_function's string would need)
    page.locator("#tech-hint").filter(has_text="冠心病介入治疗技术").wait_for()
    assert page.locator("#tech-list option").count() >= 1
    page.check("input[name=first_in_institution][value=yes]")
    page.locator("select[name=ev]").first.select_option("first_clinical_use")
    page.locator("input[name=ed]").first.fill("2025-03-03")
    page.fill("#f-as_of", "2025-03-10")
    page.click("form#ask button[type=submit]")
    page.wait_for_selector("#verdict")
    verdict = page.inner_text("#verdict")
    due = due_after(dt.date(2025, 3, 3), 15)  # 《办法》第十一条第一款: 首例之日起15个工作日内
    assert due.isoformat() in verdict and "备案" in verdict, verdict
    # the URL carries the request: a colleague opening it sees the same answer
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(page.url).query))
    assert query["jurisdiction"] == "hunan" and query["tech"] == "冠心病介入治疗" and query["ed"] == "2025-03-03"
    again = page.context.new_page()
    again.goto(page.url)
    assert again.inner_text("#verdict") == verdict
    again.close()
    assert "还剩 14 天" in page.inner_text(".sec-now")


def test_quote_one_click_away_and_full_text_linked(page, base):
    page.goto(f"{base}/?{screenshots.query(screenshots.EXAMPLE)}")
    cite = page.locator(".sec-now details.cite").first
    quote = cite.locator("blockquote")
    assert not quote.is_visible()
    cite.locator("summary").click()
    assert quote.is_visible() and "15个工作日内" in quote.inner_text()
    cite.locator("a.full").click()
    page.wait_for_url("**/provisions/nhc-2018-1/art_11__para_1")
    assert "第十一条第一款" in page.inner_text("h2") and page.locator("mark").count() == 1


def test_follow_a_missing_fact_question(page, base):
    page.goto(f"{base}/?{screenshots.query(screenshots.MISSING)}")
    assert "尚不能确定" in page.inner_text("#verdict")
    box = page.locator("form#missing")
    assert box.is_visible() and "手术分级" in box.inner_text()
    assert page.locator("#q-grade.ask").count() == 1  # highlighted in the form too
    box.locator("select[name=grade]").select_option("4")
    box.locator("button[type=submit]").click()
    page.wait_for_url("**grade=4**")
    assert "尚不能确定技术类别" not in page.inner_text("#verdict")
    assert page.inner_text(".class") == "限制类技术"  # Shanghai lists digestive endoscopy at grade 4


def test_bad_input_is_shown_beside_the_field(page, base):
    pairs = [p for p in screenshots.EXAMPLE if p[0] != "as_of"] + [("as_of", "2025-02-30")]
    resp = page.goto(f"{base}/?{screenshots.query(pairs)}")
    assert resp.status == 422
    err = page.locator("#err-as_of")
    assert err.is_visible() and "不是存在的日期" in err.inner_text()
    assert page.locator("#verdict").count() == 0
    assert "Traceback" not in page.content()


def test_add_an_event_row_and_only_questions_that_matter(page, base):
    page.goto(base + "/")
    rows = page.locator("#ev-rows .ev-row")
    n = rows.count()
    page.click("#ev-add")
    assert rows.count() == n + 1
    # 本省（市）首次开展 matters only where a rule uses it (Shanghai's third-party assessment)
    page.select_option("#f-jurisdiction", "shanghai")
    assert page.locator("#q-first_in_jurisdiction").is_visible()
    page.select_option("#f-jurisdiction", "hunan")
    assert not page.locator("#q-first_in_jurisdiction").is_visible()
    assert page.locator("#q-first_in_jurisdiction input").first.is_disabled()


def test_print_to_pdf_is_a_clean_a4_memo(page, base, tmp_path):
    page.goto(f"{base}/?{screenshots.query(screenshots.EXAMPLE)}")
    page.emulate_media(media="print")
    assert not page.locator("form#ask").is_visible() and not page.locator("header.site").is_visible()
    assert page.locator(".memo-title").is_visible()
    pdf = tmp_path / "answer.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True, prefer_css_page_size=True)
    assert pdf.read_bytes()[:5] == b"%PDF-"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    size = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info)
    w, h = float(size.group(1)), float(size.group(2))
    assert abs(w - 595.28) < 1.5 and abs(h - 841.89) < 1.5, info  # A4 (210 x 297 mm) in points
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "合规意见" in text and "2025-03-24" in text and "材料清单" in text
    assert "修改查询" not in text and "打印合规意见" not in text  # no form, no buttons on paper
    pngs = screenshots.pdf_to_png(pdf, tmp_path / "page", 1, 1)
    assert pngs and pngs[0].stat().st_size > 10_000


def test_downloads_from_the_page(page, base):
    page.goto(f"{base}/?{screenshots.query(screenshots.EXAMPLE)}")
    with page.expect_download() as dl:
        page.click("a.dl[href^='/export?fmt=docx']")
    download = dl.value
    assert download.suggested_filename.endswith(".docx")
    import docx
    doc = docx.Document(download.path())
    body = "\n".join(p.text for p in doc.paragraphs) + "".join(c.text for t in doc.tables for r in t.rows for c in r.cells)
    assert "2025-03-24" in body


def test_docs_pages_work_offline(page, base):
    # Swagger UI and ReDoc come from the project (engine.service.docs); the fixture refuses and
    # reports any request that leaves the service
    resp = page.goto(base + "/docs")
    assert resp.status == 200
    page.wait_for_selector(".swagger-ui .info .title")
    assert "medtech-rules" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector(".opblock-summary-path")
    assert page.locator(".opblock-summary-path").count() >= 10
    resp = page.goto(base + "/redoc")
    assert resp.status == 200
    page.wait_for_selector("text=Answer one decision request", state="attached")
    page.wait_for_load_state("networkidle")


def test_compare_view_from_the_answer(page, base):
    page.goto(base + "/?" + urllib.parse.urlencode([
        ("as_of", "2025-03-20"), ("jurisdiction", "hunan"), ("level", "3"), ("tech", "质子和重离子加速器放射治疗技术"),
        ("ev", "first_clinical_use"), ("ed", "2025-03-03"), ("ev", "filing_submitted"), ("ed", "2025-03-12")]))
    page.click("text=各地对比")
    page.wait_for_selector("table.cmp")
    heads = page.locator("table.cmp thead th").all_inner_texts()
    assert heads == ["事项", "全国", "重庆市", "湖南省", "上海市", "吉林省"]
    # sh-2024-13 第十六条第一款: Shanghai completes a filing on the spot; elsewhere within 15 working days
    row = page.locator("table.cmp tr", has=page.locator("strong", has_text="完成备案")).first
    assert "当场予以备案" in row.inner_text() and "自收到完整备案材料之日起15个工作日内" in row.inner_text()
    page.uncheck("input[name=cj][value=national]")
    page.click("text=更新对比")
    page.wait_for_selector("table.cmp")
    assert "全国" not in page.locator("table.cmp thead").inner_text()


# Compares two PNGs in the browser: both scaled down 4x (smoothing absorbs anti-aliasing), the share of
# pixels whose colour differs noticeably. Layout or text changes move far more than a few percent.
_DIFF_JS = """async ([a, b]) => {
  const load = src => new Promise((ok, bad) => { const i = new Image(); i.onload = () => ok(i); i.onerror = bad; i.src = src; });
  const [x, y] = await Promise.all([load(a), load(b)]);
  if (x.naturalWidth !== y.naturalWidth || x.naturalHeight !== y.naturalHeight) return 1;
  const w = Math.ceil(x.naturalWidth / 4), h = Math.ceil(x.naturalHeight / 4);
  const pixels = img => {
    const c = document.createElement("canvas"); c.width = w; c.height = h;
    const g = c.getContext("2d"); g.imageSmoothingQuality = "high"; g.drawImage(img, 0, 0, w, h);
    return g.getImageData(0, 0, w, h).data;
  };
  const p = pixels(x), q = pixels(y);
  let differ = 0;
  for (let i = 0; i < p.length; i += 4) {
    if (Math.abs(p[i] - q[i]) + Math.abs(p[i + 1] - q[i + 1]) + Math.abs(p[i + 2] - q[i + 2]) > 60) differ++;
  }
  return differ / (w * h);
}"""


def image_difference(page, a: Path, b: Path) -> float:
    def data_url(path: Path) -> str:
        return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()
    return page.evaluate(_DIFF_JS, [data_url(a), data_url(b)])


def test_screenshots_script(base, page, tmp_path):
    # run as people run it (a separate process: one Playwright per process)
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "screenshots.py"), "--url", base, "-o", str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    shots = {p.stem: p for p in tmp_path.glob("*.png")}
    assert png_size(shots["desktop"]) == (1366, 900)
    assert png_size(shots["phone"]) == (390 * 2, 844 * 2)
    assert shots["print-1"].exists() and shots["chart"].exists() and shots["missing"].exists()
    committed = ROOT / "docs" / "screenshots"
    for name in ("desktop.png", "phone.png", "print-1.png", "missing.png", "chart.png"):
        assert (committed / name).exists(), f"docs/screenshots/{name}: run scripts/screenshots.py"
        assert png_size(committed / name) == png_size(tmp_path / name), name
    # the committed screenshots show what the page shows now (regenerate them when it changes)
    for name in ("desktop.png", "phone.png", "missing.png", "print-1.png"):
        share = image_difference(page, committed / name, tmp_path / name)
        assert share < 0.03, f"docs/screenshots/{name} differs from the page in {share:.1%} of its area: run scripts/screenshots.py"


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
