"""Catalogue resolution: codes, grades, validity, families, aliases, ambiguity, superseded lists.

Every expected value below was read off the source texts in kb/sources/ by hand
(Chongqing att_1, Hunan att_1, Shanghai att_1/att_2, Jilin att_1/att_2) and the seeds README
(national 2022 list in force from 2022-04-20), never from the code's output.
"""

from __future__ import annotations

import datetime as dt

import pytest

from engine.catalog import catalogs_in_force, load_catalogs, resolve
from engine.paths import CATALOGS_DIR
from engine.yamlio import load_yaml

# --------------------------------------------------------------------------- hand-written tables

# (version, number of entries, first code, first name, last code, last name)
VERSIONS = [
    ("national-2018", 15, "G01", "造血干细胞移植技术", "G15", "口腔颌面部肿瘤颅颌联合根治术"),
    ("national-2022", 12, "G01", "异基因造血干细胞移植技术", "G12", "自体器官移植技术"),
    ("chongqing-2019", 8, "CQ01", "冠心病介入治疗技术", "CQ08", "儿科呼吸内镜诊疗技术"),
    ("hunan-2018", 29, "S01", "三级及以上呼吸内镜诊疗技术", "S29", "临床基因扩增检验技术"),
    ("shanghai-2024", 21, "SH01", "肿瘤全身热疗技术", "SH21", "基因芯片诊断技术"),
    ("jilin-2021", 21, "S1", "心血管疾病介入诊疗技术（三、四级手术）", "S21", "医用高压氧治疗技术"),
]

# more entries read from the texts: (version, code, verbatim name, grades)
ENTRIES = [
    ("national-2018", "G05", "同种异体皮肤移植技术", None),
    ("national-2018", "G06", "性别重置技术", None),
    ("national-2018", "G11", "心室辅助技术", None),
    ("national-2022", "G05", "性别重置技术", None),
    ("national-2022", "G09", "心室辅助技术", None),
    ("national-2022", "G11", "体外膜肺氧合（ECMO）技术", None),
    ("chongqing-2019", "CQ07", "人工髋关节置换技术", None),
    ("hunan-2018", "S06", "三级及以上关节镜诊疗技术", [3, 4]),
    ("hunan-2018", "S14", "人工关节置换技术", None),
    ("hunan-2018", "S19", "冠心病介入治疗", None),
    ("hunan-2018", "S20", "经导管射频消融术", None),
    ("hunan-2018", "S25", "血液净化技术（含血液透析、血浆置换、腹膜透析等技术）", None),
    ("shanghai-2024", "SH02", "三、四级神经血管介入诊疗技术", [3, 4]),
    ("shanghai-2024", "SH10", "四级消化内镜诊疗技术", [4]),
    ("shanghai-2024", "SH13", "连续性肾脏替代治疗技术", None),
    ("jilin-2021", "S11", "关节镜诊疗技术（三、四级）", [3, 4]),
    ("jilin-2021", "S19", "人工关节置换技术", None),
    ("jilin-2021", "S20", "血液净化技术", None),
]

# a day on which each version is in force, and the jurisdiction to ask in
IN_FORCE = {
    "national-2018": ("national", "2020-06-01"),
    "national-2022": ("national", "2025-03-10"),
    "chongqing-2019": ("chongqing", "2025-03-10"),
    "hunan-2018": ("hunan", "2025-03-10"),
    "shanghai-2024": ("shanghai", "2025-03-10"),
    "jilin-2021": ("jilin", "2025-03-10"),
}


def in_force(version: str) -> tuple[str, str]:
    """(jurisdiction, a day the version is in force): IN_FORCE for the versions above; for one added
    later (a new jurisdiction's list), its own jurisdiction on 2025-03-10 or the day it takes effect."""
    if version in IN_FORCE:
        return IN_FORCE[version]
    data = load_yaml(CATALOGS_DIR / "versions" / f"{version}.yaml")
    start = str(((data.get("validity") or {}).get("dates") or {}).get("in_force_from", {}).get("date") or "")
    return data["jurisdiction"], max("2025-03-10", start) if len(start) == 10 else "2025-03-10"


