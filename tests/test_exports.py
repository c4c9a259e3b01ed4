"""Exports (contract section 1): the text of the README example, md/docx memo, csv, ics, batch csv/xlsx, HTTP Accept.

Files are loaded back with the programs' own libraries (python-docx, openpyxl, icalendar, csv); expected
dates are worked out from the calendar (chinese_calendar) and the provisions' wording, not copied from output.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from calendar_oracle import nth_working_day_after
from engine import decide
from engine.render.answer import build_answer
from engine.render.calendar import render_ics
from engine.render.exports import EXPORTS, format_for_accept, render_export

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_FILE = ROOT / "examples" / "request.yaml"
EXAMPLE = json.loads(json.dumps(yaml.safe_load(EXAMPLE_FILE.read_text(encoding="utf-8")), default=str))
SCENARIO_FILES = sorted((ROOT / "tests" / "scenarios").glob("*.yaml"))
# Latin words: rule ids (nhc.file-restricted), eIds (art_11__para_1), document ids, English. Catalogue codes
# (S19, G05) and abbreviations (ECMO) are not words; they are matched by CODE and allowed.
LATIN = re.compile(r"[A-Za-z][A-Za-z0-9_\-.]*[A-Za-z_]")
CODE = re.compile(r"[A-Z]{1,6}\d*")  # catalogue codes (S19) and abbreviations (ECMO, PCI)


# nhc-2018-1 art_11__para_1: 开展首例临床应用之日起15个工作日内 备案; the example's first case is 2025-03-03
FILING_DUE = nth_working_day_after(dt.date(2025, 3, 3), 15)


def medtech(*args, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", *args],
        input=stdin.encode("utf-8") if stdin else None,
        capture_output=True,
        cwd=ROOT,
        timeout=120,
    )


def latin_words(text: str, allowed: list[str]) -> list[str]:
    for a in allowed:
        text = text.replace(a, "")
    return [w for w in LATIN.findall(text) if not CODE.fullmatch(w)]


@pytest.fixture(scope="module")
def example_response():
    return decide(EXAMPLE)


# --------------------------------------------------------------------------- text


def test_readme_example_fits_one_screen_and_is_plain_chinese():
    proc = medtech("decide", str(EXAMPLE_FILE))
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.decode("utf-8")
    lines = text.splitlines()
    assert len(lines) <= 40, len(lines)
    assert lines[0] == f"结论：限制类技术：须于 {FILING_DUE.isoformat()} 前向发证部门备案"
    assert text.index("现在要做") < text.index("应已完成（请核实）")
    assert "《办法》第十一条第一款" in text
    assert latin_words(text, []) == []
    assert "「" not in text  # quotes only with --full


def test_full_text_has_quotes_consequences_and_reasoning_without_ids():
    proc = medtech("decide", str(EXAMPLE_FILE), "--full")
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.decode("utf-8")
    assert "「对限制类技术实施备案管理。" in text and "法律责任：" in text and "推理过程" in text
    digest = re.search(r"sha256:[0-9a-f]+", text).group(0)
    assert latin_words(text, [digest]) == []


def _scenario_requests():
    for path in SCENARIO_FILES:
        for sc in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            if isinstance(sc.get("request"), dict) and not sc.get("expect", {}).get("errors"):
                yield sc["id"], sc["request"]


def test_no_ids_or_english_in_the_text_of_any_scenario():
    from engine import InvalidRequest
    from engine.render.text import render_text

    checked = 0
    for sid, req in _scenario_requests():
        try:
            response = decide(req)
        except InvalidRequest:
            continue
        tech = req.get("technology") or {}
        own = [str(tech.get("name") or ""), str(tech.get("code") or ""), response["knowledge_base"]["digest"]]
        own += [
            li["name"] for li in (response["technology"] or {}).get("listings") or []
        ]  # catalogue wording, verbatim
        for full in (False, True):
            text = render_text(response, full=full, request=req)
            assert latin_words(text, [o for o in own if o]) == [], (sid, full, latin_words(text, own))
            assert "None" not in text and "True" not in text and "False" not in text, sid
        checked += 1
    assert checked > 100


def test_cli_errors_are_chinese_with_paths():
    bad = {"institution": {"jurisdiction": "广东", "level": 5}, "events": [{"type": "x", "date": "2025-02-30"}]}
    proc = medtech("decide", stdin=json.dumps(bad, ensure_ascii=False))
    assert proc.returncode == 2
    lines = proc.stderr.decode("utf-8").splitlines()
    by_path = {line.split(": ", 1)[0]: line.split(": ", 1)[1] for line in lines}
    assert set(by_path) == {"institution.jurisdiction", "institution.level", "events.0.type", "events.0.date"}
    assert "广东" in by_path["institution.jurisdiction"] and "hunan（湖南省）" in by_path["institution.jurisdiction"]
    assert "空（未定级）" in by_path["institution.level"]
    for message in by_path.values():
        assert "None" not in message and "is not" not in message
    proc = medtech("decide", stdin="as_of: 1900-01-01\ninstitution: {jurisdiction: hunan}\n")
    assert proc.returncode == 2
    line = proc.stderr.decode("utf-8").strip()
    assert line.startswith("as_of: 查询日期：“1900-01-01”超出支持的日期范围"), line
    # tools asking for JSON keep the engine's messages
    proc = medtech("decide", "--format", "json", stdin=json.dumps(bad, ensure_ascii=False))
    assert "is not a supported jurisdiction" in proc.stderr.decode("utf-8")


# --------------------------------------------------------------------------- csv, md, docx, ics


def _excel_rows(body: bytes) -> list[dict]:
    """Rows of a CSV read as Excel reads a UTF-8 file with a byte-order mark (the BOM is not part of the header)."""
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def test_csv_one_row_per_obligation(example_response):
    body, media, name = render_export(example_response, "csv", request=EXAMPLE)
    assert media.startswith("text/csv") and name.endswith(".csv")
    rows = _excel_rows(body)
    assert len(rows) == len(example_response["obligations"])
    filing = [r for r in rows if r["事项代码"] == "file"]
    assert len(filing) == 1 and filing[0]["截止日期"] == FILING_DUE.isoformat()
    assert filing[0]["医疗机构"] == EXAMPLE["institution"]["name"]
    assert "《办法》第十一条第一款" in filing[0]["依据"]
    assert all(r["依据"] for r in rows)


def test_csv_opens_in_excel_with_chinese_headers_and_values(example_response):
    """UTF-8 with a BOM (Excel on a Chinese Windows otherwise guesses GBK); Chinese headers; Chinese values
    in every column people read, the vocabulary codes only in the trailing columns."""
    body = render_export(example_response, "csv", request=EXAMPLE)[0]
    assert body.startswith(b"\xef\xbb\xbf")
    header = next(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert header[:4] == ["请求序号", "医疗机构", "所在地区", "医疗技术"]
    assert all(re.search(r"[\u4e00-\u9fff]", h) for h in header), header
    assert header[-3:] == ["事项代码", "对象代码", "状态代码"]
    rows = _excel_rows(body)
    filing = [r for r in rows if r["事项代码"] == "file"][0]
    assert filing["事项"] == "限制类技术备案" and filing["状态"] == "待办"
    assert filing["报送/提交对象"].startswith("核发《医疗机构执业许可证》的")
    codes = {"file", "license_issuer", "to_confirm", "pending", "self_assess", "ethics_review", "demonstrate"}
    people = [h for h in header if h not in ("事项代码", "对象代码", "状态代码")]
    assert not any(r[h] in codes for r in rows for h in people)
    assert b"\r\n" in body  # RFC 4180 line ends


def test_markdown_memo(example_response):
    md = render_export(example_response, "md", request=EXAMPLE)[0].decode("utf-8")
    assert md.startswith("# 医疗技术临床应用合规意见")
    assert f"须于 {FILING_DUE.isoformat()} 前向发证部门备案" in md
    assert "- [ ] 《湖南省限制类医疗技术临床应用备案表》（附件2）" in md
    assert "> 《办法》第十一条第一款：“对限制类技术实施备案管理。" in md
    assert "「" not in md and "」" not in md  # mainland quotation marks
    assert md.index("## 结论") < md.index("| 医疗机构 |")  # the verdict first, in bold
    assert "**限制类技术：须于" in md


def test_docx_memo_loads_back(example_response, tmp_path):
    import docx

    body, media, name = render_export(example_response, "docx", request=EXAMPLE)
    assert media == EXPORTS["docx"].media_type and name.endswith(".docx")
    path = tmp_path / name
    path.write_bytes(body)
    document = docx.Document(str(path))
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[0] == "医疗技术临床应用合规意见"
    assert f"限制类技术：须于 {FILING_DUE.isoformat()} 前向发证部门备案" in paragraphs
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    assert EXAMPLE["institution"]["name"] in cells and "《办法》第十一条第一款；《湖南通知》二、（二）第二段" in cells
    assert document.sections[0].page_width.cm == pytest.approx(21.0, abs=0.05)
    # the verdict under 结论, at the top and in bold
    verdict = f"限制类技术：须于 {FILING_DUE.isoformat()} 前向发证部门备案"
    assert paragraphs.index(verdict) < 4 and paragraphs.index("结论") == paragraphs.index(verdict) - 1
    assert all(r.bold for r in document.paragraphs[paragraphs.index(verdict)].runs)
    # the label column narrow, the text column the rest of the 15.8 cm between the margins
    table = document.tables[0]
    assert table.columns[0].width.cm == pytest.approx(2.6, abs=0.05)
    assert table.columns[1].width.cm == pytest.approx(13.2, abs=0.05)
    # mainland quotation marks
    body = "\n".join(paragraphs)
    assert "：“对限制类技术实施备案管理。" in body and "「" not in body
    # fonts: the East Asian font named on each run, and declared with its Windows name and a GB2312 charset
    from docx.oxml.ns import qn

    run = document.paragraphs[paragraphs.index(verdict)].runs[0]
    assert run._element.rPr.rFonts.get(qn("w:eastAsia")) == "黑体"
    fonts = document.part.part_related_by(
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships/fontTable"
    ).blob.decode("utf-8")
    for name, alt in (("宋体", "SimSun"), ("黑体", "SimHei"), ("楷体", "KaiTi")):
        assert re.search(
            rf'<w:font w:name="{name}">\s*<w:altName w:val="{alt}"/>.*?<w:charset w:val="86"/>', fonts, re.S
        )


def _ics(response: dict, request: dict | None = None):
    from icalendar import Calendar

    return Calendar.from_ical(render_export(response, "ics", request=request)[0])


def _alarm_moments(event) -> list[dt.datetime]:
    """When each alarm of an all-day event rings, in the calendar's local time (the start of the day + trigger)."""
    start = dt.datetime.combine(event.decoded("DTSTART"), dt.time(0, 0))
    return sorted(start + a.decoded("TRIGGER") for a in event.walk("VALARM"))


