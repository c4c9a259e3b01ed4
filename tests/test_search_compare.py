"""Search, labels, comparison and catalogue diff, with expected results worked out from the
source texts (kb/documents hold them verbatim) and the State Council calendar (chinese_calendar)."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from calendar_oracle import nth_working_day_after
from engine import InvalidRequest
from engine.catalog.diff import diff_versions, format_diff
from engine.kb.documents import get_document
from engine.kb.search import format_search, provision_by_ref, search
from engine.render.compare import compare, compare_text
from processes import medtech

# --------------------------------------------------------------------------- search


def test_search_ethics_committee_finds_every_document():
    # 伦理委员会 in the texts: nhc-2018-1 第十一条第一款第（二）项 and 第十三条 (twice); cq-2019-61 附件3 二、（二）;
    # hn-2018-11 二、（二） 2.; sh-2024-13 第十四条第一款第（二）项; jl-2021 第十二条 (（四）) and 第十四条 (twice);
    # nhc-2025-282 第二段 (在伦理委员会充分论证的前提下)
    hits = search("伦理委员会")
    found = {(h.document, h.eid) for h in hits}
    assert found == {
        ("nhc-2018-1", "art_13"),
        ("nhc-2018-1", "art_11"),
        ("cq-2019-61", "att_3"),
        ("hn-2018-11", "sec_2"),
        ("sh-2024-13", "art_14"),
        ("jl-2021", "art_12"),
        ("jl-2021", "art_14"),
        ("nhc-2025-282", "para_2"),
    }
    by = {(h.document, h.eid): h for h in hits}
    assert by[("nhc-2018-1", "art_13")].hits == 2
    assert [m["eid"] for m in by[("nhc-2018-1", "art_13")].matches] == ["art_13__para_1"]
    assert [m["eid"] for m in by[("nhc-2018-1", "art_11")].matches] == ["art_11__para_1__item_2"]
    assert by[("nhc-2018-1", "art_11")].matches[0]["label"] == "第十一条第一款第（二）项"
    assert [m["eid"] for m in by[("cq-2019-61", "att_3")].matches] == ["att_3__part_2__item_2"]
    # two occurrences rank above one; the national measures come first among equals
    assert [(h.document, h.eid) for h in hits[:2]] == [("nhc-2018-1", "art_13"), ("jl-2021", "art_14")]
    assert all("伦理委员会" in h.snippet for h in hits)


def test_search_words_all_required_and_whitespace_ignored():
    # "15个工作日" is printed "15 个工作日" in some texts; both words must occur
    hits = search("15个工作日 完成备案")
    assert ("nhc-2018-1", "art_11") in {(h.document, h.eid) for h in hits}
    for h in hits:
        body = re.sub(r"\s+", "", json.dumps(h.to_dict(), ensure_ascii=False))
        assert h.hits >= 2, body
    assert search("伦理委员会 外星人") == []


def test_search_refuses_empty_query():
    with pytest.raises(ValueError):
        search("   ")


def test_format_search_marks_the_words():
    hits = search("伦理委员会")
    text = format_search("伦理委员会", hits[:1], len(hits))
    assert "【伦理委员会】" in text and "nhc-2018-1 art_13" in text and "8 条条款命中" in text


def test_labels_name_provisions():
    nhc = get_document("nhc-2018-1")
    assert provision_by_ref(nhc, "第十一条第一款") == "art_11__para_1"
    assert provision_by_ref(nhc, "第十一条第一款第（二）项") == "art_11__para_1__item_2"
    assert provision_by_ref(nhc, "art_13") == "art_13"
    hn = get_document("hn-2018-11")
    assert provision_by_ref(hn, "二、（二）") == "sec_2__subsec_2"
    assert provision_by_ref(hn, "二、(二)") == "sec_2__subsec_2"  # ASCII parentheses
    # Jilin prints 第四十一条 twice (seeds README): the label is ambiguous, both eIds are named
    with pytest.raises(ValueError, match="art_41, art_41_2"):
        provision_by_ref(get_document("jl-2021"), "第四十一条")


def test_cli_kb_show_takes_a_chinese_label_and_search_exit_codes():
    r = medtech("kb", "show", "nhc-2018-1", "第十一条第一款")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("第十一条第一款") and "开展首例临床应用之日起15个工作日内" in r.stdout
    r = medtech("kb", "show", "nhc-2018-1", "第九十九条")
    assert r.returncode == 1 and "第九十九条" in r.stderr and "Traceback" not in r.stderr
    r = medtech("kb", "search", "伦理委员会", "--jurisdiction", "上海", "--format", "json")
    assert r.returncode == 0, r.stderr
    body = json.loads(r.stdout)
    # the national notices apply in Shanghai too (nhc-2025-282 第二段 names the ethics committee)
    assert {x["document"] for x in body["results"]} == {"nhc-2018-1", "sh-2024-13", "nhc-2025-282"}
    r = medtech("kb", "search", "外星人")
    assert r.returncode == 1 and "未找到" in r.stdout


# --------------------------------------------------------------------------- compare

PCI_FIRST_CASE = {
    "as_of": "2025-03-10",
    "institution": {"jurisdiction": "hunan", "level": 3},
    "technology": {"name": "冠心病介入治疗", "first_in_institution": True},
    "events": [{"type": "first_clinical_use", "date": "2025-03-03"}],
}
PROTON_FILED = {
    "as_of": "2025-03-20",
    "institution": {"jurisdiction": "national", "level": 3},
    "technology": {"name": "质子和重离子加速器放射治疗技术", "first_in_institution": True},
    "events": [
        {"type": "first_clinical_use", "date": "2025-03-03"},
        {"type": "filing_submitted", "date": "2025-03-12"},
    ],
}


def _row(model, group, rid):
    rows = [r for r in model["rows"] if r["group"] == group and r["id"] == rid]
    assert len(rows) == 1, [r["key"] for r in model["rows"]]
    return rows[0]


def test_compare_pci_first_case_hunan_files_shanghai_does_not():
    # 冠心病介入治疗 is on Hunan's list (hn-2018-11 附件1 S19), not on Shanghai's nor the national 2022 list:
    # Hunan: file within 15 working days of the first case (nhc-2018-1 第十一条第一款); Shanghai: no filing
    model = compare(PCI_FIRST_CASE, ["hunan", "shanghai"])
    assert [j["id"] for j in model["jurisdictions"]] == ["hunan", "shanghai"]
    assert model["columns"]["hunan"]["class"] == "restricted"
    assert model["columns"]["shanghai"]["class"] == "unlisted"
    assert model["class_differs"]
    row = _row(model, "obligations", "file-restricted-technology")
    hunan = row["cells"]["hunan"]
    assert row["cells"]["shanghai"] is None and "present" in row["differs"] and row["substantive"]
    assert hunan["due"] == nth_working_day_after(dt.date(2025, 3, 3), 15).isoformat()
    assert hunan["deadline"]["text"] == "开展首例临床应用之日起15个工作日内"
    assert hunan["addressee"] == "license_issuer"
    assert any("湖南省限制类医疗技术临床应用备案表" in m for m in hunan["materials"])
    assert {"document": "nhc-2018-1", "eid": "art_11__para_1", "label": "第十一条第一款"} in hunan["citations"]
    text = compare_text(model)
    assert "技术分类  ≠" in text and "上海市：——（无此项）" in text


def test_compare_completing_a_filing_shanghai_on_the_spot_hunan_15_working_days():
    # sh-2024-13 第十六条第一款: 当场予以备案; elsewhere nhc-2018-1 第十一条第二款: 自收到完整备案材料之日起15个工作日内
    model = compare(PROTON_FILED, "national,湖南,上海")
    row = _row(model, "authority_actions", "complete-filing")
    hunan, shanghai = row["cells"]["hunan"], row["cells"]["shanghai"]
    assert hunan["deadline"]["text"] == "自收到完整备案材料之日起15个工作日内"
    assert hunan["due"] == nth_working_day_after(dt.date(2025, 3, 12), 15).isoformat()
    assert shanghai["deadline"]["kind"] == "same_day" and "当场" in shanghai["deadline"]["text"]
    assert shanghai["due"] == "2025-03-12"
    assert "sh-2024-13" in {c["document"] for c in shanghai["citations"]}
    assert row["cells"]["national"] == {**hunan, "citations": row["cells"]["national"]["citations"]}
    assert {"deadline", "due"} <= set(row["differs"]) and row["substantive"]
    assert not model["class_differs"]
    text = compare_text(model)
    assert "当场予以备案" in text and "自收到完整备案材料之日起15个工作日内" in text


def test_compare_identical_rows_are_not_marked():
    model = compare(PROTON_FILED, ["hunan", "hunan"])  # the same jurisdiction twice counts once
    assert [j["id"] for j in model["jurisdictions"]] == ["hunan"]
    assert all(r["differs"] == [] for r in model["rows"])


def test_compare_invalid_input():
    with pytest.raises(InvalidRequest) as exc:
        compare(PCI_FIRST_CASE, ["hunan", "广东"])
    assert exc.value.errors[0]["path"] == "jurisdictions.1"
    bad = {**PCI_FIRST_CASE, "events": [{"type": "first_clinical_use", "date": "2025-02-30"}]}
    with pytest.raises(InvalidRequest) as exc:
        compare(bad, ["hunan"])
    assert exc.value.errors[0]["path"] == "events.0.date"


def test_cli_compare(tmp_path):
    path = tmp_path / "case.json"
    path.write_text(json.dumps(PROTON_FILED, ensure_ascii=False), encoding="utf-8")
    r = medtech("compare", str(path), "--jurisdictions", "hunan,shanghai", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert [j["id"] for j in json.loads(r.stdout)["jurisdictions"]] == ["hunan", "shanghai"]
    r = medtech("compare", str(path), "--jurisdictions", "hunan,shanghai")
    assert r.returncode == 0 and "各地对比" in r.stdout and "当场予以备案" in r.stdout
    r = medtech("compare", str(path), "--jurisdictions", "hunan,guangdong")
    assert r.returncode == 2 and r.stderr.startswith("jurisdictions.1: guangdong is not a supported jurisdiction")


# --------------------------------------------------------------------------- catalogue diff


def _printed_list(document: str, eid: str) -> dict[str, str]:
    """{name: code} of a national list as a document prints it (lines `G01<TAB>name`)."""
    text = get_document(document).get(eid).text
    return {name.strip(): code for code, name in re.findall(r"^(G\d\d)\s+(\S+)\s*$", text, flags=re.M)}


def test_diff_national_2018_2022_as_the_printed_lists_show():
    # the 2018 list as Hunan prints it (hn-2018-11 附件1, G01-G15), the 2022 list as Shanghai prints it (sh-2024-13 附件1)
    old, new = _printed_list("hn-2018-11", "att_1"), _printed_list("sh-2024-13", "att_1")
    assert len(old) == 15 and len(new) == 12
    d = diff_versions("national-2018", "national-2022")
    only_old, only_new = set(old) - set(new), set(new) - set(old)
    # 造血干细胞移植技术 became 异基因造血干细胞移植技术: a narrowing, not a removal plus an addition
    assert [(x["old"]["name"], [e["name"] for e in x["new"]]) for x in d["narrowed"]] == [
        ("造血干细胞移植技术", ["异基因造血干细胞移植技术"])
    ]
    assert {e["name"] for e in d["removed"]} == only_old - {"造血干细胞移植技术"}
    assert {e["name"] for e in d["added"]} == only_new - {"异基因造血干细胞移植技术"}
    assert {e["name"] for e in d["added"]} == {"体外膜肺氧合（ECMO）技术", "自体器官移植技术"}
    renumbered = {n for n in set(old) & set(new) if old[n] != new[n]}
    assert {c["old"]["name"] for c in d["changed"]} == renumbered
    assert all(
        c["fields"] == ["code"]
        and (c["old"]["code"], c["new"]["code"]) == (old[c["old"]["name"]], new[c["old"]["name"]])
        for c in d["changed"]
    )
    assert d["unchanged"] == len(set(old) & set(new)) - len(renumbered)
    text = format_diff(d)
    assert "+ G11 体外膜肺氧合（ECMO）技术" in text and "- G05 同种异体皮肤移植技术" in text and "缩小为" in text


def test_cli_catalog_diff():
    r = medtech("catalog", "--diff", "national-2018", "national-2022", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert {e["code"] for e in json.loads(r.stdout)["added"]} == {"G11", "G12"}
    r = medtech("catalog", "--diff", "national-2018", "national-2030")
    assert r.returncode == 2 and "national-2030" in r.stderr and "national-2022" in r.stderr
