"""engine.render.text.render_text: the short Chinese answer (and --full), from the response dict alone."""

from __future__ import annotations

import copy
import re

from engine.render.text import render_text

NHC_11 = {
    "document": "nhc-2018-1",
    "eid": "art_11__para_1",
    "label": "第十一条第一款",
    "quote": "对限制类技术实施备案管理。……于开展首例临床应用之日起15个工作日内，向核发其《医疗机构执业许可证》的卫生行政部门备案。",
}
HN = {
    "document": "hn-2018-11",
    "eid": "sec_2__subsec_2",
    "label": "二、（二）",
    "quote": "医疗机构应当在开展首例临床应用之日起15个工作日内……备案。",
}
ART_41 = {
    "document": "nhc-2018-1",
    "eid": "art_41__para_1__item_4",
    "label": "第四十一条第一款第（四）项",
    "quote": "（四）未按照要求向卫生行政部门进行医疗技术临床应用备案的；",
}

RESPONSE = {
    "as_of": "2025-03-10",
    "jurisdiction": {"id": "hunan", "name": "湖南省"},
    "knowledge_base": {"version": "0.1.0", "digest": "sha256:0123456789abcdef0123456789abcdef"},
    "documents": [
        {"id": "nhc-2018-1", "title": "医疗技术临床应用管理办法", "status": "in_force"},
        {"id": "hn-2018-11", "title": "湖南省通知", "status": "uncertain"},
    ],
    "technology": {
        "query": "PCI",
        "id": "coronary-intervention",
        "name": "冠心病介入治疗技术",
        "class": "restricted",
        "listings": [
            {
                "catalog": "hunan-2018",
                "code": "S19",
                "name": "冠心病介入治疗",
                "scope": "provincial",
                "citation": {
                    "document": "hn-2018-11",
                    "eid": "att_1__item_34",
                    "label": "附件1第34项",
                    "quote": "S19 冠心病介入治疗",
                },
            }
        ],
        "citations": [
            {"document": "nhc-2018-1", "eid": "art_9__para_1", "label": "第九条第一款", "quote": "限制类技术……"}
        ],
    },
    "obligations": [
        {
            "id": "file-restricted-technology",
            "action": "file",
            "actor": "institution",
            "addressee": "license_issuer",
            "summary": "向核发《医疗机构执业许可证》的卫生健康行政部门备案",
            "due": "2025-03-24",
            "deadline": {
                "kind": "working_days_after",
                "days": 15,
                "event": "first_clinical_use",
                "text": "开展首例临床应用之日起15个工作日内",
                "due": "2025-03-24",
                "provisional": False,
                "citations": [NHC_11],
                "alternatives": [
                    {"kind": "on_date", "text": "在2019年1月31日前", "due": "2019-01-31", "citations": [HN]}
                ],
            },
            "status": "pending",
            "materials": [
                {
                    "id": "hunan-filing-form",
                    "text": "《湖南省限制类医疗技术临床应用备案表》（附件2）",
                    "citations": [HN],
                }
            ],
            "citations": [NHC_11, HN],
            "consequences": [
                {"citations": [ART_41], "text": "责令限期改正；逾期不改的，暂停或者停止相关医疗技术临床应用"}
            ],
            "rules": ["nhc.file-restricted", "hn.file-restricted"],
        }
    ],
    "authority_actions": [
        {
            "id": "complete-filing",
            "action": "complete_filing",
            "actor": "license_issuer",
            "addressee": "applicant",
            "summary": "收到备案材料后15个工作日内完成备案",
            "due": None,
            "deadline": {
                "kind": "working_days_after",
                "days": 15,
                "event": "filing_submitted",
                "text": "收到备案材料之日起15个工作日内",
            },
            "status": "pending",
            "materials": [],
            "citations": [HN],
            "consequences": [],
        }
    ],
    "warnings": [{"code": "calendar_provisional", "message": "2026年的节假日安排尚未公布，工作日为临时计算"}],
    "missing_facts": [
        {
            "path": "technology.surgery_grade",
            "question": "该技术的手术分级是几级（1至4级）？",
            "why": "规则“备案”取决于此",
        }
    ],
    "trace": [],
}


LATIN = re.compile(r"[A-Za-z_]{2,}")