def test_ics_reminders_on_the_due_dates(example_response):
    body, media, _ = render_export(example_response, "ics", request=EXAMPLE)
    assert media.startswith("text/calendar")
    cal = _ics(example_response, EXAMPLE)
    assert cal["X-WR-TIMEZONE"] == "Asia/Shanghai"
    events = list(cal.walk("VEVENT"))
    dated = [o for o in example_response["obligations"] if o["due"] and o["status"] != "done"]
    assert len(events) == len(dated)
    filing = [e for e in events if "限制类技术备案" in str(e["SUMMARY"])]
    assert len(filing) == 1
    assert filing[0].decoded("DTSTART") == FILING_DUE
    assert filing[0].decoded("DTEND") == FILING_DUE + dt.timedelta(days=1)
    # 09:00 a week and a day before 2025-03-24, both after the day asked (2025-03-10)
    assert _alarm_moments(filing[0]) == [dt.datetime(2025, 3, 17, 9, 0), dt.datetime(2025, 3, 23, 9, 0)]
    # the verdict, in the calendar's and in each event's description
    verdict = f"限制类技术：须于 {FILING_DUE.isoformat()} 前向发证部门备案"
    assert verdict in str(cal["X-WR-CALDESC"]) and verdict in str(filing[0]["DESCRIPTION"])
    # the steps before the first case (nhc-2018-1 art_11__para_1 自我评估, art_21 论证) fall the day before it:
    # dated, so on the calendar, but to confirm, in the past: no alarm
    confirm = [e for e in events if str(e["SUMMARY"]).startswith("【请核实】")]
    assert confirm and all(e.decoded("DTSTART") == dt.date(2025, 3, 2) for e in confirm)
    assert all(not e.walk("VALARM") for e in confirm)
    assert render_export(example_response, "ics", request=EXAMPLE)[0] == body  # deterministic