def _versions_yaml():
    out = []
    for path in sorted((CATALOGS_DIR / "versions").glob("*.yaml")):
        data = load_yaml(path)
        out += [(data["id"], e) for e in data["entries"]]
    return out


def codes(entries) -> list[str]:
    return [x["code"] for x in entries]


def listed(res, catalog: str | None = None) -> list[str]:
    return [x["code"] for x in res.listings if catalog is None or x["catalog"] == catalog]


# --------------------------------------------------------------------------- every code resolves


@pytest.mark.parametrize("version,count,first,first_name,last,last_name", VERSIONS)
def test_versions_first_and_last_entries(version, count, first, first_name, last, last_name):
    v = load_catalogs().versions[version]
    assert len(v.entries) == count
    assert (v.entries[0].code, v.entries[0].name) == (first, first_name)
    assert (v.entries[-1].code, v.entries[-1].name) == (last, last_name)
    j, day = in_force(version)
    for code, name in ((first, first_name), (last, last_name)):
        res = resolve(code=f"{version}:{code}", jurisdiction=j, as_of=day, surgery_grade=4)
        assert res.status == "recognized"
        assert res.matched["name"] == name
        assert code in listed(res, version)


@pytest.mark.parametrize("version,code,name,grades", ENTRIES)
def test_entries_read_from_the_texts(version, code, name, grades):
    e = load_catalogs().versions[version].entry(code)
    assert e is not None and e.name == name
    assert (list(e.grades) if e.grades else None) == grades


@pytest.mark.parametrize("version,entry", _versions_yaml(), ids=lambda x: x if isinstance(x, str) else x["code"])
def test_every_code_resolves_qualified_and_plain(version, entry):
    j, day = in_force(version)
    grade = max(entry["grades"]) if entry["grades"] else None
    for code in (f"{version}:{entry['code']}", entry["code"]):
        res = resolve(code=code, jurisdiction=j, as_of=day, surgery_grade=grade)
        assert res.status == "recognized", code
        assert res.technology["id"] == entry["technology"]
        assert entry["code"] in listed(res, version)
        listing = next(x for x in res.listings if x["catalog"] == version and x["code"] == entry["code"])
        assert listing["name"] == entry["name"]
        assert listing["citation"] is not None


def test_every_catalogue_name_resolves_to_its_entry():
    for version, entry in _versions_yaml():
        j, day = in_force(version)
        grade = max(entry["grades"]) if entry["grades"] else None
        res = resolve(name=entry["name"], jurisdiction=j, as_of=day, surgery_grade=grade)
        assert res.status == "recognized", entry["name"]
        assert res.technology["id"] == entry["technology"], entry["name"]
        assert entry["code"] in listed(res, version), entry["name"]


# --------------------------------------------------------------------------- grade qualifiers


@pytest.mark.parametrize(
    "jurisdiction,name,grade,code,expected",
    [
        ("hunan", "关节镜诊疗技术", 2, "S06", False),
        ("hunan", "关节镜诊疗技术", 3, "S06", True),
        ("hunan", "关节镜诊疗技术", 4, "S06", True),
        ("shanghai", "消化内镜诊疗技术", 3, "SH10", False),
        ("shanghai", "消化内镜诊疗技术", 4, "SH10", True),
        ("shanghai", "神经血管介入诊疗技术", 3, "SH02", True),
        ("shanghai", "神经血管介入诊疗技术", 2, "SH02", False),
        ("shanghai", "外周血管介入诊疗技术", 3, "SH03", False),
        ("shanghai", "小儿外科内镜诊疗技术", 3, "SH08", True),
        ("jilin", "关节镜诊疗技术", 2, "S11", False),
        ("jilin", "关节镜诊疗技术", 3, "S11", True),
        ("jilin", "冠心病介入治疗", 3, "S1", True),
        ("jilin", "冠心病介入治疗", 2, "S1", False),
        ("chongqing", "神经血管介入诊疗技术", 1, "CQ05", True),
        ("hunan", "神经血管介入诊疗技术", 1, "S16", True),
    ],
)
def test_grade_qualifiers(jurisdiction, name, grade, code, expected):
    res = resolve(name=name, jurisdiction=jurisdiction, as_of="2025-03-10", surgery_grade=grade)
    assert res.status == "recognized"
    assert (code in listed(res)) is expected
    assert res.grade_needed == []
    if not expected:
        assert code in codes(res.grade_excluded) or code not in codes(res.listings)