def test_verdict_first_then_what_to_do_now():
    lines = render_text(RESPONSE).splitlines()
    assert lines[0] == "结论：限制类技术：须于 2025-03-24 前向发证部门备案"
    assert "湖南省" in lines[2] and "2025-03-10" in lines[2]
    text = "\n".join(lines)
    assert text.index("现在要做：") < text.index("行政部门将做什么：") < text.index("提示：")


def test_technology_class_and_listing_by_label():
    text = render_text(RESPONSE)
    assert "冠心病介入治疗技术（查询：PCI）——限制类技术" in text
    assert "S19 冠心病介入治疗（《湖南通知》附件1第34项）" in text
    assert "分类依据：《办法》第九条第一款" in text


def test_duty_with_addressee_deadline_days_left_materials_and_labels():
    text = render_text(RESPONSE)
    assert "1. 【限制类技术备案】向核发《医疗机构执业许可证》的卫生健康行政部门备案" in text
    assert "对象：核发《医疗机构执业许可证》的卫生健康行政部门" in text
    # 2025-03-10 -> 2025-03-24: 14 days
    assert "期限：开展首例临床应用之日起15个工作日内；2025-03-24 前（还剩 14 天）" in text
    assert "另一期限：在2019年1月31日前，截止 2019-01-31（《湖南通知》二、（二））" in text
    assert "□ 1. 《湖南省限制类医疗技术临床应用备案表》（附件2）" in text
    assert "依据：《办法》第十一条第一款；《湖南通知》二、（二）" in text


def test_quotes_and_consequences_only_with_full():
    short, full = render_text(RESPONSE), render_text(RESPONSE, full=True)
    assert "「" not in short and "法律责任" not in short.split("适用文件")[0]
    assert "「对限制类技术实施备案管理。" in full and "卫生行政部门备案。」" in full
    assert "法律责任：责令限期改正" in full and "《办法》第四十一条第一款第（四）项" in full
    assert "sha256:0123456789abcdef" in full


def test_now_is_soonest_first_immediate_before_dated():
    r = copy.deepcopy(RESPONSE)
    stop = {
        **copy.deepcopy(r["obligations"][0]),
        "id": "stop",
        "action": "stop",
        "addressee": None,
        "summary": "立即停止",
        "due": None,
        "status": "immediate",
        "deadline": {"kind": "immediately", "text": "立即"},
    }
    early = {
        **copy.deepcopy(r["obligations"][0]),
        "id": "report",
        "action": "report",
        "summary": "先报告",
        "due": "2025-03-12",
    }
    r["obligations"] = [r["obligations"][0], early, stop]
    text = render_text(r)
    assert text.index("【立即停止临床应用】") < text.index("【报告】") < text.index("【限制类技术备案】")
    assert text.splitlines()[0] == "结论：限制类技术：须立即停止临床应用（另有 2 项待办）"


def test_long_quotes_are_cut_with_a_pointer_by_label():
    r = copy.deepcopy(RESPONSE)
    r["obligations"][0]["citations"] = [{**NHC_11, "eid": "att_1", "label": "附件1", "quote": "甲" * 1000}]
    text = render_text(r, full=True)
    assert "甲" * 300 + "……」（节选，全文见《办法》附件1）" in text
    assert "甲" * 301 not in text


def test_authority_actions_one_line_each():
    section = render_text(RESPONSE).split("行政部门将做什么：", 1)[1].split("─")[0]
    assert (
        "· 收到备案材料后15个工作日内完成备案 → 申请机构：收到备案材料之日起15个工作日内（《湖南通知》二、（二））"
        in section
    )


def test_warnings_and_missing_facts():
    text = render_text(RESPONSE)
    assert "提示：" in text and "2026年的节假日安排尚未公布，工作日为临时计算" in text
    assert "待补充事实：" in text and "该技术的手术分级是几级（1至4级）？" in text


def test_ids_in_engine_messages_become_names():
    r = copy.deepcopy(RESPONSE)
    r["warnings"] = [
        {
            "code": "catalog_superseded",
            "message": "hn-2018-11 att_1转载的national-2018 G05 同种异体皮肤移植技术已被新版国家目录替代",
        },
        {"code": "technology_ambiguous", "message": "“透析”可指多项技术：透析 alone may be haemodialysis"},
    ]
    r["missing_facts"][0]["why"] = "规则“备案”（nhc.file-restricted）取决于此"
    text = render_text(r, full=True)
    assert "《湖南通知》附件1转载的国家限制类技术目录 G05" in text
    assert "该技术名称对应多项不同技术" in text  # the vocabulary's label replaces a message with English in it
    assert "（规则“备案”取决于此）" in text
    own = text.replace(RESPONSE["knowledge_base"]["digest"], "").replace(
        "查询：PCI", ""
    )  # the digest and the user's words
    assert not LATIN.findall(own), LATIN.findall(own)


