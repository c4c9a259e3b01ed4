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

CASE = [("as_of", "2025-03-20"), ("jurisdiction", "hunan"), ("level", "3"), ("tech", "质子和重离子加速器放射治疗技术"),
        ("first_in_institution", "yes"), ("ev", "first_clinical_use"), ("ed", "2025-03-03"),
        ("ev", "filing_submitted"), ("ed", "2025-03-12")]


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
    assert "完成备案" in only          # Shanghai's 当场 keeps it


def test_compare_view_needs_a_valid_case(client):
    r = client.get("/compare")
    assert r.status_code == 422 and "查询不完整" in r.text
    r = client.get("/compare?" + urlencode(CASE + [("cj", "guangdong")]))
    assert r.status_code == 422


def test_answer_page_links_to_the_comparison(client):
    page = client.get("/?" + urlencode(CASE)).text
    assert re.search(r'href="/compare\?[^"]*jurisdiction=hunan', page) and "各地对比" in page