@pytest.mark.parametrize(
    "jurisdiction,name,code",
    [
        ("shanghai", "消化内镜", "SH10"),
        ("hunan", "关节镜", "S06"),
        ("jilin", "关节镜", "S11"),
        ("jilin", "PCI", "S1"),
        ("shanghai", "神经血管介入", "SH02"),
    ],
)
def test_no_grade_means_grade_needed(jurisdiction, name, code):
    res = resolve(name=name, jurisdiction=jurisdiction, as_of="2025-03-10")
    assert res.status == "recognized"
    assert code not in listed(res)
    assert code in codes(res.grade_needed)
    g = next(x for x in res.grade_needed if x["code"] == code)
    assert g["grades"] and 4 in g["grades"]


def test_ungraded_entry_needs_no_grade():
    res = resolve(name="神经血管介入诊疗技术", jurisdiction="chongqing", as_of="2025-03-10")
    assert listed(res) == ["CQ05"] and res.grade_needed == []


# --------------------------------------------------------------------------- the national switch on 2022-04-20


def test_national_g05_changes_meaning():
    before = resolve(code="G05", jurisdiction="national", as_of="2022-04-19")
    after = resolve(code="G05", jurisdiction="national", as_of="2022-04-20")
    assert before.technology["id"] == "skin-allotransplantation"
    assert before.matched["name"] == "同种异体皮肤移植技术"
    assert after.technology["id"] == "sex-reassignment"
    assert after.matched["name"] == "性别重置技术"


@pytest.mark.parametrize(
    "name,before,after",
    [
        ("同种异体皮肤移植技术", ["G05"], []),
        ("人工智能辅助诊断技术", ["G12"], []),
        ("肿瘤深部热疗", ["G09"], []),
        ("颅颌面畸形颅面外科矫治术", ["G14"], []),
        ("ECMO", [], ["G11"]),
        ("自体器官移植技术", [], ["G12"]),
        ("自体肝移植", [], ["G12"]),
        ("自体造血干细胞移植", ["G01"], []),
        ("异基因造血干细胞移植", ["G01"], ["G01"]),
        ("性别重置技术", ["G06"], ["G05"]),
        ("心室辅助技术", ["G11"], ["G09"]),
        ("人工智能辅助治疗技术", ["G13"], ["G10"]),
        ("肿瘤消融治疗技术", ["G10"], ["G08"]),
    ],
)
def test_national_switch(name, before, after):
    b = resolve(name=name, jurisdiction="national", as_of="2022-04-19")
    a = resolve(name=name, jurisdiction="national", as_of="2022-04-20")
    assert b.status == a.status == "recognized"
    assert listed(b) == before and {x["catalog"] for x in b.listings} <= {"national-2018"}
    assert listed(a) == after and {x["catalog"] for x in a.listings} <= {"national-2022"}


def test_before_the_measures_nothing_is_in_force():
    assert catalogs_in_force("national", "2018-10-31") == []
    assert listed(resolve(name="性别重置技术", as_of="2018-10-31")) == []


# --------------------------------------------------------------------------- provincial validity


