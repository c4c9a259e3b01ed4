"""The encoded documents (kb/documents/*.yaml): integrity, structure and counts, display, validity."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from engine.errors import KnowledgeBaseError, NotFound
from engine.kb.documents import (
    check_documents,
    chinese_numeral,
    clear_cache,
    expected_label,
    format_outline,
    format_provision,
    load_documents,
)
from engine.kb.schemas import load_schema
from engine.paths import DOCUMENTS_DIR, ROOT
from inventory import DOCUMENT_JURISDICTION, DOCUMENTS

FIXTURES = Path(__file__).parent / "fixtures" / "broken_documents"
DOC_IDS = set(DOCUMENTS)  # from kb/vocabulary.yaml; tests/test_inventory.py pins the five


@pytest.fixture(scope="module")
def docs():
    return load_documents()


def top(doc, prefix):
    return [p for p in doc.top_level() if p.eid.startswith(prefix)]


def kids(doc, eid, kind):
    return [c for c in doc.get(eid).children if c.rsplit("__", 1)[1].startswith(kind + "_")]


# --------------------------------------------------------------------------- the real files


def test_kb_check_passes_on_the_real_files():
    problems = check_documents()
    assert problems == [], "\n".join(map(str, problems))


def test_every_listed_document_is_encoded(docs):
    assert set(docs) == DOC_IDS
    assert sorted(p.stem for p in DOCUMENTS_DIR.glob("*.yaml")) == sorted(DOC_IDS)


def test_schema_is_valid_draft_2020_12():
    schema = load_schema("document")
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_metadata(docs):
    assert docs["nhc-2018-1"].number == "国家卫生健康委员会令第1号"
    assert docs["nhc-2018-1"].title == "医疗技术临床应用管理办法"
    assert docs["sh-2024-13"].issuer == ("上海市卫生健康委员会", "上海市中医药管理局")
    assert docs["jl-2021"].number is None
    assert docs["jl-2021"].dates["published"] == {"date": None, "precision": "unknown"}
    assert docs["jl-2021"].dates["in_force_from"] == {"date": "2021", "precision": "year"}
    assert "月 日" in docs["jl-2021"].dates["note"]
    assert docs["sh-2024-13"].dates["in_force_until"] == {"date": "2029-08-14", "precision": "day"}
    assert docs["hn-2018-11"].repeals == (
        {"number": "湘卫医发〔2016〕9号", "title": "关于加强医疗技术临床应用管理的通知", "cited_in": "sec_6__subsec_4"},
    )
    assert "湘卫医发〔2016〕9号" in docs["hn-2018-11"].get("sec_6__subsec_4").text
    # the two notices are organised by sections (一、/（一）), not articles
    assert (docs["cq-2019-61"].kind, docs["cq-2019-61"].structure) == ("notice", "sections")
    assert (docs["hn-2018-11"].kind, docs["hn-2018-11"].structure) == ("notice", "sections")
    # the national notices are short texts without numbered sections: paragraphs, labelled 第一段 …
    assert {d.structure for d in docs.values() if d.kind == "notice" and d.jurisdiction == "national"} == {"paragraphs"}
    assert docs["nhc-2025-282"].number == "国卫办医政函〔2025〕282号"
    assert docs["nhc-2025-282"].get("para_2").label == "第二段"
    assert "做好有关患者的随访服务" in docs["nhc-2025-282"].get("para_2").text
    assert docs["nhc-2025-282"].dates["in_force_from"] == {"date": "2025-07-08", "precision": "day"}
    assert docs["nhc-2022-list"].dates["in_force_from"] == {"date": "2022-04-20", "precision": "day"}
    assert docs["nhc-2025-jejunoileal"].number is None and docs["nhc-2025-jejunoileal"].partial
    assert {d.id: d.jurisdiction for d in docs.values()} == DOCUMENT_JURISDICTION


# --------------------------------------------------------------------------- articles


@pytest.mark.parametrize("doc_id, count", [("nhc-2018-1", 51), ("sh-2024-13", 42), ("jl-2021", 46)])
def test_article_counts(docs, doc_id, count):
    arts = top(docs[doc_id], "art_")
    assert len(arts) == count
    assert not top(docs[doc_id], "sec_")


@pytest.mark.parametrize("doc_id", ["nhc-2018-1", "sh-2024-13", "jl-2021"])
def test_every_article_has_paragraphs(docs, doc_id):
    doc = docs[doc_id]
    for art in top(doc, "art_"):
        paras = kids(doc, art.eid, "para")
        assert paras and paras == list(art.children), art.eid
        assert art.text == "\n".join(doc.get(p).text for p in paras)
        assert art.chapter and re.match(r"^第[一二三四五六七八九十]+章", art.chapter), art.eid


def test_jilin_article_41_twice(docs):
    jl = docs["jl-2021"]
    a, b = jl.get("art_41"), jl.get("art_41_2")
    assert a.label == b.label == "第四十一条"
    assert a.text != b.text
    assert a.chapter.startswith("第五章") and b.chapter.startswith("第六章")
    assert b.note and "第四十一条" in b.note
    assert b.text.startswith("人体器官移植技术")
    assert jl.get("art_41_2__para_1").label == "第四十一条第一款"
    eids = [p.eid for p in top(jl, "art_")]
    assert eids.index("art_41_2") == eids.index("art_41") + 1
    assert eids[-1] == "art_45"


def test_article_paragraphs_and_items(docs):
    nhc, jl, sh = docs["nhc-2018-1"], docs["jl-2021"], docs["sh-2024-13"]
    assert nhc.get("art_11").text.startswith("对限制类技术实施备案管理。")
    assert nhc.get("art_11__para_1__item_1").text == "（一）开展临床应用的限制类技术名称和所具备的条件及有关评估材料；"
    assert nhc.get("art_11__para_1__item_1").label == "第十一条第一款第（一）项"
    assert len(kids(nhc, "art_25", "para")) == 3
    assert len(kids(nhc, "art_25__para_1", "item")) == 4
    assert len(kids(nhc, "art_41__para_1", "item")) == 8
    # Jilin 12: item (六) is followed directly (no blank line) by paragraph 2
    assert len(kids(jl, "art_12__para_1", "item")) == 6
    assert jl.get("art_12__para_2").text.startswith("备案部门应当自收到完整备案材料之日起15个工作日内完成备案")
    # Shanghai 28 item (四) uses half-width parentheses
    assert sh.get("art_28__para_1__item_4").text.startswith("(四) 发现该项医疗技术")
    assert sh.get("art_28__para_1__item_4").label == "第二十八条第一款第（四）项"
    # broken lines are joined without adding characters
    assert (
        sh.get("art_10__para_2").text
        == "市卫生健康部门结合本市实际情况，组织制定发布本市限制类技术目录及其临床应用管理规范，并报国家卫生健康委备案。"
    )
    assert sh.get("art_42").text == "本实施细则自 2024 年 8 月 15 日起施行，有效期至 2029 年 8 月 14 日止。"
    assert jl.get("art_45").text == "本细则自2021年 月 日起施行。"
    # the cover notice of Shanghai is the preamble
    assert [sh.get(e).text for e in sh.get("preamble").children] == [sh.get("preamble__para_1").text, "特此通知。"]
    assert sh.get("preamble__para_1").text.startswith("根据《医疗纠纷预防和处理条例》")
    assert sh.get("preamble__para_1").text.endswith("请遵照执行。")


# --------------------------------------------------------------------------- notices


def test_chongqing_sections(docs):
    cq = docs["cq-2019-61"]
    assert [p.eid for p in top(cq, "sec_")] == [f"sec_{i}" for i in range(1, 6)]
    assert [p.label for p in top(cq, "sec_")] == ["一、", "二、", "三、", "四、", "五、"]
    assert cq.get("sec_3").heading == "优化流程，规范技术备案"
    subsecs = {s: len(kids(cq, s, "subsec")) for s in ("sec_1", "sec_2", "sec_3", "sec_4", "sec_5")}
    assert subsecs == {"sec_1": 0, "sec_2": 5, "sec_3": 3, "sec_4": 3, "sec_5": 2}
    s = cq.get("sec_3__subsec_2")
    assert s.label == "三、（二）" and s.heading == "规范备案流程" and s.text.startswith("规范备案流程。一是")
    points = [cq.get(e) for e in kids(cq, "sec_3__subsec_2", "point")]
    assert [p.label for p in points] == ["三、（二）一是", "三、（二）二是", "三、（二）三是", "三、（二）四是"]
    assert [p.text[:2] for p in points] == ["一是", "二是", "三是", "四是"]
    assert "15个工作日内" in points[0].text and points[0].text.endswith("备案流程见附件 4。")
    assert cq.get("sec_5__subsec_1").heading is None
    assert cq.get("preamble").text.startswith("为认真贯彻落实《医疗技术临床应用管理办法》（国家卫生健康委员会令第 1号")
    closing = [cq.get(e).text for e in cq.get("conclusions").children]
    assert "本文件自 2020年 1月 10日起施行。" in closing
    assert closing[-2:] == ["重庆市卫生健康委员会", "2019年 12月 11日"]
    assert not any("mailto" in t for t in closing)


def test_hunan_sections(docs):
    hn = docs["hn-2018-11"]
    assert [p.eid for p in top(hn, "sec_")] == [f"sec_{i}" for i in range(1, 7)]
    subsecs = {f"sec_{i}": len(kids(hn, f"sec_{i}", "subsec")) for i in range(1, 7)}
    assert subsecs == {"sec_1": 0, "sec_2": 3, "sec_3": 2, "sec_4": 0, "sec_5": 0, "sec_6": 5}
    assert hn.get("sec_2__para_1").label == "二、第一段"
    assert hn.get("sec_2__para_1").text.startswith("根据《办法》规定")
    assert [hn.get(e).label for e in kids(hn, "sec_5", "para")] == ["五、第一段", "五、第二段"]
    assert hn.get("sec_5__para_2").text.startswith("医疗机构应当为医务人员参加医疗技术临床应用规范化培训创造条件")
    assert len(kids(hn, "sec_2__subsec_1", "para")) == 2
    assert hn.get("sec_2__subsec_1__para_2").text.startswith("在国家发布禁止类技术目录之前")
    assert len(kids(hn, "sec_2__subsec_2", "para")) == 2
    points = [hn.get(e) for e in kids(hn, "sec_2__subsec_2", "point")]
    assert [p.label for p in points] == ["二、（二）1.", "二、（二）2.", "二、（二）3.", "二、（二）4."]
    assert points[0].text == "1.《湖南省限制类医疗技术临床应用备案表》（附件 2）；"
    assert points[2].text.endswith("相关培训证明等）；")
    assert hn.get("sec_2__subsec_2").heading == "限制类医疗技术"
    assert hn.get("sec_6__subsec_3").heading is None


# --------------------------------------------------------------------------- attachments


def codes(doc, eid):
    return [re.match(r"^([A-Z]+\d+|\d+)", doc.get(e).text).group(1) for e in kids(doc, eid, "item")]


def test_catalogue_items(docs):
    cq, hn, sh, jl = docs["cq-2019-61"], docs["hn-2018-11"], docs["sh-2024-13"], docs["jl-2021"]
    assert cq.get("att_1").heading == "国家和重庆市限制类医疗技术目录"
    assert cq.get("att_1__part_1").heading == "国家限制类技术目录"
    assert cq.get("att_1__part_2").heading == "重庆市限制类医疗技术目录"
    assert codes(cq, "att_1__part_1") == [str(i) for i in range(1, 16)]
    assert codes(cq, "att_1__part_2") == [f"CQ0{i}" for i in range(1, 9)]
    assert cq.get("att_1__part_2__item_1").text == "CQ01 冠心病介入治疗技术"
    assert codes(cq, "att_6") == [f"CQ0{i}" for i in range(1, 9)]
    assert codes(hn, "att_1") == [f"G{i:02d}" for i in range(1, 16)] + [f"S{i:02d}" for i in range(1, 30)]
    assert hn.get("att_1__item_39").text == "S24 三维适形及调强放疗技术（含 刀、 刀、Cyberknife治疗）"
    assert hn.get("att_1__item_40").text == "S25 血液净化技术（含血液透析、血浆置换、腹膜透析等技术）"
    assert codes(sh, "att_1") == [f"G{i:02d}" for i in range(1, 13)]
    assert sh.get("att_1__item_5").text.split() == ["G05", "性别重置技术"]
    assert codes(sh, "att_2") == [f"SH{i:02d}" for i in range(1, 22)]
    assert [sh.get(e).text[:6] for e in kids(sh, "att_2", "note")] == ["本目录相应技", "肿瘤全身热疗"]
    assert codes(jl, "att_1") == [f"G{i:02d}" for i in range(1, 16)]
    assert jl.get("att_1__item_1").text == "G01．造血干细胞移植技术"
    assert codes(jl, "att_2") == [f"S{i}" for i in range(1, 22)]
    assert jl.get("att_2__item_1").text == "S1.心血管疾病介入诊疗技术（三、四级手术）"
    assert jl.get("att_2__item_1").label == "附件2第1项"


def test_form_attachments(docs):
    cq, hn, jl = docs["cq-2019-61"], docs["hn-2018-11"], docs["jl-2021"]
    assert hn.get("att_2__note_2").text == "当医疗机构主要负责人或该技术负责人发生变化时，应重新向备案机关提交本表。"
    assert hn.get("att_2__note_2").label == "附件2注2"
    assert hn.get("att_4").heading == "湖南省限制类医疗技术临床应用规范化培训基地备案表"
    assert len(kids(hn, "att_4", "note")) == 2 and len(kids(hn, "att_3", "note")) == 1
    assert [cq.get(e).heading for e in kids(cq, "att_3", "part")] == [
        "填写说明",
        "本备案书应附如下资料",
        "医疗机构承诺",
    ]
    assert len(kids(cq, "att_3__part_2", "item")) == 4
    assert cq.get("att_3__part_2__item_4").text == "（四）与本技术相关的管理制度和应急处置预案。"
    assert (
        cq.get("att_3__part_3").text
        == "承诺该项技术已对照相关医疗技术管理规范进行自我评估且符合相应医疗技术管理规范要求。"
    )
    assert cq.get("att_4").text == cq.get("att_4").heading == "限制类技术临床应用备案流程图"
    assert jl.get("att_3__part_1").heading == "医疗机构承诺"
    assert jl.get("att_3__note_1").text == "此表一式两份，一份提交卫生健康行政部门，一份医院留档保存。"


# --------------------------------------------------------------------------- API


def test_parent_and_children_are_wired(docs):
    nhc = docs["nhc-2018-1"]
    art = nhc.get("art_11")
    assert art.parent is None and art.children == ("art_11__para_1", "art_11__para_2")
    item = nhc.get("art_11__para_1__item_3")
    assert item.parent == "art_11__para_1" and item.children == ()
    assert [c.eid for c in nhc.children("art_11__para_1")] == [f"art_11__para_1__item_{i}" for i in (1, 2, 3)]


def test_get_unknown_provision_lists_top_level(docs):
    with pytest.raises(NotFound) as err:
        docs["nhc-2018-1"].get("art_52")
    assert "art_51" in err.value.available and "art_11__para_1" not in err.value.available


def test_load_documents_is_cached():
    assert load_documents() is load_documents()
    assert load_documents(DOCUMENTS_DIR) is load_documents(str(DOCUMENTS_DIR))


def test_load_documents_rejects_a_broken_directory():
    clear_cache()
    with pytest.raises(KnowledgeBaseError) as err:
        load_documents(FIXTURES / "duplicate_eid")
    assert any("duplicate eId" in p.message for p in err.value.problems)


def test_format_provision(docs):
    out = format_provision(docs["nhc-2018-1"], "art_25__para_3")
    assert out.startswith("第二十五条第三款")
    assert (
        "医疗机构出现第一款第四项情形的，应当立即将有关情况向核发其《医疗机构执业许可证》"
        "的卫生行政部门和省级卫生行政部门报告"
    ) in out
    tree = format_provision(docs["nhc-2018-1"], "art_11")
    assert tree.startswith("第十一条\n")
    assert "\n  art_11__para_1  第十一条第一款" in tree
    assert "\n    art_11__para_1__item_3  第十一条第一款第（三）项" in tree
    sec = format_provision(docs["cq-2019-61"], "sec_3__subsec_2")
    assert sec.startswith("三、（二） 规范备案流程\n")


def test_format_outline(docs):
    out = format_outline(docs["sh-2024-13"], as_of=dt.date(2029, 8, 15))
    lines = out.split("\n")
    assert lines[0] == "上海市《医疗技术临床应用管理办法》实施细则"
    assert "沪卫规〔2024〕13号" in lines[1]
    assert "2024-08-15" in out and "2029-08-14" in out and "expired" in out
    body = [line for line in lines if re.match(r"^(art|sec|att|preamble|conclusions)", line)]
    assert len(body) == len(docs["sh-2024-13"].top_level())
    assert any(line.startswith("att_1 ") and "国家限制类技术目录（2022 年版）" in line for line in body)
    jl = format_outline(docs["jl-2021"], as_of=dt.date(2021, 6, 1))
    assert "uncertain" in jl and "不详" in jl


# --------------------------------------------------------------------------- validity


@pytest.mark.parametrize(
    "doc_id, as_of, status",
    [
        ("nhc-2018-1", "2018-08-13", "not_yet_in_force"),
        ("nhc-2018-1", "2018-10-31", "not_yet_in_force"),
        ("nhc-2018-1", "2018-11-01", "in_force"),
        ("nhc-2018-1", "2035-01-01", "in_force"),
        ("cq-2019-61", "2019-12-31", "not_yet_in_force"),
        ("cq-2019-61", "2020-01-10", "in_force"),
        ("cq-2019-61", "2025-03-10", "in_force"),
        ("hn-2018-11", "2018-11-18", "not_yet_in_force"),
        ("hn-2018-11", "2018-11-19", "in_force"),
        ("hn-2018-11", "2025-03-10", "in_force"),
        ("sh-2024-13", "2024-08-14", "not_yet_in_force"),
        ("sh-2024-13", "2024-08-15", "in_force"),
        ("sh-2024-13", "2029-08-14", "in_force"),
        ("sh-2024-13", "2029-08-15", "expired"),
        ("jl-2021", "2020-06-01", "not_yet_in_force"),
        ("jl-2021", "2021-01-01", "uncertain"),
        ("jl-2021", "2021-06-01", "uncertain"),
        ("jl-2021", "2021-12-31", "in_force"),  # the last possible start day: certainly in force
        ("jl-2021", "2022-01-01", "in_force"),
        ("jl-2021", "2023-01-01", "in_force"),
    ],
)
def test_status_on(docs, doc_id, as_of, status):
    assert docs[doc_id].status_on(dt.date.fromisoformat(as_of)) == status
    assert docs[doc_id].status_on(as_of) == status


# --------------------------------------------------------------------------- numerals and labels


@pytest.mark.parametrize(
    "n, text",
    [
        (1, "一"),
        (9, "九"),
        (10, "十"),
        (11, "十一"),
        (20, "二十"),
        (25, "二十五"),
        (41, "四十一"),
        (51, "五十一"),
        (99, "九十九"),
        (100, "一百"),
        (105, "一百零五"),
        (110, "一百一十"),
        (999, "九百九十九"),
    ],
)
def test_chinese_numeral(n, text):
    assert chinese_numeral(n) == text


def test_chinese_numeral_rejects_out_of_range():
    with pytest.raises(ValueError):
        chinese_numeral(1000)


@pytest.mark.parametrize(
    "eid, labels",
    [
        ("art_11", ("第十一条",)),
        ("art_41_2", ("第四十一条",)),
        ("art_11__para_1__item_3", ("第十一条第一款第（三）项",)),
        ("sec_3__subsec_2", ("三、（二）",)),
        ("sec_3__subsec_2__point_1", ("三、（二）一是", "三、（二）1.")),
        ("sec_5__para_2", ("五、第二段",)),
        ("preamble__para_1", ("前言第一段",)),
        ("conclusions", ("结尾",)),
        ("att_1__part_2__item_8", ("附件1第2部分第8项",)),
        ("att_2__note_2", ("附件2注2",)),
    ],
)
def test_expected_label(eid, labels):
    assert expected_label(eid) == labels


@pytest.mark.parametrize("eid", ["art_11__subsec_1", "sec_1__item_1", "att_1__point_1"])
def test_expected_label_rejects_impossible_nesting(eid):
    assert isinstance(expected_label(eid), str)


# --------------------------------------------------------------------------- broken fixtures

BROKEN = [
    ("duplicate_eid", "provisions.7.eid", "duplicate eId art_3__para_1"),
    ("unknown_key", "provisions.35.summary", "unknown field"),
    ("bad_date", "dates.published.date", "'2025-02-30' is not a valid day date"),
    ("label_mismatch", "provisions.35.label", "label 第十二条 does not match art_11 (expected 第十一条)"),
    ("empty_text", "provisions.6.text", "art_3__para_1 has empty text"),
    ("orphan_child", "provisions.5.eid", "parent art_3 of art_3__para_1 does not exist"),
]


@pytest.mark.parametrize("case, location, message", BROKEN, ids=[c[0] for c in BROKEN])
def test_broken_documents_are_reported(case, location, message):
    directory = FIXTURES / case
    files = list(directory.glob("*.yaml"))
    assert len(files) == 1
    problems = check_documents(directory)
    expected_file = str(files[0].relative_to(ROOT))
    assert problems, f"{case}: no problem reported"
    assert all(p.file == expected_file for p in problems)
    matching = [p for p in problems if p.location == location and message in p.message]
    assert matching, f"{case}: expected {location}: …{message}…, got:\n" + "\n".join(map(str, problems))


def test_every_broken_fixture_is_tested():
    assert sorted(p.name for p in FIXTURES.iterdir() if p.is_dir()) == sorted(c[0] for c in BROKEN)


def test_file_name_must_match_id(tmp_path):
    src = (DOCUMENTS_DIR / "jl-2021.yaml").read_text(encoding="utf-8")
    (tmp_path / "jl-2022.yaml").write_text(src, encoding="utf-8")
    problems = check_documents(tmp_path)
    assert [(p.location, "does not match the file name" in p.message) for p in problems] == [("id", True)]


def test_incoherent_dates(tmp_path):
    src = (DOCUMENTS_DIR / "sh-2024-13.yaml").read_text(encoding="utf-8")
    src = src.replace("date: '2029-08-14'", "date: '2024-08-01'")
    (tmp_path / "sh-2024-13.yaml").write_text(src, encoding="utf-8")
    problems = check_documents(tmp_path)
    assert [p.location for p in problems] == ["dates.in_force_until"]


def test_child_text_must_occur_in_parent(tmp_path):
    src = (DOCUMENTS_DIR / "nhc-2018-1.yaml").read_text(encoding="utf-8")
    src = src.replace(
        "  text: （一）开展临床应用的限制类技术名称和所具备的条件及有关评估材料；",
        "  text: （一）开展临床应用的限制类技术名称；",
        1,
    )
    (tmp_path / "nhc-2018-1.yaml").write_text(src, encoding="utf-8")
    problems = check_documents(tmp_path)
    assert len(problems) == 1 and "does not occur in the text of its parent art_11__para_1" in problems[0].message
