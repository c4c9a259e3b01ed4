"""The answer model (engine.render.answer): sections, order, verdict and labels.

Expected dates come from the calendar (chinese_calendar) and the text of the provisions, not from the engine.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import yaml

from calendar_oracle import nth_working_day_after
from engine import decide
from engine.kb.vocabulary import vocabulary
from engine.render.answer import build_answer, items

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = yaml.safe_load((ROOT / "examples" / "request.yaml").read_text(encoding="utf-8"))
ASCII_WORD = re.compile(r"[A-Za-z_]{2,}")


def _answer(request=EXAMPLE, **kw):
    return build_answer(decide(request), request=request, **kw)


def test_example_verdict_names_the_filing_deadline():
    # nhc-2018-1 art_11__para_1: 开展首例临床应用之日起15个工作日内 … 备案; first case 2025-03-03
    due = nth_working_day_after(dt.date(2025, 3, 3), 15)
    a = _answer()
    assert a["verdict"] == f"限制类技术：须于 {due.isoformat()} 前向发证部门备案"
    now = items(a, "now")
    assert now[0]["action"] == "file" and now[0]["due"] == due.isoformat()
    assert now[0]["days_left"] == (due - dt.date(2025, 3, 10)).days
    assert now[0]["addressee_text"] == "核发《医疗机构执业许可证》的卫生健康行政部门"
    cites = [p["cite"] for p in now[0]["provisions"]]
    assert "《办法》第十一条第一款" in cites


def test_steps_before_the_first_case_are_to_confirm_never_overdue():
    a = _answer()
    confirm = items(a, "to_confirm")
    assert {"self_assess", "demonstrate"} <= {i["action"] for i in confirm}
    for i in confirm:
        assert i["status"] == "to_confirm" and i["status_text"] == vocabulary().names("statuses")["to_confirm"]
        assert "请核实" in i["when_text"]
    assert not [i for i in items(a) if i["status"] == "overdue" and i["action"] in ("self_assess", "demonstrate")]


def test_now_is_soonest_first_and_institution_wide_duties_are_apart():
    req = {
        **EXAMPLE,
        "events": [
            {"type": "first_clinical_use", "date": "2025-03-03"},
            {"type": "serious_incident", "date": "2025-03-09"},
        ],
    }
    a = _answer(req)
    now = items(a, "now")
    keys = [(i["status"] != "immediate", i["due"] or "9999") for i in now]
    assert keys == sorted(keys)
    wide = {i["action"] for i in items(a, "institution_wide")}
    assert "set_up_organization" in wide and "establish_rules" in wide
    assert not wide & {i["action"] for i in now}


def test_labels_are_chinese_and_quotes_are_kept():
    a = _answer()
    for i in items(a):
        for key in ("action_text", "status_text", "when_text", "addressee_text"):
            assert not ASCII_WORD.search(i[key]), (key, i[key])
        for p in i["provisions"]:
            assert p["cite"].startswith("《") and p["quote"]
            assert not ASCII_WORD.search(p["cite"]), p["cite"]
    assert a["technology"]["class_text"] == "限制类技术"
    assert a["technology"]["listings"][0]["catalog_name"].startswith("湖南省")
    assert a["institution"]["name"] == EXAMPLE["institution"]["name"]


def test_unknown_vocabulary_ids_are_never_shown():
    response = {
        "as_of": "2025-03-10",
        "jurisdiction": {"id": "hunan", "name": "湖南省"},
        "documents": [],
        "knowledge_base": {"version": "x", "digest": "sha256:0"},
        "technology": None,
        "missing_facts": [],
        "trace": [],
        "obligations": [
            {
                "id": "x",
                "action": "brand_new_action",
                "actor": "institution",
                "addressee": "somebody_new",
                "summary": "某项义务",
                "due": "2025-03-12",
                "status": "a_new_status",
                "deadline": {
                    "kind": "working_days_after",
                    "text": "某期限",
                    "occurrences": [{"event_date": "2025-03-01", "due": "2025-03-12", "status": "pending"}],
                },
                "materials": [],
                "citations": [{"document": "nhc-2018-1", "eid": "art_11", "label": "第十一条"}],
                "consequences": [],
            }
        ],
        "authority_actions": [],
        "warnings": [{"code": "new_code", "message": ""}],
    }
    a = build_answer(response)
    item = items(a)[0]
    for key in ("action_text", "status_text", "addressee_text"):
        assert not ASCII_WORD.search(item[key]), item[key]
    assert item["days_left"] == 2 and item["occurrences"][0]["due"] == "2025-03-12"
    assert not ASCII_WORD.search(a["warnings"][0]["text"])
    assert item["provisions"][0]["cite"] == "《办法》第十一条"


def test_prohibited_technique_verdict():
    # nhc-2018-1 art_9__para_1__item_3: 已经被临床淘汰的 … 禁止应用于临床
    req = {
        "as_of": "2025-03-10",
        "institution": {"jurisdiction": "hunan", "level": 3},
        "technology": {"name": "某新疗法", "prohibited_grounds": ["obsolete"]},
    }
    a = _answer(req)
    assert a["verdict"].startswith("禁止类技术：不得开展临床应用")
    assert "须立即不得" not in a["verdict"]


def test_full_adds_the_reasoning_without_rule_ids():
    a = _answer(full=True)
    assert a["trace"] and all(t["text"] and not ASCII_WORD.search(t["text"]) for t in a["trace"])
    assert "trace" not in _answer()


def test_per_discharge_occurrences_and_an_unused_event_read_in_chinese():
    """Jilin art. 38: each discharged patient is reported within 15 working days; lead_changed is used by no
    Jilin or national provision (only Hunan's), so it is named in the fact_unused hint by its Chinese meaning."""
    request = {
        "as_of": "2025-05-06",
        "institution": {"jurisdiction": "jilin", "level": 3},
        "technology": {"name": "心室辅助技术"},
        "events": [
            {"type": "first_clinical_use", "date": "2025-03-03"},
            {"type": "patient_discharged", "date": "2025-04-30"},
            {"type": "lead_changed", "date": "2025-04-01"},
        ],
    }
    answer = _answer(request)
    occurrences = [o for it in items(answer) for o in it.get("occurrences") or []]
    due = nth_working_day_after(dt.date(2025, 4, 30), 15).isoformat()
    assert occurrences and all(
        o["what"] == "2025-04-30 限制类技术病例患者出院" and o["due"] == due for o in occurrences
    )
    hints = [w["text"] for w in answer["warnings"] if w["code"] == "fact_unused"]
    assert len(hints) == 1 and "“主要负责人或技术负责人变化”" in hints[0] and not ASCII_WORD.search(hints[0])