@pytest.mark.parametrize(
    "jurisdiction,day,expected",
    [
        ("shanghai", "2024-08-14", ["national-2022"]),
        ("shanghai", "2024-08-15", ["national-2022", "shanghai-2024"]),
        ("shanghai", "2029-08-14", ["national-2022", "shanghai-2024"]),
        ("shanghai", "2029-08-15", ["national-2022"]),
        ("chongqing", "2020-01-09", ["national-2018"]),
        ("chongqing", "2020-01-10", ["national-2018", "chongqing-2019"]),
        ("chongqing", "2025-03-10", ["national-2022", "chongqing-2019"]),
        ("hunan", "2018-11-18", ["national-2018"]),
        ("hunan", "2018-11-19", ["national-2018", "hunan-2018"]),
        ("jilin", "2020-12-31", ["national-2018"]),
        ("jilin", "2021-01-01", ["national-2018", "jilin-2021"]),  # uncertain counts as applicable
        ("jilin", "2021-12-31", ["national-2018", "jilin-2021"]),
        ("jilin", "2022-04-20", ["national-2022", "jilin-2021"]),
        ("national", "2025-03-10", ["national-2022"]),
        ("湖南省", "2025-03-10", ["national-2022", "hunan-2018"]),
    ],
)
def test_catalogs_in_force(jurisdiction, day, expected):
    assert [v.id for v in catalogs_in_force(jurisdiction, day)] == expected


@pytest.mark.parametrize(
    "jurisdiction,name,day,code",
    [
        ("shanghai", "CRRT", "2024-08-14", None),
        ("shanghai", "CRRT", "2024-08-15", "SH13"),
        ("shanghai", "CRRT", "2029-08-14", "SH13"),
        ("shanghai", "CRRT", "2029-08-15", None),
        ("chongqing", "冠心病介入治疗技术", "2020-01-09", None),
        ("chongqing", "冠心病介入治疗技术", "2020-01-10", "CQ01"),
        ("jilin", "血液净化技术", "2020-06-30", None),
        ("jilin", "血液净化技术", "2021-06-30", "S20"),
        ("jilin", "血液净化技术", "2025-03-10", "S20"),
        ("hunan", "冠心病介入治疗", "2018-11-18", None),
        ("hunan", "冠心病介入治疗", "2018-11-19", "S19"),
    ],
)
def test_provincial_lists_only_while_their_document_is_in_force(jurisdiction, name, day, code):
    res = resolve(name=name, jurisdiction=jurisdiction, as_of=day)
    assert listed(res) == ([code] if code else [])


# --------------------------------------------------------------------------- families


@pytest.mark.parametrize(
    "name,jurisdiction,expected",
    [
        ("血液透析", "hunan", ["S25"]),
        ("血液透析", "jilin", ["S20"]),
        ("血液透析", "shanghai", []),
        ("腹膜透析", "hunan", ["S25"]),
        ("血浆置换", "jilin", ["S20"]),
        ("CRRT", "shanghai", ["SH13"]),
        ("CRRT", "hunan", ["S25"]),
        ("CRRT", "jilin", ["S20"]),
        ("血液净化", "shanghai", []),
        ("血液净化", "hunan", ["S25"]),
        ("人工髋关节置换", "chongqing", ["CQ07"]),
        ("人工髋关节置换", "hunan", ["S14"]),
        ("人工髋关节置换", "jilin", ["S19"]),
        ("人工髋关节置换", "shanghai", []),
        ("人工膝关节置换", "chongqing", ["CQ06"]),
        ("人工关节置换技术", "chongqing", []),
        ("人工肩关节置换", "hunan", ["S14"]),
        ("人工肩关节置换", "chongqing", []),
        ("冠心病介入治疗", "shanghai", []),
        ("冠心病介入治疗", "chongqing", ["CQ01"]),
        ("经导管射频消融术", "chongqing", ["CQ03"]),
        ("经导管射频消融术", "hunan", ["S20"]),
        ("心脏导管消融治疗技术", "hunan", []),
        ("肿瘤全身热疗", "shanghai", ["SH01"]),
        ("肿瘤深部热疗", "shanghai", []),
        ("临床基因扩增检验技术", "shanghai", ["SH20"]),
        ("基因芯片诊断技术", "shanghai", ["SH21"]),
        ("羊水穿刺", "hunan", ["S27"]),
        ("伽玛刀", "hunan", ["S24"]),
    ],
)
def test_family_coverage(name, jurisdiction, expected):
    res = resolve(name=name, jurisdiction=jurisdiction, as_of="2025-03-10")
    assert res.status == "recognized"
    assert [c for c in listed(res) if not c.startswith("G")] == expected


