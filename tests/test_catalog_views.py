"""Crosswalk, catalogue listing and search text (engine.catalog)."""

from __future__ import annotations

import csv
import io

from engine.catalog import crosswalk, crosswalk_csv, crosswalk_markdown, format_catalog, format_search, load_catalogs
from inventory import CATALOG_VERSIONS

VERSIONS = set(CATALOG_VERSIONS)


def _row(tech):
    return next(r for r in crosswalk() if r["technology"] == tech)


def test_crosswalk_has_one_row_per_technology_and_a_column_per_version():
    rows = crosswalk()
    assert len(rows) == len(load_catalogs().taxonomy.nodes)
    assert set(rows[0]) >= VERSIONS


def test_crosswalk_cells():
    hd = _row("hemodialysis")
    assert (hd["hunan-2018"], hd["jilin-2021"], hd["shanghai-2024"]) == ("(S25)", "(S20)", "")
    crrt = _row("crrt")
    assert (crrt["shanghai-2024"], crrt["hunan-2018"]) == ("SH13", "(S25)")
    assert _row("arthroscopy")["hunan-2018"] == "S06[3,4]"
    sex = _row("sex-reassignment")
    assert (sex["national-2018"], sex["national-2022"]) == ("G06", "G05")
    hip = _row("hip-arthroplasty")
    assert (hip["chongqing-2019"], hip["hunan-2018"], hip["jilin-2021"]) == ("CQ07", "(S14)", "(S19)")


def test_crosswalk_csv_and_markdown():
    rows = list(csv.DictReader(io.StringIO(crosswalk_csv())))
    assert len(rows) == len(crosswalk())
    md = crosswalk_markdown()
    assert md.startswith("| technology | name |") and "| crrt |" in md


def test_format_catalog():
    sh = format_catalog("shanghai", "2025-03-10")
    assert "SH13" in sh and "连续性肾脏替代治疗技术" in sh and "G11" in sh and "体外膜肺氧合（ECMO）技术" in sh
    assert "G15" not in sh
    assert "SH13" not in format_catalog("shanghai", "2024-08-14")
    hn = format_catalog("hunan", "2023-06-01")
    assert "S29" in hn and "national-2018" in hn and "被替代" in hn
    assert "〔限三级、四级〕" in hn
    hn_2019 = format_catalog("hunan", "2019-06-01")
    assert "G15" in hn_2019 and "被替代" not in hn_2019


def test_format_search():
    text = format_search("PCI", "hunan", "2025-03-10")
    assert "冠心病介入治疗技术" in text and "S19" in text
    assert "SH10" in format_search("消化内镜", "shanghai", "2025-03-10")
    assert "多项" in format_search("射频消融", "hunan", "2025-03-10")
    assert "未能识别" in format_search("量子波动治疗", "hunan", "2025-03-10")
    code = format_search("hunan:G05", None, "2023-06-01")
    assert "同种异体皮肤移植技术" in code and "替代" in code