def test_ics_response_verdict_wins():
    """A response carrying its own `verdict` (contract section 4) is quoted as it stands."""
    response = dict(decide(EXAMPLE))
    response["verdict"] = {"text": "须立即停止该技术临床应用", "action": "stop", "due": None, "status": "immediate"}
    cal = _ics(response, EXAMPLE)
    assert "结论：须立即停止该技术临床应用" in str(cal["X-WR-CALDESC"])
    assert all("结论：须立即停止该技术临床应用" in str(e["DESCRIPTION"]) for e in cal.walk("VEVENT"))


def test_ics_no_alarm_for_immediate_items():
    """nhc-2018-1 第二十五条: an efficacy doubt on 2025-06-03 means stopping and reporting at once; those events
    (dated the day of the doubt, before the day asked) ring no alarm."""
    request = yaml.safe_load((ROOT / "examples" / "incident-chongqing.yaml").read_text(encoding="utf-8"))
    request = json.loads(json.dumps(request, default=str))
    response = decide(request)
    immediate = [o for o in response["obligations"] if o["status"] == "immediate"]
    assert immediate
    events = list(_ics(response, request).walk("VEVENT"))
    now = [e for e in events if str(e["SUMMARY"]).startswith("【立即】")]
    assert len(now) == len([o for o in immediate if o["due"]])
    assert all(e.decoded("DTSTART") == dt.date(2025, 6, 3) and not e.walk("VALARM") for e in now)