def test_broader_question_is_not_matched_by_narrower_entry():
    res = resolve(name="血液净化", jurisdiction="shanghai", as_of="2025-03-10")
    assert res.listings == []
    assert codes(res.narrower_listings) == ["SH13"]
    knee = resolve(name="人工膝关节置换", jurisdiction="chongqing", as_of="2025-03-10")
    assert "CQ07" not in listed(knee)


# --------------------------------------------------------------------------- names, aliases, ambiguity


@pytest.mark.parametrize(
    "name,tech",
    [
        ("PCI", "coronary-intervention"),
        ("ＰＣＩ", "coronary-intervention"),
        ("pci", "coronary-intervention"),
        ("冠心病介入", "coronary-intervention"),
        ("冠心病介入治疗技术", "coronary-intervention"),
        (" 冠心病 介入治疗 ", "coronary-intervention"),
        ("ECMO", "ecmo"),
        ("体外膜肺氧合技术", "ecmo"),
        ("体外膜肺氧合(ECMO)技术", "ecmo"),
        ("CRRT", "crrt"),
        ("血透", "hemodialysis"),
        ("TAVR", "tavr"),
        ("TAVI", "tavr"),
        ("膝关节置换", "knee-arthroplasty"),
        ("心室辅助装置应用技术", "ventricular-assist"),
        ("颅颌面畸形颅面外科矫治技术", "craniofacial-deformity-surgery"),
        ("质子、重离子加速器放射治疗技术", "proton-heavy-ion-therapy"),
        ("性别重置手术", "sex-reassignment"),
    ],
)
def test_aliases(name, tech):
    res = resolve(name=name, jurisdiction="national", as_of="2025-03-10")
    assert res.status == "recognized"
    assert res.technology["id"] == tech


@pytest.mark.parametrize(
    "name,candidates",
    [
        ("射频消融", {"tumor-radiofrequency-ablation", "cardiac-radiofrequency-catheter-ablation"}),
        ("射频消融术", {"tumor-radiofrequency-ablation", "cardiac-radiofrequency-catheter-ablation"}),
        (
            "腹腔镜",
            {"general-surgery-endoscopy", "gynecologic-endoscopy", "urologic-endoscopy", "pediatric-surgery-endoscopy"},
        ),
        ("透析", {"hemodialysis", "peritoneal-dialysis"}),
        ("干细胞移植", {"hsct", "stem-cell-therapy"}),
    ],
)
def test_ambiguous_names(name, candidates):
    res = resolve(name=name, jurisdiction="hunan", as_of="2025-03-10")
    assert res.status == "ambiguous"
    assert res.technology is None and res.listings == []
    assert {c["id"] for c in res.candidates} == candidates


@pytest.mark.parametrize("name", ["阑尾炎手术", "牙齿美白", "量子波动治疗", "xyz"])
def test_unknown_names(name):
    res = resolve(name=name, jurisdiction="hunan", as_of="2025-03-10")
    assert res.status == "not_recognized"
    assert res.technology is None and res.listings == []


@pytest.mark.parametrize(
    "name,best",
    [
        ("心脏起博器", "cardiac-pacing"),  # 博 for 搏
        ("血液透折", "hemodialysis"),  # 折 for 析
        ("冠心病介入治liao", "coronary-intervention"),
    ],
)
def test_misspellings_are_suggested_never_recognized(name, best):
    res = resolve(name=name, jurisdiction="hunan", as_of="2025-03-10")
    assert res.status == "not_recognized"
    assert res.candidates and res.candidates[0]["id"] == best
    scores = [c["score"] for c in res.candidates]
    assert scores == sorted(scores, reverse=True)


