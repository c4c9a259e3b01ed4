"""The obligations register (engine.register.model, `medtech register`): generated from kb/rules/, one row per duty.

Expected rows below are read from the texts by hand (kb/sources/, kb/documents/), not from the engine.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pytest

from engine.cli import main
from engine.kb.loader import knowledge_base
from engine.kb.vocabulary import vocabulary
from engine.register.formats import render_register
from engine.register.model import build_register

DAY = dt.date(2025, 3, 10)
PROVINCES = [j.id for j in vocabulary().jurisdictions if j.level == "provincial"]
ALL = ["national", *PROVINCES]


def _rows(reg):
    return reg["duties"] + reg["authority_duties"]


def _applies(doc_id, day):
    from engine.kb import validity

    return validity.status_on(knowledge_base().documents[doc_id].dates, day) in validity.APPLICABLE


@pytest.mark.parametrize("jurisdiction", ALL)
def test_every_rule_in_force_is_in_exactly_its_rows(jurisdiction):
    """A national rule is its own row; a provincial rule sits in the row of the national rule it relates to and of
    each national rule it displaces, or in a row of its own when it relates to none."""
    kb = knowledge_base()
    j = vocabulary().jurisdiction(jurisdiction)
    reg = build_register(jurisdiction, DAY)
    where: dict[str, set] = {}
    for row in _rows(reg):
        for rid in row["rules"]:
            where.setdefault(rid, set()).add(row["id"])
    in_force = [
        r for r in kb.rules if r.stage != "classify" and r.document in j.documents and _applies(r.document, DAY)
    ]
    assert set(where) == {r.id for r in in_force}
    national = set(vocabulary().jurisdiction("national").documents)
    for r in sorted(
        in_force, key=lambda r: (r.document not in national, bool((r.spec.get("relation") or {}).get("rule")))
    ):
        if r.document in national:
            expected = {r.id}
        else:
            related = (r.spec.get("relation") or {}).get("rule")
            # the row of the rule it relates to: a national rule's own, or the row a provincial one sits in
            home = ({related} if kb.rule_by_id[related].document in national else where[related]) if related else set()
            displaced = {d for d in r.spec.get("displaces", []) if kb.rule_by_id[d].stage == r.stage}
            expected = home | displaced or {r.id}
        assert where[r.id] == expected, r.id
    # authority duties apart
    assert all(kb.rule_by_id[x].stage == "authority" for row in reg["authority_duties"] for x in row["rules"])
    assert all(kb.rule_by_id[x].stage == "obligation" for row in reg["duties"] for x in row["rules"])


@pytest.mark.parametrize("province", PROVINCES)
@pytest.mark.parametrize("day", [DAY, dt.date(2021, 6, 1), dt.date(2019, 3, 1)])
def test_national_register_is_the_national_rows_of_every_province(province, day):
    national = {r["id"]: r["national"] for r in _rows(build_register("national", day))}
    local = {r["id"]: r["national"] for r in _rows(build_register(province, day)) if r["national"]}
    assert national and local == national


def test_shanghai_beyond_national():
    """沪卫规〔2024〕13号 read against the national measures (hand-worked):
    - 第十四条: the filing materials name the 管理委员会 and 伦理委员会 (three items of its own) and take the place of
      the national TCM filing (national art. 50): one addressee, the licence issuer, for every institution;
    - 第十八条: case data every quarter, in the first week (the national art. 36 sets no period);
    - 第四十一条: a technique new to Shanghai needs a third-party assessment and ethics review before the first case;
    - 第十六条: the authority files on the spot (national art. 11: 15 working days);
    - 第三十六条: the trainees' assessment is organised by a third party the municipal commission commissions
      (national art. 33: the base, or a third party the province commissions) — it replaces the base's duty;
    - 第三十九条第二、三款: the quality-control centres analyse the platform's data 定期或不定期, assess and feed
      back to institutions and commissions (and to the TCM authority for TCM institutions): narrower than
      national art. 37(2).
    """
    reg = build_register("shanghai", DAY)
    beyond = {(r["id"], r["origin"]) for r in _rows(reg) if r["origin"] != "national"}
    assert beyond == {
        ("nhc.file-restricted", "narrows"),
        ("nhc.file-restricted-tcm", "replaces"),
        ("nhc.case-report-provincial", "narrows"),
        ("sh.third-party-assessment", "adds"),
        ("nhc.authority-complete-filing", "narrows"),
        ("nhc.assess-trainees", "replaces"),
        ("nhc.authority-quality-feedback", "narrows"),
    }
    rows = {r["id"]: r for r in _rows(reg)}
    filing = rows["nhc.file-restricted"]
    assert [m["citation"]["label"] for m in filing["materials"]] == [
        "第十四条第一款第（一）项",
        "第十四条第一款第（二）项",
        "第十四条第一款第（三）项",
    ]
    assert "管理委员会和伦理委员会论证材料" in filing["materials"][1]["text"]
    assert filing["deadline"]["text"] == "开展首例临床应用之日起15个工作日内"
    assert (filing["deadline"]["kind"], filing["deadline"]["days"]) == ("working_days_after", 15)
    assert filing["addressee"] == "license_issuer"
    tcm = rows["nhc.file-restricted-tcm"]
    assert tcm["addressee"] == "license_issuer" and "中医医疗机构：是" in tcm["trigger"]
    assert tcm["national"]["addressee"] == "tcm_authority"
    case = rows["nhc.case-report-provincial"]
    assert case["deadline"]["kind"] == "quarter_first_week" and "每季度第1周" in case["deadline"]["text"]
    assert case["addressee_name"] == "本市医疗技术临床应用信息化管理平台"  # art. 18's own words
    third = rows["sh.third-party-assessment"]
    assert third["national"] is None and third["addressee"] == "third_party"
    assert "本省（市）首次开展：是" in third["trigger"]
    assert [c["label"] for c in third["citations"]] == ["第四十一条第一款"]
    assert rows["nhc.authority-complete-filing"]["deadline"]["kind"] == "same_day"
    # the provisions say so (verbatim text of kb/documents/sh-2024-13.yaml)
    quoted = {
        (c["document"], c["label"]): c["quote"]
        for r in _rows(build_register("shanghai", DAY, quotes=True))
        for c in r["citations"]
    }
    assert "每季度第1周" in quoted[("sh-2024-13", "第十八条第一款")]
    assert "第三方机构申请进行技术安全性、有效性评估和伦理审查" in quoted[("sh-2024-13", "第四十一条第一款")]
    assert "当场予以备案" in quoted[("sh-2024-13", "第十六条第一款")]


def test_shanghai_rows_only_while_its_rules_are_in_force():
    before = build_register("shanghai", dt.date(2024, 8, 14))
    first = build_register("shanghai", dt.date(2024, 8, 15))
    last = build_register("shanghai", dt.date(2029, 8, 14))
    after = build_register("shanghai", dt.date(2029, 8, 15))
    assert all(r["origin"] == "national" and not r["provincial"] for r in _rows(before))
    assert any(r["provincial"] for r in _rows(first)) and any(r["provincial"] for r in _rows(last))
    # after the rules expire, the register is the national one again: the 2024 one plus the 2025 bans
    # (nhc-2025-282, nhc-2025-jejunoileal: in force from 2025-07-08)
    national_after = [r["id"] for r in _rows(build_register("national", dt.date(2029, 8, 15)))]
    assert [r["id"] for r in _rows(after)] == national_after
    assert set(national_after) - {r["id"] for r in _rows(before)} == {
        r["id"] for r in _rows(build_register("national", dt.date(2025, 7, 8)))
    } - {r["id"] for r in _rows(build_register("national", dt.date(2025, 7, 7)))}
    assert {d["id"]: d["status"] for d in after["documents"]}["sh-2024-13"] == "expired"


def test_before_the_measures_nothing_applies():
    assert _rows(build_register("national", dt.date(2018, 10, 31))) == []
    assert _rows(build_register("national", dt.date(2018, 11, 1)))


def test_institution_filters():
    ids = lambda **kw: {r["id"] for r in _rows(build_register("national", DAY, **kw))}  # noqa: E731
    everyone = ids()
    # 第十五条: a committee in hospitals of level 2 and above, a working group elsewhere
    assert "nhc.organization-committee" not in ids(level=1) and "nhc.organization-working-group" in ids(level=1)
    assert "nhc.organization-working-group" not in ids(category="hospital", level=3)
    assert "nhc.organization-committee" not in ids(category="other")
    # 第五十条: a TCM institution files with the TCM authority
    assert "nhc.file-restricted" not in ids(tcm=True) and "nhc.file-restricted-tcm" in ids(tcm=True)
    assert "nhc.file-restricted-tcm" not in ids(tcm=False)
    assert {"nhc.file-restricted", "nhc.file-restricted-tcm"} <= everyone


def test_bad_filters_are_named():
    from engine.errors import InvalidRequest

    with pytest.raises(InvalidRequest) as info:
        build_register("national", DAY, category="clinic", level=7)
    assert [e["path"] for e in info.value.errors] == ["category", "level"]


def test_every_trigger_and_deadline_is_in_chinese():
    latin = re.compile(r"[A-Za-z]")
    for j in ALL:
        for r in _rows(build_register(j, DAY)):
            for view in [r, *(x for x in [r["national"], *r["provincial"]] if x)]:
                assert not latin.search(view["trigger"]), view["trigger"]
                assert not latin.search(view["deadline"]["rule"]), view["deadline"]["rule"]
            assert not latin.search(r["origin_name"] + r["action_name"] + r["actor_name"])


def test_formats():
    reg = build_register("hunan", DAY)
    n = len(_rows(reg))
    table = list(csv.reader(io.StringIO(render_register(reg, "csv").lstrip("\ufeff"))))
    assert table[0][:4] == ["序号", "类别", "来源", "触发条件"] and len(table) == n + 1
    assert json.loads(render_register(reg, "json"))["jurisdiction"]["id"] == "hunan"
    md = render_register(reg, "md")
    assert md.startswith("# 湖南省医疗技术临床应用义务清单") and md.count("\n| ") >= n
    text = render_register(reg, "text")
    assert "【本地新增】" in text and "二、行政部门的职责" in text
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(render_register(reg, "xlsx")))
    assert wb.sheetnames[0] == "医疗机构" and wb.sheetnames[-1] == "行政部门职责"
    assert sum(ws.max_row - 1 for ws in wb) == n


def test_cli(capsys, tmp_path):
    assert main(["register", "上海", "--as-of", "2025-03-10", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["jurisdiction"]["id"] == "shanghai"
    assert main(["register", "shanghai", "--format", "xlsx", "-o", str(tmp_path / "r.xlsx")]) == 0
    assert (tmp_path / "r.xlsx").read_bytes()[:2] == b"PK"
    with pytest.raises(SystemExit) as info:
        main(["register", "atlantis"])
    assert info.value.code == 2
    assert "not a supported jurisdiction" in capsys.readouterr().err


# --------------------------------------------------------------------------- HTTP: API and page


@pytest.fixture(scope="module")
def client():
    from fastapi.testclient import TestClient

    from engine.service.app import app

    return TestClient(app)


def test_api_register_same_as_cli(client):
    r = client.get("/v1/register/上海", params={"as_of": "2025-03-10", "tcm": "true"})
    assert r.status_code == 200
    assert r.json()["duties"] == build_register("shanghai", DAY, tcm=True)["duties"]
    r = client.get("/v1/register/shanghai", params={"as_of": "2025-03-10", "format": "xlsx"})
    assert r.status_code == 200 and r.content[:2] == b"PK" and "attachment" in r.headers["content-disposition"]
    r = client.get("/v1/register/shanghai", params={"format": "csv", "as_of": "2025-03-10"})
    assert r.text.lstrip("\ufeff").startswith("序号,类别,来源")


@pytest.mark.parametrize(
    ("url", "status", "path"),
    [
        ("/v1/register/guangdong", 404, "jurisdiction"),
        ("/v1/register/hunan?format=pdf", 422, "format"),
        ("/v1/register/hunan?category=clinic", 422, "category"),
        ("/v1/register/hunan?level=4", 422, "level"),
        ("/v1/register/hunan?as_of=2025-02-30", 422, "as_of"),
        ("/v1/changes/hunan?from=2022-04-21&to=2022-04-20", 422, "from"),
    ],
)
def test_api_errors_name_the_field(client, url, status, path):
    r = client.get(url)
    assert r.status_code == status
    assert r.json()["errors"][0]["path"] == path


def test_api_changes(client):
    r = client.get("/v1/changes/hunan", params={"from": "2022-04-19", "to": "2022-04-20"})
    assert r.status_code == 200 and len(r.json()["changes"]) == 15  # 14 in the list, 1 notice in force
    r = client.get("/v1/changes/jilin", params={"from": "2020-12-31", "to": "2021-06-01", "format": "text"})
    assert "月日空缺" in r.text


def test_register_page_filters(client):
    r = client.get("/register", params={"jurisdiction": "shanghai", "as_of": "2025-03-10", "origin": "narrows"})
    assert r.status_code == 200
    # 第十四条, 第十八条 (institution); 第十六条, 第三十九条 (authority)
    assert r.text.count('<tr class="origin-narrows">') == 4
    assert 'href="/static/register.css"' in r.text and "<script>" not in r.text.split("</main>")[0]
    r = client.get("/register", params={"jurisdiction": "hunan", "actor": "physician"})
    assert r.text.count('<tr class="origin-') == 1  # 医师规范化培训
    r = client.get("/register", params={"as_of": "2025-02-30"})
    assert r.status_code == 422 and "日期应为" in r.text


def test_the_words_cover_every_kind_the_rules_schema_allows():
    """kb/register.yaml names every relation kind, deadline kind and condition operator a rule may use, so that a
    province added with YAML alone gets a register without a missing word."""
    from engine.kb.schemas import load_schema
    from engine.register.words import words

    rule = load_schema("rules")["properties"]["rules"]["items"]["properties"]
    w = words()
    assert set(rule["relation"]["properties"]["kind"]["enum"]) == set(w["relation_origins"])
    assert set(w["relation_origins"].values()) | {w["displaces_origin"], w["unrelated_origin"]} <= set(w["origins"])
    assert set(rule["deadline"]["properties"]["kind"]["enum"]) == set(w["deadline_kinds"])
    from engine.kb.conditions import NEGATE

    assert set(NEGATE) | {"present", "absent"} <= set(w["operators"])


def test_rows_filtered_by_origin_actor_action(client, capsys):
    r = client.get("/v1/register/shanghai", params={"as_of": "2025-03-10", "origin": "adds"})
    assert [x["id"] for x in r.json()["duties"]] == ["sh.third-party-assessment"] and r.json()["authority_duties"] == []
    r = client.get("/v1/register/shanghai", params={"origin": "stricter"})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "origin"
    assert main(["register", "hunan", "--as-of", "2025-03-10", "--actor", "physician", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [x["action"] for x in out["duties"]] == ["train"] and out["authority_duties"] == []
