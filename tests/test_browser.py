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
from playwright.sync_api import expect

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
            pytest.fail(
                f"browser tests need {', '.join(lacking)}; `bash scripts/setup.sh --browser` said:\n"
                f"{proc.stdout[-1500:]}{proc.stderr[-1500:]}"
            )


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
    # (locator waits: the page's CSP allows no eval, so no string predicates)
    expect(page.locator("#tech-hint")).to_contain_text("冠心病介入治疗技术")
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


def test_typo_suggestions_are_in_chinese(page, base):
    """A name the taxonomy does not know gets candidates; their notes speak Chinese (别名), never the ids."""
    page.goto(base + "/")
    page.select_option("#f-jurisdiction", "hunan")
    page.locator("#f-tech").press_sequentially("细胞疗法x", delay=20)
    expect(page.locator("#tech-hint")).to_have_text(re.compile(r"^可能是"))
    labels = page.eval_on_selector_all("#tech-list option", "os => os.map(o => o.label || o.textContent)")
    assert labels and any("（别名）" in x for x in labels), labels
    assert not any(re.search(r"alias of|[a-z]+-[a-z]+", x) for x in labels), labels


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
    # the flowchart on pages of its own, A4 landscape, without the screen's words
    assert "点击查看大图" not in text and "下载幻灯片" not in text
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    sizes = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", str(pages), str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    boxes = [(float(a), float(b)) for a, b in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", sizes)]
    landscape = [n for n, (w, h) in enumerate(boxes, 1) if w > h]
    assert landscape and landscape == list(range(landscape[0], pages + 1)), boxes
    assert all(abs(w - 841.89) < 1.5 and abs(h - 595.28) < 1.5 for w, h in boxes[landscape[0] - 1 :])
    chart_text = subprocess.run(
        ["pdftotext", "-f", str(landscape[0]), "-l", str(landscape[0]), str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "备案流程" in chart_text and "合规意见" not in chart_text.split("备案流程")[0].replace(
        "医疗技术临床应用管理 · 合规意见", ""
    )


def test_slides_download_from_the_page(page, base):
    """The chart's 16:9 slides, one click from the answer (engine.flowchart.slides)."""
    page.goto(f"{base}/?{screenshots.query(screenshots.EXAMPLE)}")
    with page.expect_download() as dl:
        page.click("a[href^='/chart.pdf?']")
    from pypdf import PdfReader

    reader = PdfReader(dl.value.path())
    assert len(reader.pages) > 2
    for p in reader.pages:
        assert float(p.mediabox.width) / float(p.mediabox.height) == pytest.approx(16 / 9, abs=0.001)


def test_downloads_from_the_page(page, base):
    page.goto(f"{base}/?{screenshots.query(screenshots.EXAMPLE)}")
    with page.expect_download() as dl:
        page.click("a.dl[href^='/export?fmt=docx']")
    download = dl.value
    assert download.suggested_filename.endswith(".docx")
    import docx

    doc = docx.Document(download.path())
    body = "\n".join(p.text for p in doc.paragraphs) + "".join(
        c.text for t in doc.tables for r in t.rows for c in r.cells
    )
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
    page.goto(
        base
        + "/?"
        + urllib.parse.urlencode(
            [
                ("as_of", "2025-03-20"),
                ("jurisdiction", "hunan"),
                ("level", "3"),
                ("tech", "质子和重离子加速器放射治疗技术"),
                ("ev", "first_clinical_use"),
                ("ed", "2025-03-03"),
                ("ev", "filing_submitted"),
                ("ed", "2025-03-12"),
            ]
        )
    )
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


def test_compare_on_a_phone_is_one_block_per_jurisdiction(page, base):
    page.set_viewport_size(screenshots.PHONE)
    page.goto(f"{base}/compare?{urllib.parse.urlencode(screenshots.COMPARE)}", wait_until="networkidle")
    assert not page.locator("table.cmp").is_visible()
    cards = page.locator(".cmp-card")
    assert cards.count() == 5 and cards.first.is_visible()
    # nothing wider than the screen, and each block as wide as the page (not 3-4 characters)
    assert page.evaluate("document.documentElement.scrollWidth") <= screenshots.PHONE["width"]
    assert cards.first.bounding_box()["width"] > 300
    assert cards.nth(2).locator("ol.cmp-items").first.is_visible()  # 湖南省, the case's own, is open
    shanghai = cards.nth(3)  # 当场予以备案 differs: listed first
    assert "上海市" in shanghai.locator("h2").inner_text()
    shanghai.locator("summary").first.click()
    assert shanghai.locator("ol.cmp-items li").first.is_visible()
    assert "完成备案" in shanghai.locator("ol.cmp-items").first.inner_text()
    assert not shanghai.locator("details.cmp-same ol").is_visible()  # what is the same is folded away
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 6700, height


def test_compare_prints_the_case_materials_and_whole_rows(page, base, tmp_path):
    page.goto(f"{base}/compare?{urllib.parse.urlencode(screenshots.COMPARE + [('cj', 'hunan'), ('cj', 'shanghai')])}")
    page.emulate_media(media="print")
    assert page.locator("table.cmp").is_visible() and not page.locator(".cmp-cards").is_visible()
    pdf = tmp_path / "compare.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True, prefer_css_page_size=True)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "质子和重离子加速器放射治疗技术" in text and "2025-03-12" in text  # the case is stated
    assert "材料：" in text and "材料 3 项" not in text  # materials printed out
    assert "更新对比" not in text and "返回本例答复" not in text
    pages = text.split("\f")
    assert pages[-1].strip() == "" and all(p.strip() for p in pages[:-1]), [len(p) for p in pages]  # no blank page


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
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "screenshots.py"), "--url", base, "-o", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    shots = {p.stem: p for p in tmp_path.glob("*.png")}
    assert png_size(shots["desktop"]) == (1366, 900)
    assert png_size(shots["phone"]) == (390 * 2, 844 * 2)
    assert shots["print-1"].exists() and shots["chart"].exists() and shots["missing"].exists()
    committed = ROOT / "docs" / "screenshots"
    for name in (
        "desktop.png",
        "phone.png",
        "print-1.png",
        "missing.png",
        "chart.png",
        "downloads.png",
        "new-technique.png",
        "keyboard.png",
        "compare-phone.png",
    ):
        assert (committed / name).exists(), f"docs/screenshots/{name}: run bash scripts/regenerate.sh --screenshots"
        assert png_size(committed / name) == png_size(tmp_path / name), name
    # the committed screenshots show what the page shows now (regenerate them when it changes)
    for name in ("desktop.png", "phone.png", "missing.png", "print-1.png", "new-technique.png", "compare-phone.png"):
        share = image_difference(page, committed / name, tmp_path / name)
        assert share < 0.03, (
            f"docs/screenshots/{name} differs from the page in {share:.1%} of its area: run bash scripts/regenerate.sh --screenshots"
        )


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


# --------------------------------------------------------------------------- accessibility

A11Y_PAGES = [
    ("form", "/"),
    ("answer", "/?" + screenshots.query(screenshots.EXAMPLE)),
    ("missing", "/?" + screenshots.query(screenshots.MISSING)),
    ("new technique", "/?" + screenshots.query(screenshots.NEW_TECHNIQUE)),
    ("compare", "/compare?" + urllib.parse.urlencode(screenshots.COMPARE)),
    ("documents", "/provisions"),
    ("provision", "/provisions/nhc-2018-1/art_11__para_1"),
    ("error", "/compare"),
]


def axe_violations(page) -> list[dict]:
    """axe-core's serious and critical violations on the page (axe.min.js as shipped by the
    axe-playwright-python package: nothing is fetched at run time)."""
    from importlib.resources import files

    script = files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")
    page.evaluate(script)
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_axe_finds_no_serious_violation_on_any_page(page, base, width):
    page.set_viewport_size(screenshots.DESKTOP if width == "desktop" else screenshots.PHONE)
    found = {}
    for name, path in A11Y_PAGES:
        page.goto(base + path, wait_until="networkidle")
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")  # scan what opens too
        violations = axe_violations(page)
        if violations:
            found[name] = violations
    assert not found, found


def test_keyboard_alone_reaches_the_answer(page, base):
    """Skip link first; the form filled and sent with the keyboard; the verdict then read."""
    page.goto(base + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    assert page.locator("a.skip").is_visible()  # shown when focused
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    page.focus("#f-jurisdiction")
    page.keyboard.press("ArrowDown")  # 请选择 -> the first jurisdiction, then on to 湖南省
    page.select_option("#f-jurisdiction", "hunan")  # the value the arrow keys reach; no mouse involved
    page.keyboard.press("Tab")
    page.keyboard.type("某医院")
    page.focus("#f-tech")
    page.keyboard.type("冠心病介入治疗")
    page.focus("#f-as_of")
    page.keyboard.press("Enter")  # submits the form
    page.wait_for_selector("#verdict")
    assert "限制类技术" in page.inner_text("#verdict")
    # every question's radios are reachable and named by their group's legend
    page.goto(base + "/")
    legend = page.locator("#q-major_ethical_risk legend").inner_text()
    radio = page.get_by_role("group", name=legend).get_by_role("radio", name="是")
    radio.focus()
    page.keyboard.press("Space")
    assert radio.is_checked()
