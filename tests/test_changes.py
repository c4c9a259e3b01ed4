"""What changed between two days (engine.register.changes, `medtech changes`): expectations worked by hand from
the texts and the catalogues (national list of 2018 as Hunan's attachment 1 reprints it, items 1-15; the 2022 list).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from engine.cli import main
from engine.kb.vocabulary import vocabulary
from engine.register.changes import build_changes
from engine.register.formats import render_changes

D = dt.date


def _kinds(ch):
    return [(c["kind"], c["before"], c["after"]) for c in ch["changes"]]


def test_hunan_2022_04_20():
    """国家限制类技术目录（2022年版） replaces the 2018 list on 2022-04-20; no Hunan or national document changes.

    2018 (湖南通知附件1 items 1-15): G01 造血干细胞移植 G02 同种胰岛移植 G03 同种异体运动系统结构性组织移植
    G04 同种异体角膜移植 G05 同种异体皮肤移植 G06 性别重置 G07 质子和重离子 G08 放射性粒子植入 G09 肿瘤深部热疗和全身热疗
    G10 肿瘤消融 G11 心室辅助 G12 人工智能辅助诊断 G13 人工智能辅助治疗 G14 颅颌面畸形颅面外科矫治术 G15 口腔颌面部肿瘤颅颌联合根治术.
    2022: G01 异基因造血干细胞移植 G02-G04 unchanged, G05 性别重置 G06 质子 G07 粒子 G08 消融 G09 心室辅助 G10 人工智能辅助治疗
    G11 ECMO G12 自体器官移植. So: 1 narrowed, 6 renumbered, 2 listed, 5 delisted = 14 catalogue changes, and the
    notice that issued the list enters into force (its 第一段: 自2022年4月20日起施行) = 15.
    """
    ch = build_changes("hunan", D(2022, 4, 19), D(2022, 4, 20))
    got = _kinds(ch)
    assert len(got) == 15
    assert got[0] == ("document_in_force", "尚未施行", "有效") and ch["changes"][0]["document"] == "nhc-2022-list"
    ch["changes"] = ch["changes"][1:]
    got = got[1:]
    assert ("technique_narrowed", "G01 造血干细胞移植技术", "G01 异基因造血干细胞移植技术") in got
    renumbered = {(b, a) for k, b, a in got if k == "technique_renumbered"}
    assert renumbered == {
        ("G06 性别重置技术", "G05 性别重置技术"),
        ("G07 质子和重离子加速器放射治疗技术", "G06 质子和重离子加速器放射治疗技术"),
        ("G08 放射性粒子植入治疗技术", "G07 放射性粒子植入治疗技术"),
        ("G10 肿瘤消融治疗技术", "G08 肿瘤消融治疗技术"),
        ("G11 心室辅助技术", "G09 心室辅助技术"),
        ("G13 人工智能辅助治疗技术", "G10 人工智能辅助治疗技术"),
    }
    assert {a for k, _, a in got if k == "technique_listed"} == {"G11 体外膜肺氧合（ECMO）技术", "G12 自体器官移植技术"}
    assert {b for k, b, _ in got if k == "technique_delisted"} == {
        "G05 同种异体皮肤移植技术",
        "G09 肿瘤深部热疗和全身热疗技术",
        "G12 人工智能辅助诊断技术",
        "G14 颅颌面畸形颅面外科矫治术",
        "G15 口腔颌面部肿瘤颅颌联合根治术",
    }
    # every change cites the 2022 list and, for an entry of 2018, Hunan's reprint of it
    for c in ch["changes"]:
        assert c["basis"][0] == {"kind": "catalogue", "id": "national-2022", "name": "国家限制类技术目录（2022年版）"}
    delisted = next(c for c in ch["changes"] if c["before"] == "G05 同种异体皮肤移植技术")
    assert {"kind": "provision", "document": "hn-2018-11", "eid": "att_1__item_5", "label": "附件1第5项"} in delisted[
        "basis"
    ]


@pytest.mark.parametrize("jurisdiction", [j.id for j in vocabulary().jurisdictions])
def test_2022_04_20_everywhere_is_the_national_list(jurisdiction):
    ch = build_changes(jurisdiction, D(2022, 4, 19), D(2022, 4, 20))
    assert len(ch["changes"]) == 15
    assert [(c["kind"], c["document"]) for c in ch["changes"][:1]] == [("document_in_force", "nhc-2022-list")]
    assert all(c["kind"].startswith("technique_") for c in ch["changes"][1:])


def test_shanghai_rules_start_and_end():
    start = build_changes("shanghai", D(2024, 8, 14), D(2024, 8, 15))
    kinds = [c["kind"] for c in start["changes"]]
    assert kinds[0] == "document_in_force" and start["changes"][0]["document"] == "sh-2024-13"
    added = {c["duty"] for c in start["changes"] if c["kind"] == "duty_added"}
    assert added == {"sh.third-party-assessment"}  # 第四十一条
    changed = {c["duty"]: c["fields"] for c in start["changes"] if c["kind"] == "duty_changed"}
    assert set(changed) >= {"nhc.file-restricted", "nhc.case-report-provincial", "nhc.authority-complete-filing"}
    assert "deadline" in changed["nhc.case-report-provincial"]  # 第十八条: every quarter's first week
    assert "deadline" in changed["nhc.authority-complete-filing"]  # 第十六条: on the spot
    assert "materials" in changed["nhc.file-restricted"]  # 第十四条
    listed = [c for c in start["changes"] if c["kind"] == "technique_listed"]
    assert len(listed) == 21 and listed[0]["after"].startswith("SH01")  # SH01-SH21
    end = build_changes("shanghai", D(2029, 8, 14), D(2029, 8, 15))
    assert end["changes"][0]["kind"] == "document_expired"
    assert {c["duty"] for c in end["changes"] if c["kind"] == "duty_removed"} == {"sh.third-party-assessment"}
    assert len([c for c in end["changes"] if c["kind"] == "technique_delisted"]) == 21


def test_jilin_blank_date_is_said():
    """吉林细则: “本细则自2021年 月 日起施行”: only the year is known."""
    ch = build_changes("jilin", D(2020, 12, 31), D(2021, 6, 1))
    doc = ch["changes"][0]
    assert (doc["kind"], doc["document"], doc["date_known"], doc["in_force_from"]) == (
        "document_in_force",
        "jl-2021",
        False,
        "2021",
    )
    assert "月日空缺" in doc["note"]
    text = render_changes(ch, "text")
    assert "月日空缺" in text.split("\n")[4]
    inside = build_changes("jilin", D(2021, 3, 1), D(2021, 6, 1))
    assert [c["kind"] for c in inside["changes"]] == ["document_uncertain"]


def test_same_day_nothing():
    ch = build_changes("national", D(2025, 1, 1), D(2025, 1, 1))
    assert ch["changes"] == []
    assert "均无变化" in render_changes(ch, "text")


def test_formats_and_cli(capsys, tmp_path):
    ch = build_changes("hunan", D(2022, 4, 19), D(2022, 4, 20))
    rows = list(csv.reader(io.StringIO(render_changes(ch, "csv").lstrip("\ufeff"))))
    assert rows[0] == ["序号", "变化", "事项", "变化前", "变化后", "依据"] and len(rows) == 16
    assert render_changes(ch, "md").count("\n| ") == 16
    assert main(["changes", "湖南", "--from", "2022-04-19", "--to", "2022-04-20", "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["changes"]) == 15
    assert main(["changes", "hunan", "--from", "2022-04-20", "--to", "2022-04-19"]) == 2
    assert "--from 2022-04-20 is after --to 2022-04-19" in capsys.readouterr().err
    out = tmp_path / "c.xlsx"
    assert (
        main(["changes", "hunan", "--from", "2022-04-19", "--to", "2022-04-20", "--format", "xlsx", "-o", str(out)])
        == 0
    )
    assert out.read_bytes()[:2] == b"PK"


def test_shanghai_across_both_dates():
    """Before 2024-08-15 and after 2029-08-14 (第四十二条: 自2024年8月15日起施行，有效期至2029年8月14日止): the rules
    came and went in between; from the first day to the last day of force nothing changes."""
    across = build_changes("shanghai", D(2024, 8, 1), D(2029, 9, 1))
    shanghai = [c for c in across["changes"] if c.get("document") == "sh-2024-13"]
    assert [c["kind"] for c in shanghai] == ["document_in_force_between"]
    assert "2024-08-15 至 2029-08-14" in shanghai[0]["note"]
    # the only other changes in between are the two national bans of 2025-07-08: each notice enters into force,
    # each bans its use (第一段) and orders it stopped (第二段); 282号 also orders the patients followed up
    others = [c for c in across["changes"] if c not in shanghai]
    assert sorted(c["kind"] for c in others) == ["document_in_force"] * 2 + ["duty_added"] * 5
    inside = build_changes("shanghai", D(2024, 8, 15), D(2029, 8, 14))["changes"]
    assert inside == others  # from the first to the last day of force, only the 2025 bans change anything