# --------------------------------------------------------------------------- codes


@pytest.mark.parametrize(
    "code,jurisdiction,day,tech,name",
    [
        ("hunan:S19", None, "2025-03-10", "coronary-intervention", "冠心病介入治疗"),
        ("hunan-2018:S19", None, "2025-03-10", "coronary-intervention", "冠心病介入治疗"),
        ("湖南:S25", None, "2025-03-10", "blood-purification", "血液净化技术（含血液透析、血浆置换、腹膜透析等技术）"),
        ("national-2022:G05", None, "2025-03-10", "sex-reassignment", "性别重置技术"),
        ("national-2018:G05", None, "2025-03-10", "skin-allotransplantation", "同种异体皮肤移植技术"),
        ("hunan:G05", None, "2023-06-01", "skin-allotransplantation", "同种异体皮肤移植技术"),
        ("hunan-2018:G05", None, "2023-06-01", "skin-allotransplantation", "同种异体皮肤移植技术"),
        ("jilin:G14", None, "2023-06-01", "craniofacial-deformity-surgery", "颅颌面畸形颅面外科矫治技术"),
        ("shanghai:G05", None, "2025-03-10", "sex-reassignment", "性别重置技术"),
        ("jilin:S1", None, "2025-03-10", "cardiovascular-intervention", "心血管疾病介入诊疗技术（三、四级手术）"),
        ("S01", "jilin", "2025-03-10", "cardiovascular-intervention", "心血管疾病介入诊疗技术（三、四级手术）"),
        ("s1", "hunan", "2025-03-10", "respiratory-endoscopy", "三级及以上呼吸内镜诊疗技术"),
        ("CQ07", "chongqing", "2025-03-10", "hip-arthroplasty", "人工髋关节置换技术"),
    ],
)
def test_codes(code, jurisdiction, day, tech, name):
    res = resolve(code=code, jurisdiction=jurisdiction, as_of=day)
    assert res.status == "recognized"
    assert res.technology["id"] == tech
    assert res.matched["name"] == name


def test_qualified_code_implies_the_jurisdiction():
    res = resolve(code="hunan:S19", as_of="2025-03-10")
    assert res.jurisdiction == "hunan"
    assert listed(res) == ["S19"]
    explicit = resolve(code="hunan:S19", jurisdiction="shanghai", as_of="2025-03-10")
    assert explicit.technology["id"] == "coronary-intervention" and listed(explicit) == []


def test_plain_code_with_several_meanings_is_ambiguous():
    res = resolve(code="S19", jurisdiction="all", as_of="2025-03-10")
    assert res.status == "ambiguous"
    assert {c["id"] for c in res.candidates} == {"coronary-intervention", "joint-arthroplasty"}


def test_code_not_in_force_there_is_not_recognized_with_suggestions():
    res = resolve(code="S19", jurisdiction="shanghai", as_of="2025-03-10")
    assert res.status == "not_recognized"
    assert {"coronary-intervention", "joint-arthroplasty"} <= {c["id"] for c in res.candidates}
    assert resolve(code="SH13", jurisdiction="shanghai", as_of="2024-08-14").status == "not_recognized"
    assert resolve(code="X99", jurisdiction="hunan", as_of="2025-03-10").status == "not_recognized"
    assert resolve(code="nowhere:S19", as_of="2025-03-10").status == "not_recognized"


def test_plain_g05_in_hunan_after_the_switch_is_ambiguous():
    # issue 20 (contract §5 "Unknowns"): Hunan's attachment reproduces the 2018 list, where G05 is skin
    # allografts; in the 2022 list it is sex reassignment - a bare G05 is asked, each meaning qualified
    res = resolve(code="G05", jurisdiction="hunan", as_of="2023-06-01")
    assert res.status == "ambiguous" and res.technology is None
    assert {(c["id"], c["qualified"]) for c in res.candidates} == {
        ("sex-reassignment", "national-2022:G05"),
        ("skin-allotransplantation", "hunan:G05"),
    }
    # a qualified code decides it
    assert (
        resolve(code="national-2022:G05", jurisdiction="hunan", as_of="2023-06-01").technology["id"]
        == "sex-reassignment"
    )
    assert (
        resolve(code="hunan:G05", jurisdiction="hunan", as_of="2023-06-01").technology["id"]
        == "skin-allotransplantation"
    )