def test_no_technology_and_nothing_owed():
    r = copy.deepcopy(RESPONSE)
    r.update(technology=None, obligations=[], authority_actions=[], warnings=[], missing_facts=[])
    text = render_text(r)
    assert "未指定具体技术" in text
    assert "没有需要办理的事项" in text
    assert "提示：" not in text and "待补充事实：" not in text


def test_deterministic_and_does_not_modify_input():
    before = copy.deepcopy(RESPONSE)
    assert render_text(RESPONSE) == render_text(copy.deepcopy(RESPONSE))
    assert before == RESPONSE
    assert render_text(RESPONSE).endswith("\n")


def test_renders_a_real_response():
    from engine import decide

    response = decide({"as_of": "2025-03-10", "institution": {"jurisdiction": "hunan", "level": 3}})
    text = render_text(response)
    assert "湖南省" in text and "机构层面的常设义务" in text
    for o in response["obligations"]:
        assert o["summary"] in text


# ---------------------------------------------------------------- issue 10 §4
def _one(obligation: dict, jurisdiction=("hunan", "湖南省")) -> dict:
    r = copy.deepcopy(RESPONSE)
    r["jurisdiction"] = {"id": jurisdiction[0], "name": jurisdiction[1]}
    r["obligations"] = [obligation]
    return r


SELF_ASSESS = {
    "id": "self-assess",
    "action": "self_assess",
    "actor": "institution",
    "addressee": None,
    "summary": "按照相关医疗技术临床应用管理规范进行自我评估",
    "due": "2025-03-02",
    "deadline": {
        "kind": "before_event",
        "event": "first_clinical_use",
        "text": "开展首例临床应用前",
        "due": "2025-03-02",
        "citations": [NHC_11],
    },
    "status": "to_confirm",
    "materials": [],
    "citations": [NHC_11],
    "consequences": [],
}


def test_to_confirm_reads_as_a_step_to_check_not_a_late_one():
    text = render_text(_one(SELF_ASSESS))
    # the first case was on 2025-03-03: the day after the due date of a "before the first case" step
    assert "应已于首例临床应用（2025-03-03）前完成，请核实" in text
    assert "已逾期" not in text


def test_shanghai_names_its_municipal_commission():
    report = dict(
        SELF_ASSESS,
        id="report-incident",
        action="report",
        addressee="provincial_authority",
        status="immediate",
        due="2025-03-05",
        deadline={"kind": "immediately", "event": "efficacy_doubt", "text": "立即报告", "due": "2025-03-05"},
    )
    shanghai = render_text(_one(report, ("shanghai", "上海市")))
    assert "对象：市卫生健康部门" in shanghai and "省级卫生健康行政部门" not in shanghai
    # elsewhere the contract's provincial wording stays
    assert "对象：省级卫生健康行政部门" in render_text(_one(report, ("jilin", "吉林省")))


def test_jilin_repeated_article_numbers_are_told_apart():
    art_41 = {
        "document": "jl-2021",
        "eid": "art_41__para_1",
        "label": "第四十一条第一款",
        "quote": "县级以上……向社会公布",
    }
    art_41_2 = {
        "document": "jl-2021",
        "eid": "art_41_2__para_1",
        "label": "第四十一条第一款",
        "quote": "人体器官移植技术……不适用本细则。",
    }
    text = render_text(
        _one(dict(SELF_ASSESS, status="pending", citations=[art_41, art_41_2]), ("jilin", "吉林省")), full=True
    )
    lines = [line.strip() for line in text.splitlines() if "第四十一条第一款" in line and line.rstrip().endswith("：")]
    assert len(lines) == 2 and lines[0] != lines[1]  # each quoted under its own label
    assert "原文中第2个第四十一条" in lines[1]
    short = render_text(_one(dict(SELF_ASSESS, status="pending", citations=[art_41, art_41_2]), ("jilin", "吉林省")))
    assert "第四十一条第一款、第四十一条第一款（原文中第2个第四十一条）" in short