def test_ics_recurring_duty_one_event_per_occurrence_to_the_horizon():
    """sh-2024-13 第十八条: the previous quarter's cases in each quarter's first week (read as its first 5 working
    days). First case 2025-02-10, asked 2025-06-10: Q1 was due on the 5th working day of April, then every quarter,
    listed to two years after the day asked (2027-06-10), while the rules are in force."""
    request = {
        "as_of": "2025-06-10",
        "institution": {"jurisdiction": "shanghai", "name": "甲医院", "level": 3},
        "technology": {"name": "ECMO"},
        "events": [{"type": "first_clinical_use", "date": "2025-02-10"}],
    }
    response = decide(request)
    events = [e for e in _ics(response, request).walk("VEVENT") if "季度数据" in str(e["SUMMARY"])]
    expected = [
        nth_working_day_after(dt.date(year, month, 1) - dt.timedelta(days=1), 5)
        for year, month in [(2025, 4), (2025, 7), (2025, 10), (2026, 1), (2026, 4), (2026, 7), (2026, 10)]
    ]
    starts = [e.decoded("DTSTART") for e in events]
    assert starts[:7] == expected
    # 2027's arrangement is not published: Q4 2026 and Q1 2027 fall in the first half of January and April
    assert len(starts) == 9 and starts[7].strftime("%Y-%m") == "2027-01" and starts[8].strftime("%Y-%m") == "2027-04"
    assert 7 <= starts[7].day <= 15 and 7 <= starts[8].day <= 15
    # 2025-04 (Q1): 1,2,3, then 清明 4-6 April, 7, 8 -> the 8th; 2025-10 (Q3): 国庆/中秋 1-8 October, 9, 10,
    # 11 (a Saturday worked), 13, 14 -> the 14th
    assert expected[0] == dt.date(2025, 4, 8) and expected[2] == dt.date(2025, 10, 14)
    q1, q2 = events[0], events[1]
    # past and not said done: to confirm, not overdue (nothing says it was not reported)
    assert "2025年第1季度数据" in str(q1["SUMMARY"]) and str(q1["SUMMARY"]).startswith("【请核实】")
    assert not q1.walk("VALARM")  # past: no alarm
    assert _alarm_moments(q2) == [dt.datetime(2025, 6, 30, 9, 0), dt.datetime(2025, 7, 6, 9, 0)]
    assert "2027-06-10" in str(events[-1]["DESCRIPTION"])  # the horizon is stated
    assert len({str(e["UID"]) for e in events}) == len(events)


def test_ics_per_case_duty_is_one_event_per_occurrence_not_done():
    occurrences = [
        {"event_date": "2025-03-03", "due": "2025-03-10", "status": "done"},
        {"event_date": "2025-03-17", "due": "2025-03-24", "status": "pending"},
    ]
    response = {
        "as_of": "2025-03-18",
        "jurisdiction": {"id": "hunan", "name": "湖南省"},
        "documents": [],
        "trace": [],
        "knowledge_base": {"version": "x", "digest": "sha256:0"},
        "technology": None,
        "missing_facts": [],
        "warnings": [],
        "authority_actions": [],
        "obligations": [
            {
                "id": "case-report",
                "action": "case_report",
                "actor": "institution",
                "addressee": "provincial_platform",
                "summary": "逐例报送",
                "due": "2025-03-24",
                "status": "pending",
                "deadline": {"kind": "working_days_after", "text": "出院后5个工作日内", "occurrences": occurrences},
                "materials": [],
                "citations": [{"document": "nhc-2018-1", "eid": "art_37", "label": "第三十七条"}],
                "consequences": [],
            }
        ],
    }
    from icalendar import Calendar

    cal = Calendar.from_ical(render_ics(build_answer(response)))
    (event,) = cal.walk("VEVENT")
    assert event.decoded("DTSTART") == dt.date(2025, 3, 24)
    # asked 2025-03-18: the alarm a week before (03-17) is past, the one a day before (03-23 09:00) is not
    assert _alarm_moments(event) == [dt.datetime(2025, 3, 23, 9, 0)]


