"""The verdict (issue 20, contract §5 "The verdict"): one line chosen in the order do not use -> stop ->
immediate reports -> overdue or to confirm with if_not_done -> the earliest dated act -> nothing owed,
the same on every surface; and the things to do listed in that order."""

from __future__ import annotations

from engine import decide
from engine.inference.verdict import ordered, verdict
from engine.kb.vocabulary import vocabulary
from engine.render.answer import build_answer
from engine.render.text import render_text


def _o(action, status, due=None, **extra):
    return {
        "action": action,
        "status": status,
        "due": due,
        "addressee": extra.pop("addressee", None),
        "deadline": extra.pop("deadline", {}),
        **extra,
    }


def test_order_do_not_use_stop_reports_passed_dated_rest():
    obligations = [
        _o("disclose", "pending"),
        _o("file", "pending", "2025-03-24"),
        _o("report", "immediate", "2025-03-01", addressee="license_issuer"),
        _o("train", "pending", "2025-03-20"),
        _o("self_assess", "to_confirm", "2025-03-02"),  # a step before an event: no if_not_done
        _o("file_training_base", "to_confirm", "2025-03-05", if_not_done={"overdue_days": 5}),
        _o("stop", "immediate", "2025-03-01"),
        _o("do_not_use", "immediate"),
    ]
    got = [o["action"] for o in ordered(obligations)]
    assert got == ["do_not_use", "stop", "report", "file_training_base", "train", "file", "disclose", "self_assess"]


def test_verdict_stop_names_the_report_too():
    response = {
        "as_of": "2025-03-10",
        "technology": {"class": "restricted"},
        "warnings": [],
        "missing_facts": [],
        "obligations": ordered(
            [_o("report", "immediate", "2025-03-09", addressee="license_issuer"), _o("stop", "immediate", "2025-03-09")]
        ),
    }
    v = verdict(vocabulary(), response)
    assert v["action"] == "stop" and v["status"] == "immediate"
    assert v["text"].index("停止") < v["text"].index("报告")


def test_verdict_nothing_owed_and_undetermined():
    base = {"as_of": "2025-03-10", "warnings": [], "obligations": [_o("disclose", "pending")]}
    v = verdict(vocabulary(), {**base, "technology": {"class": "unlisted"}, "missing_facts": []})
    assert v == {"text": v["text"], "action": None, "due": None, "status": None} and "无到期事项" in v["text"]
    v = verdict(vocabulary(), {**base, "technology": {"class": "undetermined"}, "missing_facts": [{"path": "x"}]})
    assert v["action"] is None and "尚不能确定" in v["text"]


def test_the_same_verdict_on_json_text_and_answer():
    request = {
        "as_of": "2025-03-10",
        "institution": {"jurisdiction": "national", "level": 3},
        "technology": {"name": "ECMO"},
        "events": [{"type": "first_clinical_use", "date": "2024-05-06"}],
    }
    response = decide(request)
    text = response["verdict"]["text"]
    # 2024-05-24 (15 wd after 2024-05-06) -> 2025-03-10: 290 days, if it was not filed
    assert "290" in text and response["verdict"]["status"] == "to_confirm"
    assert build_answer(response)["verdict"] == text
    assert render_text(response).splitlines()[0] == f"结论：{text}"


def test_sanction_line_on_an_item_past_its_day():
    request = {
        "as_of": "2025-03-10",
        "institution": {"jurisdiction": "chongqing", "level": 3},
        "technology": {"name": "起搏器治疗技术"},
        "events": [{"type": "first_clinical_use", "date": "2025-01-02"}],
    }
    answer = build_answer(decide(request))
    [item] = [i for s in answer["sections"] for i in s["items"] if i["action"] == "file"]
    # 15 wd after 2025-01-02: 1/3 1, 1/6-1/10 6, 1/13-1/17 11, 1/20 12, 1/21 13, 1/22 14, 1/23 15 -> 2025-01-23;
    # 2025-01-23 -> 2025-03-10 = 8 + 28 + 10 = 46 days
    assert item["if_not_done"]["overdue_days"] == 46
    # the jurisdiction's own consequence, once: in what to do now (the sanction line is not repeated)
    line = item["if_not_done"]["what_now"] + item["sanction"]
    assert "不得再开展" in line and "《重庆通知》五、（二）" in line
    assert line.count("不得再开展") == 1
    assert "《重庆通知》五、（二）：不符合要求或者不按照规定备案的，不得再开展" in render_text(decide(request))


def test_page_leads_with_the_verdict_and_asks_whether_filed():
    from fastapi.testclient import TestClient

    from engine.service.app import app

    client = TestClient(app)
    query = [
        ("as_of", "2025-03-10"),
        ("jurisdiction", "national"),
        ("level", "3"),
        ("tech", "ECMO"),
        ("ev", "first_clinical_use"),
        ("ed", "2024-05-06"),
    ]
    page = client.get("/", params=query).text
    assert 'id="verdict">限制类技术：请核实是否已备案' in page
    assert 'data-path="technology.filed"' in page and 'name="filed_on"' in page
    assert "如尚未备案：已逾期 290 天" in page
    # answered with the filing day: done, and the verdict no longer asks
    page = client.get("/", params=query + [("filed_on", "2024-05-20")]).text
    assert 'id="verdict">限制类技术：当前无到期事项' in page
    assert 'data-path="technology.filed"' not in page
    # said not filed: overdue
    page = client.get("/", params=query + [("filed", "no")]).text
    assert 'id="verdict">限制类技术：已逾期 290 天' in page
