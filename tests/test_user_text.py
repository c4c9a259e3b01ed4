"""User text is data everywhere (issue 22, part 1).

The request schema refuses control characters (a tab aside, in a note) and noncharacters in every
string, naming the path (422 over HTTP, exit 2 from the CLI); every export neutralises what its
format interprets: xlsx cells are text, CSV cells that begin with = + - @ tab or CR are prefixed,
calendar text goes through icalendar's escaping, Graphviz labels are escaped, download names lose
bidirectional controls. A hypothesis test renders every export and chart from generated names.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import InvalidRequest, decide
from engine.render.exports import EXPORTS, filename, render_export
from engine.service import app as service
from engine.textsafe import download_name, printable, spreadsheet_text, unsafe_char
from processes import medtech

ROOT = Path(__file__).resolve().parent.parent
BASE = {
    "as_of": "2025-03-10",
    "institution": {"jurisdiction": "hunan", "level": 3, "name": "湘雅医院"},
    "technology": {"name": "冠心病介入治疗", "surgery_grade": 3},
    "events": [{"type": "first_clinical_use", "date": "2025-03-03", "note": "首例"}],
}
FORMULA = '=HYPERLINK("http://example.invalid/x","点击")'
TEXT_FIELDS = ["institution.name", "technology.name", "technology.code", "events.0.note"]
BAD_CHARS = [
    "\n",
    "\r",
    "\x00",
    "\x01",
    "\x1b",
    "\x7f",
    "\x85",
    "\x9f",
    "\ufdd0",
    "\ufffe",
    "\uffff",
    "\U0001fffe",
    "\U0010ffff",
]


@pytest.fixture(scope="module")
def client():
    with TestClient(service.app) as c:
        yield c


def _with(path: str, value: str, base: dict = BASE) -> dict:
    data = copy.deepcopy(base)
    node = data
    *head, last = path.split(".")
    for key in head:
        node = node[int(key)] if key.isdigit() else node[key]
    node[last] = value
    return data


# --------------------------------------------------------------------------- the request refuses them


@pytest.mark.parametrize("path", TEXT_FIELDS)
@pytest.mark.parametrize("ch", BAD_CHARS, ids=lambda c: f"U+{ord(c):04X}")
def test_control_characters_and_noncharacters_are_refused_with_the_path(path, ch):
    with pytest.raises(InvalidRequest) as exc:
        decide(_with(path, f"a{ch}b"))
    assert [e["path"] for e in exc.value.errors] == [path]
    assert f"U+{ord(ch):04X}" in exc.value.errors[0]["message"]


def test_a_tab_is_allowed_in_a_note_but_not_in_a_name():
    decide(_with("events.0.note", "第一例\t备注"))  # no error
    for path in ("institution.name", "technology.name"):
        with pytest.raises(InvalidRequest) as exc:
            decide(_with(path, "a\tb"))
        assert [e["path"] for e in exc.value.errors] == [path], exc.value.errors
        assert "tab" in exc.value.errors[0]["message"]


def test_a_field_name_with_a_control_character_is_named():
    data = copy.deepcopy(BASE)
    data["institution"]["x\x07"] = 1
    with pytest.raises(InvalidRequest) as exc:
        decide(data)
    assert [e["path"] for e in exc.value.errors] == ["institution.x\\u0007"]


def test_the_schema_carries_the_rule_for_clients():
    schema = json.loads((ROOT / "kb/schema/request.schema.json").read_text(encoding="utf-8"))
    import re

    for node, field in (
        (schema["$defs"]["institution"], "name"),
        (schema["$defs"]["technology"], "name"),
        (schema["$defs"]["technology"], "code"),
        (schema["$defs"]["event"], "note"),
    ):
        pattern = re.compile(node["properties"][field]["pattern"])
        assert pattern.match("冠心病 PCI")
        assert not pattern.match("a\nb") and not pattern.match("\uffff") and not pattern.match("\x85")
    assert not re.match(schema["$defs"]["technology"]["properties"]["name"]["pattern"], "a\tb")
    assert re.match(schema["$defs"]["event"]["properties"]["note"]["pattern"], "a\tb")


@pytest.mark.parametrize(
    "accept",
    [
        "application/json",
        "text/calendar",
        "text/csv",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ],
)
def test_http_422_with_the_path_whatever_the_format(client, accept):
    r = client.post("/v1/decisions", json=_with("technology.name", "PCI\nATTACH:http://x"), headers={"Accept": accept})
    assert r.status_code == 422
    assert [e["path"] for e in r.json()["errors"]] == ["technology.name"]


def test_cli_exit_2_with_the_path(tmp_path):
    req = tmp_path / "r.json"
    req.write_text(json.dumps(_with("institution.name", "医院\u0001")), encoding="utf-8")
    p = medtech("decide", str(req), timeout=120)
    assert p.returncode == 2, p.stderr
    assert "institution.name" in p.stderr and "U+0001" in p.stderr


def test_page_export_of_a_name_with_a_control_character_is_not_a_500(client):
    for fmt in ("ics", "docx", "csv", "md"):
        r = client.get(
            "/export",
            params={
                "fmt": fmt,
                "jurisdiction": "hunan",
                "tech": "PCI\n",
                "as_of": "2025-03-10",
                "inst_name": "医院\u0001",
            },
        )
        assert r.status_code < 500, (fmt, r.status_code)


# --------------------------------------------------------------------------- the exports neutralise them


def test_csv_cells_that_begin_a_formula_are_prefixed():
    response = decide(_with("institution.name", FORMULA))
    body, _, _ = render_export(response, "csv", request=_with("institution.name", FORMULA))
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))  # Chinese headers after a BOM
    assert rows, "no rows"
    assert {r["医疗机构"] for r in rows} == {"'" + FORMULA}
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert spreadsheet_text(start + "1") == "'" + start + "1"
    assert spreadsheet_text("湘雅") == "湘雅" and spreadsheet_text(-3) == -3


def _sheet_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/worksheets/"))


def test_xlsx_batch_cells_are_text_never_formulas(client):
    from engine.service.batch import XLSX

    requests = [_with("institution.name", FORMULA), _with("technology.name", "@SUM(1+1)*cmd|' /C calc'!A0")]
    r = client.post("/v1/decisions/batch", json={"requests": requests}, headers={"Accept": XLSX})
    assert r.status_code == 200
    xml = _sheet_xml(r.content)
    assert "<f>" not in xml and "<f " not in xml
    assert "HYPERLINK" in xml  # there, as text
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(r.content)).active
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def test_cli_batch_xlsx_with_a_bad_line_still_writes_the_others(tmp_path):
    lines = [json.dumps(BASE, ensure_ascii=False)] * 3 + [json.dumps(_with("technology.name", "x\uffff"))]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.xlsx"
    p = medtech("batch", str(src), "--format", "xlsx", "-o", str(out))
    assert p.returncode in (0, 2), p.stderr  # an invalid line is reported, not a crash (exit 1)
    assert "Traceback" not in p.stderr
    assert "technology.name" in _sheet_xml(out.read_bytes())


def _ics_properties(body: bytes) -> list[str]:
    unfolded = body.decode("utf-8").replace("\r\n ", "")
    return [line.split(":", 1)[0].split(";", 1)[0] for line in unfolded.split("\r\n") if line]


def test_ics_escapes_a_line_break_instead_of_asserting():
    response = decide(BASE)
    clean = _ics_properties(render_export(response, "ics")[0])
    hostile = copy.deepcopy(response)  # a caller of the Python API may hand any response in
    hostile["technology"]["query"] = hostile["technology"]["name"] = "PCI\r\nATTACH:http://evil.invalid/x"
    body = render_export(hostile, "ics")[0]
    assert "ATTACH" not in _ics_properties(body)
    assert _ics_properties(body) == clean


def test_graphviz_labels_escape_noncharacters_and_markup():
    from engine.flowchart.render import html_text

    assert html_text("<b>\uffff&\x01</b>") == "&lt;b&gt; &amp; &lt;/b&gt;"


def test_download_names_lose_bidi_controls():
    response = decide(BASE)
    hostile = copy.deepcopy(response)
    hostile["technology"]["name"] = "PCI\u202etxt.exe"
    name = filename(hostile, None, "docx")
    assert "\u202e" not in name and name.endswith(".docx")
    assert download_name("a\u2066b\u200fc/d") == "abcd"


def test_page_download_name_has_no_bidi_control(client):
    r = client.get(
        "/export", params={"fmt": "md", "jurisdiction": "hunan", "tech": "PCI\u202eSLX.exe", "as_of": "2025-03-10"}
    )
    assert "%E2%80%AE" not in r.headers.get("content-disposition", "")


def test_helpers():
    assert printable("a\tb\nc\x85d\ufffe") == "a b c d "
    assert printable("a\tb\nc", lines=True) == "a\tb\nc"
    assert unsafe_char("冠心病") is None and unsafe_char("a\tb") is None and unsafe_char("a\tb", tab=False) == "\t"


# --------------------------------------------------------------------------- fuzz


NAMES = st.text(st.characters(codec="utf-8"), min_size=1, max_size=30)
FORMULA_NAMES = st.builds(lambda s, t: s + t, st.sampled_from(["=", "+", "-", "@", "\t", "\r", ""]), NAMES)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(inst=FORMULA_NAMES, tech=st.one_of(FORMULA_NAMES, st.just("冠心病介入治疗")))
def test_fuzz_every_export_and_chart(client, inst, tech):
    data = _with("technology.name", tech, _with("institution.name", inst))
    for fmt, spec in EXPORTS.items():
        r = client.post("/v1/decisions", json=data, headers={"Accept": spec.media_type.split(";")[0]})
        assert r.status_code < 500, (fmt, r.status_code, r.text[:200])
        if r.status_code != 200:
            assert r.status_code == 422
            continue
        if fmt == "csv":
            for row in csv.reader(io.StringIO(r.text)):
                # days_left is a number the engine writes (-3 is no formula); any other cell is user or KB text
                assert not any(
                    cell.startswith(("=", "+", "-", "@", "\t", "\r")) and not cell.lstrip("-").isdigit() for cell in row
                ), row
        if fmt == "ics":
            props = set(_ics_properties(r.content))
            assert props <= {
                "BEGIN",
                "END",
                "PRODID",
                "VERSION",
                "CALSCALE",
                "X-WR-CALNAME",
                "X-WR-CALDESC",  # the verdict, for the calendar as a whole
                "X-WR-TIMEZONE",
                "UID",
                "DTSTAMP",
                "DTSTART",
                "DTEND",
                "SUMMARY",
                "DESCRIPTION",
                "CATEGORIES",
                "TRANSP",
                "RDATE",
                "ACTION",
                "TRIGGER",
            }, props
        cd = r.headers.get("content-disposition", "")
        assert "%E2%80%AE" not in cd and "\n" not in cd
    from engine.service.batch import XLSX

    r = client.post("/v1/decisions/batch", json={"requests": [data]}, headers={"Accept": XLSX})
    assert r.status_code == 200
    assert "<f>" not in _sheet_xml(r.content)
    r = client.post("/v1/flowcharts/hunan", json=data)
    assert r.status_code < 500, r.status_code
    for fmt in ("md", "docx"):
        r = client.get(
            "/export",
            params={"fmt": fmt, "jurisdiction": "hunan", "tech": tech, "inst_name": inst, "as_of": "2025-03-10"},
        )
        assert r.status_code < 500, (fmt, r.status_code)
    r = client.get(
        "/chart.svg", params={"jurisdiction": "hunan", "tech": tech, "inst_name": inst, "as_of": "2025-03-10"}
    )
    assert r.status_code < 500
