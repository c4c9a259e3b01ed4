"""The web page's comparison view (GET /compare, engine.service.webcompare): the page's case in
several jurisdictions side by side. Expected values from the texts and the State Council calendar."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from calendar_oracle import nth_working_day_after
from engine.service import app as service

CASE = [
    ("as_of", "2025-03-20"),
    ("jurisdiction", "hunan"),
    ("level", "3"),
    ("tech", "质子和重离子加速器放射治疗技术"),
    ("first_in_institution", "yes"),
    ("ev", "first_clinical_use"),
    ("ed", "2025-03-03"),
    ("ev", "filing_submitted"),
    ("ed", "2025-03-12"),
]


@pytest.fixture(scope="module")
def client():
    with TestClient(service.app) as c:
        yield c


def _row(html: str, action_zh: str) -> str:
    """The table row whose heading names the action."""
    rows = re.findall(r"<tr[^>]*>.*?</tr>", html, flags=re.S)
    hits = [r for r in rows if f"<strong>{action_zh}</strong>" in r]
    assert len(hits) == 1, action_zh
    return hits[0]


def test_compare_view_shows_each_jurisdiction_and_marks_differences(client):
    r = client.get("/compare?" + urlencode(CASE + [("cj", "hunan"), ("cj", "shanghai")]))
    assert r.status_code == 200, r.text[:500]
    html = r.text
    assert re.search(r"<th scope=\"col\">湖南省</th><th scope=\"col\">上海市</th>", html)
    row = _row(html, "完成备案")
    # nhc-2018-1 第十一条第二款 in Hunan: 15 working days from the complete filing (2025-03-12);
    # sh-2024-13 第十六条第一款 in Shanghai: on the spot (当场予以备案)
    hunan_due = nth_working_day_after(dt.date(2025, 3, 12), 15).isoformat()
    assert f"截止 {hunan_due}" in row and "当场予以备案" in row and "截止 2025-03-12" in row
    assert 'class="diff"' in row and "≠" in row
    assert 'href="/provisions/sh-2024-13/art_16__para_1"' in row


def test_compare_view_only_differences_and_default_jurisdictions(client):
    everything = client.get("/compare?" + urlencode(CASE)).text
    assert all(f'<th scope="col">{n}</th>' in everything for n in ("全国", "重庆市", "湖南省", "上海市", "吉林省"))
    only = client.get("/compare?" + urlencode(CASE + [("only", "diff")])).text
    assert "各地相同（仅引用条款不同），已隐藏" in only
    assert only.count("<tr") < everything.count("<tr")
    assert "完成备案" in only  # Shanghai's 当场 keeps it


def test_compare_view_needs_a_valid_case(client):
    r = client.get("/compare")
    assert r.status_code == 422 and "查询不完整" in r.text
    r = client.get("/compare?" + urlencode(CASE + [("cj", "guangdong")]))
    assert r.status_code == 422


def test_answer_page_links_to_the_comparison(client):
    page = client.get("/?" + urlencode(CASE)).text
    assert re.search(r'href="/compare\?[^"]*jurisdiction=hunan', page) and "各地对比" in page


def _visible_text(html: str) -> str:
    """The page's text as read: tags (and so the hrefs inside them) removed."""
    return re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S))


def test_compare_view_names_documents_and_catalogues_not_ids(client):
    """Citations by short title (kb/vocabulary.yaml document_short_titles) and listings by catalogue name."""
    html = client.get("/compare?" + urlencode(CASE)).text
    text = _visible_text(html)
    for raw in ("nhc-2018-1", "sh-2024-13", "hn-2018-11", "cq-2019-61", "jl-2021", "national-2022", "national-2018"):
        assert raw not in text, raw
    assert "《办法》" in text and "《上海细则》" in text and "《湖南通知》" in text
    # the national catalogue (2022 edition) lists proton and heavy-ion therapy
    from engine.catalog import load_catalogs

    names = {v.name for v in load_catalogs().versions.values()}
    assert any(n in text for n in names)


def test_compare_view_states_the_case(client):
    html = client.get("/compare?" + urlencode(CASE)).text
    case = re.search(r'<dl class="case cmp-case">(.*?)</dl>', html, flags=re.S).group(1)
    text = _visible_text(case)
    assert "三级" in text and "质子和重离子加速器放射治疗技术" in text
    assert "2025-03-03 首例临床应用；2025-03-12 备案材料已提交" in text
    assert "2025-03-20" in text and "本机构首次应用：是" in text


def test_compare_view_blocks_for_a_phone_put_differences_first(client):
    html = client.get("/compare?" + urlencode(CASE + [("cj", "hunan"), ("cj", "shanghai")])).text
    cards = re.findall(
        r'<details class="cmp-card"[^>]*>(.*?)</details>\s*(?=<details class="cmp-card"|</div>)', html, flags=re.S
    )
    assert len(cards) == 2 and "湖南省" in cards[0] and "上海市" in cards[1]
    assert re.search(r'<details class="cmp-card" open>\s*<summary><h2 id="card-hunan">', html)  # the case's own, open
    for card in cards:
        # sh-2024-13 第十六条第一款 (当场予以备案) against 15 working days elsewhere: 完成备案 differs, so it is listed
        # before the acts that are the same everywhere (those are folded away)
        assert card.index("与其他地区不同的事项") < card.index("完成备案") < card.index("各地相同的事项")


def test_compare_view_prints_materials_and_every_citation(client):
    """On paper nothing can be opened: materials and long citation lists are printed out (print-only copies)."""
    html = client.get("/compare?" + urlencode(CASE + [("cj", "hunan")])).text
    assert re.search(r'<details class="mats screen-only[^"]*"><summary>材料 \d+ 项</summary>', html)
    assert re.search(r'<div class="print-only[^"]*"><p>材料：</p><ol><li>', html)