def test_plain_g05_before_the_switch_is_not_ambiguous():
    # near-miss: on 2022-04-19 the 2018 list is in force and Hunan's reproduction means the same G05
    res = resolve(code="G05", jurisdiction="hunan", as_of="2022-04-19")
    assert res.status == "recognized" and res.technology["id"] == "skin-allotransplantation"


# --------------------------------------------------------------------------- superseded reproductions


def test_hunan_2023_skin_allograft_superseded():
    res = resolve(name="同种异体皮肤移植", jurisdiction="hunan", as_of="2023-06-01")
    assert res.status == "recognized" and res.listings == []
    assert res.superseded == [
        {
            "catalog": "national-2018",
            "code": "G05",
            "name": "同种异体皮肤移植技术",
            "reproduced_in": {"document": "hn-2018-11", "eid": "att_1__item_5"},
            "in_force_listing": None,
        }
    ]


@pytest.mark.parametrize(
    "jurisdiction,name,code,printed,eid,now",
    [
        ("jilin", "性别重置技术", "G06", "性别重置技术", "att_1__item_6", "G05"),
        ("chongqing", "心室辅助技术", "G11", "心室辅助装置应用技术", "att_1__part_1__item_11", "G09"),
        ("hunan", "自体造血干细胞移植", "G01", "造血干细胞移植技术", "att_1__item_1", None),
        ("jilin", "人工智能辅助诊断", "G12", "人工智能辅助诊断技术", "att_1__item_12", None),
    ],
)
def test_superseded_entries(jurisdiction, name, code, printed, eid, now):
    res = resolve(name=name, jurisdiction=jurisdiction, as_of="2023-06-01")
    assert len(res.superseded) == 1
    s = res.superseded[0]
    assert (s["catalog"], s["code"], s["name"], s["reproduced_in"]["eid"]) == ("national-2018", code, printed, eid)
    assert (s["in_force_listing"]["code"] if s["in_force_listing"] else None) == now


@pytest.mark.parametrize(
    "jurisdiction,name,day",
    [
        ("hunan", "异基因造血干细胞移植", "2023-06-01"),  # G01 in both lists
        ("hunan", "同种异体皮肤移植", "2020-06-01"),  # the 15-item list still in force
        ("shanghai", "性别重置技术", "2025-03-10"),  # Shanghai reproduces the list in force
        ("national", "同种异体皮肤移植", "2023-06-01"),  # the national measures reproduce nothing
        ("chongqing", "ECMO", "2023-06-01"),  # not in the old list at all
    ],
)
def test_not_superseded(jurisdiction, name, day):
    assert resolve(name=name, jurisdiction=jurisdiction, as_of=day).superseded == []


def test_reproduction_cited_while_the_old_list_is_in_force():
    res = resolve(name="同种异体皮肤移植", jurisdiction="hunan", as_of="2020-06-01")
    assert res.listings[0]["catalog"] == "national-2018" and res.listings[0]["code"] == "G05"
    assert res.listings[0]["citation"] == {"document": "hn-2018-11", "eid": "att_1__item_5"}
    sh = resolve(name="ECMO", jurisdiction="shanghai", as_of="2025-03-10")
    assert sh.listings[0]["citation"] == {"document": "sh-2024-13", "eid": "att_1__item_11"}


# --------------------------------------------------------------------------- prohibited and out of scope