# --------------------------------------------------------------------------- batch


def _batch_input(tmp_path) -> tuple[Path, list]:
    requests = [
        EXAMPLE,
        {"institution": {"jurisdiction": "广东"}},
        {
            "as_of": "2025-06-01",
            "institution": {"jurisdiction": "shanghai", "name": "乙医院"},
            "technology": {"name": "ECMO"},
        },
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in requests) + "\n", encoding="utf-8")
    return path, requests


def _expected_rows(requests) -> list[int]:
    from engine import InvalidRequest

    out = []
    for r in requests:
        try:
            out.append(len(decide(r)["obligations"]))
        except InvalidRequest:
            out.append(1)  # one row carrying the errors
    return out


def test_batch_csv_rows_per_obligation_per_request(tmp_path):
    path, requests = _batch_input(tmp_path)
    out = tmp_path / "out.csv"
    proc = medtech("batch", str(path), "--format", "csv", "-o", str(out), "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    rows = _excel_rows(out.read_bytes())
    counts = [sum(1 for r in rows if r["请求序号"] == str(n)) for n in range(1, len(requests) + 1)]
    assert counts == _expected_rows(requests)
    error = [r for r in rows if r["请求序号"] == "2"][0]
    assert error["错误"].startswith("institution.jurisdiction: ") and "广东" in error["错误"]


def test_batch_xlsx_loads_back(tmp_path):
    import openpyxl

    path, requests = _batch_input(tmp_path)
    out = tmp_path / "out.xlsx"
    proc = medtech("batch", str(path), "--format", "xlsx", "-o", str(out), "--workers", "2")
    assert proc.returncode == 0, proc.stderr
    ws = openpyxl.load_workbook(out).active
    header = [c.value for c in ws[1]]
    assert header[:4] == ["请求序号", "医疗机构", "所在地区", "医疗技术"]
    data = [dict(zip(header, (c.value for c in row), strict=True)) for row in ws.iter_rows(min_row=2)]
    assert [sum(1 for r in data if r["请求序号"] == n) for n in range(1, len(requests) + 1)] == _expected_rows(requests)
    filing = [r for r in data if r["请求序号"] == 1 and r["事项代码"] == "file"][0]
    assert filing["截止日期"].date() == FILING_DUE and filing["医疗机构"] == EXAMPLE["institution"]["name"]
    # Chinese values, codes only in the trailing columns; an autofilter over the table; long text wrapped
    assert header[-3:] == ["事项代码", "对象代码", "状态代码"]
    assert filing["事项"] == "限制类技术备案" and filing["状态"] == "待办" and filing["状态代码"] == "pending"
    assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(header))}{ws.max_row}"
    assert ws.freeze_panes == "A2"
    col = {h: openpyxl.utils.get_column_letter(n) for n, h in enumerate(header, 1)}
    row = next(r for r in ws.iter_rows(min_row=2) if r[header.index("事项代码")].value == "file")
    assert row[header.index("材料")].alignment.wrap_text and row[header.index("依据")].alignment.wrap_text
    # widths from the content: a column of short codes is narrower than one of materials, none past 60
    widths = {h: ws.column_dimensions[c].width for h, c in col.items()}
    assert widths["请求序号"] < widths["医疗机构"] < widths["材料"] <= 60
    assert widths["医疗机构"] >= 2 * len(EXAMPLE["institution"]["name"])  # two columns a Chinese character


# --------------------------------------------------------------------------- HTTP


@pytest.mark.parametrize(
    "accept, fmt",
    [
        (None, "json"),
        ("*/*", "json"),
        ("application/json", "json"),
        ("text/plain", "text"),
        ("text/markdown", "md"),
        ("text/csv", "csv"),
        ("text/calendar", "ics"),
        (EXPORTS["docx"].media_type, "docx"),
        ("text/html;q=0.9, text/csv", "csv"),
        ("text/csv;q=0.2, text/markdown;q=0.8", "md"),
        ("image/png", None),
    ],
)
def test_accept_header_choice(accept, fmt):
    assert format_for_accept(accept) == fmt


