"""The ledger (`medtech ledger`, engine.ledger): a Hunan tertiary hospital's ten-row 台账, answered on 2025-03-10.

Filing: 15 working days from the first case (nhc-2018-1 第十一条第一款; hn-2018-11 二、（二）). Due dates counted
by hand on the State Council's 2025 arrangement (春节 1月28日至2月4日放假, 1月26日(日)、2月8日(六)上班):
- first case 2025-03-03 (Mon): Mar 4-7 (4), 10-14 (9), 17-21 (14), 24 (15) -> 2025-03-24
- first case 2025-03-05 (Wed): Mar 6-7 (2), 10-14 (7), 17-21 (12), 24-26 (15) -> 2025-03-26
- first case 2025-02-27 (Thu): Feb 28 (1), Mar 3-7 (6), 10-14 (11), 17-20 (15) -> 2025-03-20
- first case 2025-02-10 (Mon): Feb 11-14 (4), 17-21 (9), 24-28 (14), Mar 3 (15) -> 2025-03-03
- first case 2025-01-20 (Mon): Jan 21-24 (4), Sun 26 (5), Mon 27 (6), Feb 5-7 (9), Sat 8 (10), 10-14 (15) -> 2025-02-14
- first case 2025-03-10 (Mon): Mar 11-14 (4), 17-21 (9), 24-28 (14), 31 (15) -> 2025-03-31
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from engine.cli import main
from engine.ledger.output import template
from engine.register.words import words

D = dt.date
INSTITUTION = (
    "as_of: 2025-03-10\ninstitution: {jurisdiction: hunan, name: 某市第一人民医院, category: hospital, level: 3}\n"
)
# (技术名称或编号, 手术分级, 首例日期, 备案日期, 是否本机构首次): sheet rows 2 to 11
ROWS = [
    ("冠心病介入治疗", None, D(2025, 3, 3), None, "是"),  # 2: due 2025-03-24
    ("血液透析", "三级", D(2025, 3, 5), None, "是"),  # 3: S25 血液净化技术 (三级及以上), due 2025-03-26
    ("ECMO", None, D(2025, 2, 27), None, "是"),  # 4: 2022 national list G11, due 2025-03-20
    ("S19", None, D(2025, 2, 10), None, "否"),  # 5: a code (Hunan S19); due 2025-03-03, passed
    ("质子治疗", None, D(2025, 1, 20), None, "是"),  # 6: over the Spring Festival, due 2025-02-14, passed
    ("脑下垂体酒精毁损术治疗顽固性疼痛", None, D(2025, 3, 1), None, None),  # 7: prohibited (湖南通知 二、（一）)
    ("放射性粒子植入治疗技术", None, D(2025, 3, 3), D(2025, 3, 7), "是"),  # 8: filed on 2025-03-07: done
    ("肿瘤消融治疗技术", None, "2025-02-30", None, "是"),  # 9: no such day: unreadable
    (None, 3, D(2025, 3, 1), None, "是"),  # 10: no technique: unreadable
    ("肿瘤消融治疗技术", None, D(2025, 3, 10), None, "是"),  # 11: due 2025-03-31
]


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    d = tmp_path_factory.mktemp("ledger")
    wb = load_workbook(io.BytesIO(template()))
    ws = wb.worksheets[0]
    headers = [c.value for c in ws[1]]
    ws.delete_rows(2)  # the example row
    for r in ROWS:
        cells = dict(zip(["技术名称或编号", "手术分级", "首例日期", "备案日期", "是否本机构首次"], r, strict=True))
        ws.append([cells.get(h) for h in headers])
    wb.save(d / "台账.xlsx")
    (d / "机构.yaml").write_text(INSTITUTION, encoding="utf-8")
    assert (
        main(["ledger", str(d / "台账.xlsx"), "--institution", str(d / "机构.yaml"), "-o", str(d / "结果.xlsx")]) == 0
    )
    assert main(["ledger", str(d / "台账.xlsx"), "--institution", str(d / "机构.yaml"), "-o", str(d / "提醒.ics")]) == 0
    return load_workbook(d / "结果.xlsx"), (d / "提醒.ics").read_bytes()


def _sheet(wb, key):
    ws = wb[words()["ledger"]["sheets"][key]]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def _day(v):
    return v.date() if isinstance(v, dt.datetime) else v


def test_ledger_sheet_written_back(result):
    wb, _ = result
    rows = _sheet(wb, "ledger")
    assert len(rows) == 10 and [r["技术名称或编号"] for r in rows] == [r[0] for r in ROWS]
    by_row = dict(enumerate(rows, start=2))
    assert {n: _day(by_row[n]["最近截止日期"]) for n in (2, 3, 4, 11)} == {
        2: D(2025, 3, 24),
        3: D(2025, 3, 26),
        4: D(2025, 3, 20),
        11: D(2025, 3, 31),
    }
    for n in (2, 3, 4, 5, 6, 8, 11):
        assert by_row[n]["技术类别"] == "限制类技术", n
    assert by_row[7]["技术类别"] == "禁止类技术" and "不得" in by_row[7]["结论"]
    assert "2025-03-03" in by_row[5]["结论"] and "2025-02-14" in by_row[6]["结论"]
    assert by_row[9]["结论"].startswith("无法读取") and by_row[10]["结论"].startswith("无法读取")


def test_every_act_by_urgency(result):
    wb, _ = result
    acts = _sheet(wb, "acts")
    filing = {(a["行号"], _day(a["截止日期"]), a["状态"]) for a in acts if a["事项"] == "限制类技术备案"}
    assert {(n, due) for n, due, _ in filing} == {
        (2, D(2025, 3, 24)),
        (3, D(2025, 3, 26)),
        (4, D(2025, 3, 20)),
        (5, D(2025, 3, 3)),
        (6, D(2025, 2, 14)),
        (8, D(2025, 3, 24)),
        (11, D(2025, 3, 31)),
    }
    assert next(s for n, _, s in filing if n == 8) == "已完成"  # 备案日期 2025-03-07
    assert acts[0]["行号"] == 7 and acts[0]["事项"] == "禁止/不得开展临床应用"  # the prohibition leads
    order = [u.get("status") or u.get("action") for u in words()["ledger"]["urgency"]]
    from engine.kb.vocabulary import vocabulary

    names = {v: k for k, v in vocabulary().names("statuses").items()}
    ranks = [order.index(names[a["状态"]]) for a in acts[1:]]
    assert ranks == sorted(ranks)
    for a, b in zip(acts[1:], acts[2:], strict=False):  # within one status, by due date (undated last)
        if a["状态"] == b["状态"] and a["截止日期"] and b["截止日期"]:
            assert _day(a["截止日期"]) <= _day(b["截止日期"])
    # the institution-wide duties once, not once per row
    assert sum(1 for a in acts if a["事项"] == "建立医疗技术临床应用管理制度") == 1


def test_unreadable_rows(result):
    wb, _ = result
    bad = _sheet(wb, "unreadable")
    assert [(b["行号"]) for b in bad] == [9, 10]
    assert "不是存在的日期" in bad[0]["问题"] and bad[1]["问题"] == "“技术名称或编号”未填写"


def test_calendar_of_future_due_dates(result):
    from icalendar import Calendar

    _, ics = result
    starts = {ev.decoded("dtstart") for ev in Calendar.from_ical(ics).walk("VEVENT")}
    assert {D(2025, 3, 20), D(2025, 3, 24), D(2025, 3, 26), D(2025, 3, 31)} <= starts
    assert min(starts) >= D(2025, 3, 10)


def test_template_has_lists():
    wb = load_workbook(io.BytesIO(template()))
    ws = wb.worksheets[0]
    headers = [c.value for c in ws[1]]
    assert headers[:5] == ["技术名称或编号", "手术分级", "首例日期", "备案日期", "是否本机构首次"]
    assert ws.max_row == 2 and ws["A2"].value  # one example row
    lists = {dv.formula1 for dv in ws.data_validations.dataValidation if dv.type == "list"}
    assert '"1,2,3,4"' in lists and '"是,否"' in lists


def test_csv_ledger_and_errors(tmp_path, capsys):
    (tmp_path / "i.yaml").write_text(INSTITUTION, encoding="utf-8")
    (tmp_path / "l.csv").write_text("技术名称或编号,首例日期\n冠心病介入治疗,2025/3/3\n", encoding="utf-8")
    assert main(["ledger", str(tmp_path / "l.csv"), "--institution", str(tmp_path / "i.yaml"), "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert "限制类技术：须于 2025-03-24 前向发证部门备案" in out
    (tmp_path / "bad.csv").write_text("名称,日期\nx,y\n", encoding="utf-8")
    assert (
        main(["ledger", str(tmp_path / "bad.csv"), "--institution", str(tmp_path / "i.yaml"), "--format", "csv"]) == 2
    )
    assert "表头行缺少“技术名称或编号”列" in capsys.readouterr().err
    (tmp_path / "j.yaml").write_text("institution: {jurisdiction: guangdong}\n", encoding="utf-8")
    assert main(["ledger", str(tmp_path / "l.csv"), "--institution", str(tmp_path / "j.yaml"), "--format", "csv"]) == 2
    assert "不支持“guangdong”" in capsys.readouterr().err


def test_big_ledgers_use_the_workers_and_give_the_same_answers(monkeypatch):
    from engine.ledger import run
    from engine.ledger.sheet import read_ledger

    text = "技术名称或编号,首例日期\n" + "冠心病介入治疗,2025-03-03\nECMO,2025-02-27\n" * 3
    led = read_ledger(text.encode(), "x.csv", {"jurisdiction": "hunan", "level": 3}, "2025-03-10")
    small = [a.response for a in run.answer_ledger(led)]
    monkeypatch.setattr(run, "BATCH_FROM", 2)
    big = [a.response for a in run.answer_ledger(led, workers=2)]
    assert big == small and len(big) == 6


# --------------------------------------------------------------------------- the /ledger page over HTTP


@pytest.fixture(scope="module")
def client():
    from fastapi.testclient import TestClient

    from engine.service.app import app

    return TestClient(app)


FORM = {"jurisdiction": "hunan", "category": "hospital", "level": "3", "as_of": "2025-03-10"}
CSV = "技术名称或编号,首例日期,是否本机构首次\n冠心病介入治疗,2025-03-03,是\nECMO,2025-02-30,是\n".encode()


def test_page_answers_and_downloads(client):
    r = client.post("/ledger", data=FORM, files={"ledger": ("台账.csv", CSV, "text/csv")})
    assert r.status_code == 200 and "2025-03-24" in r.text and "第 3 行" in r.text
    r = client.post("/ledger?fmt=xlsx", data=FORM, files={"ledger": ("台账.csv", CSV, "text/csv")})
    assert r.content[:2] == b"PK" and "attachment" in r.headers["content-disposition"]
    r = client.post("/ledger?fmt=csv", data=FORM, files={"ledger": ("台账.csv", CSV, "text/csv")})
    assert "须于 2025-03-24 前" in r.content.decode("utf-8-sig")
    r = client.post("/ledger?fmt=ics", data=FORM, files={"ledger": ("台账.csv", CSV, "text/csv")})
    assert b"DTSTART;VALUE=DATE:20250324" in r.content
    assert client.get("/ledger/template.xlsx").content[:2] == b"PK"


def test_page_refuses_what_it_cannot_read(client):
    from engine.service.input import MAX_BODY

    r = client.post("/ledger", data=FORM)
    assert r.status_code == 422 and "请选择台账文件" in r.text
    r = client.post("/ledger", data=FORM, files={"ledger": ("big.csv", b"x" * (MAX_BODY + 1), "text/csv")})
    assert r.status_code == 413 and "文件太大" in r.text
    r = client.post("/ledger", data={**FORM, "jurisdiction": "guangdong"}, files={"ledger": ("l.csv", CSV, "text/csv")})
    assert r.status_code == 422 and "guangdong" in r.text
    r = client.post("/ledger", data=FORM, files={"ledger": ("l.xlsx", b"not a workbook", "application/octet-stream")})
    assert r.status_code == 422 and "不是可以读取的 xlsx 工作簿" in r.text