@pytest.mark.parametrize(
    "name,jurisdiction,ground",
    [
        ("代孕", "hunan", "major_ethical_problem"),
        ("克隆治疗技术", "hunan", "major_ethical_problem"),
        ("脑下垂体酒精毁损术治疗顽固性疼痛", "hunan", "unproven_safety_efficacy"),
        ("断骨增高", "hunan", "administratively_banned"),
        ("角膜放射状切开术", "hunan", "obsolete"),
        ("代孕", "shanghai", None),
        ("肢体延长术", "hunan", None),
    ],
)
def test_prohibited(name, jurisdiction, ground):
    res = resolve(name=name, jurisdiction=jurisdiction, as_of="2025-03-10")
    assert res.status == "recognized"
    if ground is None:
        assert res.prohibited == []
    else:
        assert [p["ground"] for p in res.prohibited] == [ground]
        assert res.prohibited[0]["citation"] == {"document": "hn-2018-11", "eid": "sec_2__subsec_1"}


@pytest.mark.parametrize(
    "name,jurisdiction,family,eids",
    [
        ("肝移植", "national", "human-organ-transplantation", ["nhc-2018-1:art_47"]),
        ("肝移植", "jilin", "human-organ-transplantation", ["nhc-2018-1:art_47", "jl-2021:art_41_2"]),
        ("试管婴儿", "hunan", "assisted-reproduction", ["nhc-2018-1:art_47"]),
        ("CAR-T", "shanghai", "cell-therapy", ["nhc-2018-1:art_47"]),
        ("自体器官移植", "national", None, []),
        ("自体肝移植", "national", None, []),
        ("造血干细胞移植", "national", None, []),
        ("同种胰岛移植", "national", None, []),
    ],
)
def test_out_of_scope(name, jurisdiction, family, eids):
    res = resolve(name=name, jurisdiction=jurisdiction, as_of="2025-03-10")
    assert res.status == "recognized"
    if family is None:
        assert res.out_of_scope is None
    else:
        assert res.out_of_scope["family"] == family
        assert [f"{c['document']}:{c['eid']}" for c in res.out_of_scope["citations"]] == eids


# --------------------------------------------------------------------------- shape


def test_to_dict_is_json_ready_and_detached():
    import json

    res = resolve(name="关节镜", jurisdiction="hunan", as_of="2025-03-10")
    d = res.to_dict()
    json.dumps(d, ensure_ascii=False)
    assert {
        "query",
        "status",
        "technology",
        "candidates",
        "listings",
        "grade_needed",
        "prohibited",
        "out_of_scope",
        "superseded",
    } <= set(d)
    d["grade_needed"][0]["code"] = "changed"
    assert res.grade_needed[0]["code"] == "S06"


def test_unknown_jurisdiction():
    from engine.errors import NotFound

    with pytest.raises(NotFound):
        resolve(name="PCI", jurisdiction="广东", as_of="2025-03-10")


def test_dates_accepted_as_date_objects():
    assert listed(resolve(name="PCI", jurisdiction="hunan", as_of=dt.date(2025, 3, 10))) == ["S19"]


# --------------------------------------------------------------------------- bans for one indication


@pytest.mark.parametrize("jurisdiction", ["national", "chongqing", "hunan", "shanghai", "jilin"])
def test_a_ban_for_one_indication_applies_everywhere_from_its_day(jurisdiction):
    """nhc-2025-282 (published 2025-07-08) bans LVA for 阿尔茨海默病 only: from that day the resolution names
    the ban with its indication, in every jurisdiction; it is not a plain prohibition, and nothing before."""
    before = resolve("LVA", jurisdiction=jurisdiction, as_of=dt.date(2025, 7, 7))
    assert before.indication_bans == [] and before.prohibited == [] and before.prohibited_elsewhere == []
    after = resolve("LVA", jurisdiction=jurisdiction, as_of=dt.date(2025, 7, 8))
    assert [(b["id"], b["indication"]["name"], b["citation"]) for b in after.indication_bans] == [
        ("lva-for-alzheimers-disease", "阿尔茨海默病", {"document": "nhc-2025-282", "eid": "para_1"})
    ]
    assert after.prohibited == []