def test_http_accept_gives_each_export():
    from fastapi.testclient import TestClient

    from engine.service.app import app

    client = TestClient(app)
    for fmt in ("text", "md", "csv", "ics", "docx"):
        media = EXPORTS[fmt].media_type
        r = client.post("/v1/decisions", json=EXAMPLE, headers={"Accept": media.split(";")[0]})
        assert r.status_code == 200 and r.headers["content-type"] == media, fmt
        assert "Accept" in r.headers.get("vary", "")
    r = client.post("/v1/decisions", json=EXAMPLE, headers={"Accept": "text/plain"})
    assert r.text.splitlines()[0] == f"结论：限制类技术：须于 {FILING_DUE.isoformat()} 前向发证部门备案"
    r = client.post("/v1/decisions", json={"institution": {}}, headers={"Accept": "text/csv"})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "institution.jurisdiction"
    content = client.get("/openapi.json").json()["paths"]["/v1/decisions"]["post"]["responses"]["200"]["content"]
    assert {
        "application/json",
        "text/plain",
        "text/markdown",
        "text/csv",
        "text/calendar",
        EXPORTS["docx"].media_type,
    } <= set(content)


def test_http_batch_csv_and_xlsx_through_accept(tmp_path):
    """POST /v1/decisions/batch answers the tracking sheet as the CLI batch does, chosen by Accept."""
    import openpyxl
    from fastapi.testclient import TestClient

    from engine.service.app import app
    from engine.service.batch import XLSX

    _, requests = _batch_input(tmp_path)
    client = TestClient(app)
    r = client.post("/v1/decisions/batch", json={"requests": requests}, headers={"Accept": "text/csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv"), r.text[:300]
    rows = _excel_rows(r.content)
    assert [sum(1 for x in rows if x["请求序号"] == str(n)) for n in range(1, len(requests) + 1)] == _expected_rows(
        requests
    )
    error = [x for x in rows if x["请求序号"] == "2"][0]
    assert error["错误"].startswith("institution.jurisdiction: ") and "广东" in error["错误"]
    filing = [x for x in rows if x["请求序号"] == "1" and x["事项代码"] == "file"][0]
    assert filing["截止日期"] == FILING_DUE.isoformat()

    r = client.post("/v1/decisions/batch", json={"requests": requests}, headers={"Accept": XLSX})
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    path = tmp_path / "http.xlsx"
    path.write_bytes(r.content)
    ws = openpyxl.load_workbook(path).active
    header = [c.value for c in ws[1]]
    data = [dict(zip(header, (c.value for c in row), strict=True)) for row in ws.iter_rows(min_row=2)]
    assert [sum(1 for x in data if x["请求序号"] == n) for n in range(1, len(requests) + 1)] == _expected_rows(requests)

    # JSON stays the default, and a JSON-first Accept keeps it
    r = client.post(
        "/v1/decisions/batch", json={"requests": requests[:1]}, headers={"Accept": "application/json, text/csv"}
    )
    assert r.headers["content-type"].startswith("application/json") and len(r.json()["responses"]) == 1
    content = client.get("/openapi.json").json()["paths"]["/v1/decisions/batch"]["post"]["responses"]["200"]["content"]
    assert {"text/csv", XLSX} <= set(content)


def test_text_immediate_duty_says_immediately_once():
    """An immediate report reads 立即报告（自 <event date> 起）, not 立即报告；立即（… 起）."""
    request = yaml.safe_load((ROOT / "examples" / "incident-chongqing.yaml").read_text(encoding="utf-8"))
    event_day = next(e["date"] for e in request["events"] if e["type"] == "efficacy_doubt")
    proc = medtech("decide", str(ROOT / "examples" / "incident-chongqing.yaml"))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode("utf-8")
    assert f"期限：立即报告（自 {event_day} 起）" in out
    assert "；立即（" not in out


def test_a_deadline_without_a_day_is_said_once():
    """渝卫发〔2019〕61号 三、（三）: 申请录入“备注三” has no period; its line says the provision's words once."""
    request = yaml.safe_load((ROOT / "examples" / "incident-chongqing.yaml").read_text(encoding="utf-8"))
    response = decide(json.loads(json.dumps(request, default=str)))
    for fmt in ("text", "md"):
        body = render_export(response, fmt, request=request)[0].decode("utf-8")
        lines = [x for x in body.splitlines() if "期限" in x and "未规定期限" in x]
        assert lines, fmt
        for line in lines:
            assert line.count("未规定期限") == 1, line
