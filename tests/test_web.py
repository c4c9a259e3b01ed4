"""The web page (engine/service/web.py) in-process: the form, the answer, provisions, charts,
downloads and bad input. The same page in a real browser: tests/test_browser.py."""

from __future__ import annotations

import datetime as dt
import html
import re
import urllib.parse
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from calendar_oracle import nth_working_day_after
from engine.service import app as service
from engine.service import webform
from inventory import DOCUMENTS

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = [
    ("jurisdiction", "hunan"),
    ("inst_name", "某市第一人民医院"),
    ("category", "hospital"),
    ("level", "3"),
    ("tech", "冠心病介入治疗"),
    ("first_in_institution", "yes"),
    ("ev", "first_clinical_use"),
    ("ed", "2025-03-03"),
    ("as_of", "2025-03-10"),
]
SHANGHAI_ENDOSCOPY = [("jurisdiction", "shanghai"), ("level", "3"), ("tech", "消化内镜"), ("as_of", "2025-03-10")]


def url(pairs, path="/") -> str:
    return path + "?" + urllib.parse.urlencode(pairs)


def text_of(page: str) -> str:
    """The visible text of a page, roughly (tags dropped, entities decoded)."""
    page = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


@pytest.fixture(scope="module")
def client():
    with TestClient(service.app) as c:
        yield c


def kb_text(document: str, eid: str) -> str:
    data = yaml.safe_load((ROOT / "kb" / "documents" / f"{document}.yaml").read_text(encoding="utf-8"))
    for p in data["provisions"]:
        if p["eid"] == eid:
            return p["text"]
    raise KeyError(eid)


# --------------------------------------------------------------------------- the empty form


def test_empty_form_asks_for_the_request_in_chinese(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert '<html lang="zh-CN">' in page
    vocab = yaml.safe_load((ROOT / "kb" / "vocabulary.yaml").read_text(encoding="utf-8"))
    for j in vocab["jurisdictions"]:  # the choices come from the vocabulary
        assert f'<option value="{j["id"]}"' in page and j["name"] in page
    for event, name in vocab["event_types"].items():
        assert f'value="{event}"' in page and html.escape(name) in page
    assert 'id="answer"' not in page
    assert 'method="get"' in page  # the URL carries the request


def test_page_loads_nothing_from_outside(client):
    for path in ("/", url(EXAMPLE), "/provisions", "/provisions/nhc-2018-1/art_11__para_1"):
        page = client.get(path).text
        refs = re.findall(r'(?:src|href|action)="([^"]*)"', page)
        assert refs, path
        outside = [r for r in refs if re.match(r"^(https?:)?//", r)]
        assert not outside, (path, outside)
        assert "@import" not in page and "fonts.googleapis" not in page
    for name in ("app.css", "print.css", "app.js"):
        body = client.get(f"/static/{name}").text
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", body), name
        assert "http://" not in body and "https://" not in body, name


# --------------------------------------------------------------------------- the README's example


def test_form_query_is_the_readme_example():
    form = webform.parse_query(EXAMPLE)
    example = yaml.safe_load((ROOT / "examples" / "request.yaml").read_text(encoding="utf-8"))
    example["events"] = [{**e, "date": str(e["date"])} for e in example["events"]]
    example["as_of"] = str(example["as_of"])
    example["institution"].pop("tcm")  # false is the default; the form sends only what was ticked
    assert form.errors == {}
    assert form.request == example


def test_example_answer_on_one_screen(client):
    r = client.get(url(EXAMPLE))
    assert r.status_code == 200
    page = r.text
    due = nth_working_day_after(dt.date(2025, 3, 3), 15)  # 《办法》第十一条: 15个工作日内
    assert due == dt.date(2025, 3, 24)
    verdict = re.search(r'<p class="verdict[^"]*" id="verdict">(.*?)</p>', page).group(1)
    assert due.isoformat() in verdict and "备案" in verdict and "限制类技术" in verdict
    # the sections in the order a person acts on them
    titles = re.findall(r'<section class="sec sec-(\w+)">', page)
    assert titles[0] == "now"
    assert titles.index("now") < titles.index("to_confirm") < titles.index("ongoing")
    now = page[page.index('class="sec sec-now"') : page.index('class="sec sec-to_confirm"')]
    assert "还剩 14 天" in now  # 2025-03-10 -> 2025-03-24
    assert "核发《医疗机构执业许可证》" in now  # the addressee
    assert now.count('type="checkbox"') >= 3  # the materials as a checklist (第十一条第一款 lists three)
    assert "第十一条第一款" in now
    # no ids or Python values shown to people
    visible = text_of(page[page.index('id="answer"') : page.index('id="ask"')])
    for leak in ("None", "file-restricted-technology", "art_11", "license_issuer", "pending", "Traceback"):
        assert leak not in visible, leak


def test_every_citation_quotes_and_links_to_its_full_text(client):
    page = client.get(url(EXAMPLE)).text
    cites = re.findall(r'<details class="cite">(.*?)</details>', page, flags=re.S)
    assert len(cites) >= 10
    seen = set()
    for c in cites:
        quote = html.unescape(re.search(r"<blockquote>(.*?)</blockquote>", c, flags=re.S).group(1))
        href = re.search(r'<a class="full" href="/provisions/([^/"]+)/([^"]+)"', c)
        assert href, c
        doc, eid = href.groups()
        assert quote.strip() and quote in kb_text(doc, eid) + kb_text(doc, eid)  # verbatim
        seen.add((doc, eid))
    for doc, eid in sorted(seen)[:6]:
        full = client.get(f"/provisions/{doc}/{eid}")
        assert full.status_code == 200
        assert html.escape(kb_text(doc, eid), quote=False).split("\n")[0] in full.text


def test_provision_page_shows_the_article_with_the_cited_part_marked(client):
    r = client.get("/provisions/nhc-2018-1/art_11__para_1")
    assert r.status_code == 200
    page = r.text
    assert "第十一条第一款" in page and "《医疗技术临床应用管理办法》" in page
    assert "<mark>" in page
    assert html.escape(kb_text("nhc-2018-1", "art_11__para_2"), quote=False)[:30] in page  # the rest of the article
    assert 'href="/provisions/nhc-2018-1/art_10"' in page and 'href="/provisions/nhc-2018-1/art_12"' in page
    whole = client.get("/provisions/nhc-2018-1")
    assert whole.status_code == 200 and html.escape(kb_text("nhc-2018-1", "art_49"), quote=False)[:20] in whole.text
    index = client.get("/provisions").text
    for doc in DOCUMENTS:
        assert f'href="/provisions/{doc}"' in index


def test_unknown_provision_is_a_chinese_404(client):
    for path in ("/provisions/nhc-2018-1/art_999", "/provisions/xx-1", "/provisions/xx-1/art_1"):
        r = client.get(path)
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
        assert "未找到" in r.text


# --------------------------------------------------------------------------- missing facts


def test_missing_fact_is_asked_and_answering_it_decides(client):
    page = client.get(url(SHANGHAI_ENDOSCOPY)).text
    assert '<form class="missing"' in page
    missing = page[page.index('<form class="missing"') : page.index("</form>", page.index('<form class="missing"'))]
    assert 'name="grade"' in missing and "手术分级" in missing
    # the form keeps everything else, so answering submits the whole request again
    for k, v in SHANGHAI_ENDOSCOPY:
        assert f'name="{k}" value="{html.escape(v)}"' in missing
    assert 'class="field ask" id="q-grade"' in page  # highlighted in the main form too
    assert "尚不能确定" in re.search(r'id="verdict">(.*?)</p>', page).group(1)
    # Shanghai's catalogue lists digestive endoscopy at grade 4 only (sh-2024-13 附件)
    at4 = client.get(url(SHANGHAI_ENDOSCOPY + [("grade", "4")])).text
    at2 = client.get(url(SHANGHAI_ENDOSCOPY + [("grade", "2")])).text
    for answered in (at4, at2):
        assert "该技术的手术分级是几级" not in answered and 'class="field ask" id="q-grade"' not in answered
    assert 'class="class cls-restricted"' in at4
    assert 'class="class cls-restricted"' not in at2


def test_questions_asked_only_where_a_rule_uses_them(client):
    from engine.kb.loader import knowledge_base

    kb = knowledge_base()
    used = {f for r in kb.rules for f in r.facts_used}
    page = client.get("/").text
    for name in ("major_ethical_risk", "unapproved_product", "radiation", "first_in_jurisdiction"):
        path = f"technology.{name}"
        assert (f'id="q-{name}"' in page) == (path in used), name
        if path in used:
            docs = {r.document for r in kb.rules if path in r.facts_used}
            where = {j.id for j in kb.vocabulary.jurisdictions if docs & set(j.documents)}
            shown = re.search(rf'data-where="([^"]*)" id="q-{name}"', page).group(1).split()
            assert set(shown) == where, name


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "pairs, field, words",
    [
        ([("as_of", "2025-02-30")], "as_of", "不是存在的日期"),
        ([("as_of", "10/03/2025")], "as_of", "年-月-日"),
        ([("grade", "7")], "grade", "1 至 4"),
        ([("level", "9")], "level", "未定级"),
        ([("in_use_since", "2017-13-01")], "in_use_since", "不是存在的日期"),
    ],
)
def test_bad_input_is_shown_beside_its_field_in_chinese(client, pairs, field, words):
    base = dict(EXAMPLE)
    base.update(dict(pairs))
    r = client.get(url(list(base.items()) + [("ev", "first_clinical_use"), ("ed", "2025-03-03")]))
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    err = re.search(rf'<p class="err" id="err-{field}" role="alert">(.*?)</p>', r.text)
    assert err, r.text[:2000]
    assert words in html.unescape(err.group(1))
    assert re.search(r"[\u4e00-\u9fff]", err.group(1))
    assert 'id="answer"' not in r.text
    for leak in ("Traceback", "None", "is not", "allowed:"):
        assert leak not in text_of(r.text), leak


def test_missing_jurisdiction_and_half_filled_event(client):
    r = client.get(url([("tech", "PCI"), ("ev", "first_clinical_use"), ("ed", ""), ("ev", ""), ("ed", "2025-03-01")]))
    assert r.status_code == 422
    assert "请选择所在地区" in r.text
    assert "请填写事件日期" in r.text and "请选择事件类型" in r.text
    # an impossible event date found by the engine lands on its own row
    pairs = [p for p in EXAMPLE if p[0] not in ("ev", "ed")] + [
        ("ev", ""),
        ("ed", ""),
        ("ev", "first_clinical_use"),
        ("ed", "2025-02-30"),
    ]
    form = webform.parse_query(pairs)
    assert form.request is not None
    from engine import InvalidRequest, decide

    with pytest.raises(InvalidRequest) as exc:
        decide(form.request)
    webform.engine_errors(form, exc.value.errors)
    assert "ev.1" in form.errors and "2025-02-30" in form.events[1].error


def test_a_failure_is_a_chinese_page_without_a_traceback(client, monkeypatch):
    import engine

    def boom(request):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(engine, "decide", boom)
    r = client.get(url(EXAMPLE))
    assert r.status_code == 500 and r.headers["content-type"].startswith("text/html")
    assert "内部错误" in r.text and "secret" not in r.text and "Traceback" not in r.text


def test_catalogue_code_in_the_technology_field(client):
    page = client.get(url([("jurisdiction", "hunan"), ("tech", "S19"), ("as_of", "2025-03-10")])).text
    assert "冠心病介入治疗技术" in page and 'class="class cls-restricted"' in page


# --------------------------------------------------------------------------- flowchart, static files, downloads


def test_highlighted_chart_of_the_case(client):
    page = client.get(url(EXAMPLE)).text
    src = html.unescape(re.search(r'<img src="(/chart\.svg\?[^"]+)"', page).group(1))
    r = client.get(src)
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    svg = html.unescape(r.text)
    assert "<svg" in svg and "本例" in svg and "2025-03-24" in svg
    assert client.get("/chart.svg?jurisdiction=hunan&chart=nope").status_code == 404
    assert client.get("/chart.svg").status_code == 422


def test_static_files(client):
    for name, kind in (
        ("app.css", "text/css"),
        ("print.css", "text/css"),
        ("app.js", "text/javascript"),
        ("icon.svg", "image/svg+xml"),
    ):
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and r.headers["content-type"].startswith(kind), name
    for bad in ("/static/nope.css", "/static/..%2Fweb.py", "/static/web.py"):
        assert client.get(bad).status_code == 404, bad
    assert "@page" in client.get("/static/print.css").text and "A4" in client.get("/static/print.css").text


def test_page_is_not_in_the_api_description(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths and "/export" not in paths and not any(p.startswith("/provisions") for p in paths)


@pytest.mark.parametrize(
    "fmt, kind, suffix",
    [
        ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
        ("md", "text/markdown", ".md"),
        ("csv", "text/csv", ".csv"),
        ("ics", "text/calendar", ".ics"),
        ("text", "text/plain", ".txt"),
        ("json", "application/json", ".json"),
    ],
)
def test_downloads_carry_the_same_answer(client, fmt, kind, suffix):
    page = client.get(url(EXAMPLE)).text
    link = html.unescape(re.search(rf'<a class="dl[^"]*" href="(/export\?fmt={fmt}&[^"]+)"', page).group(1))
    r = client.get(link)
    assert r.status_code == 200 and r.headers["content-type"].startswith(kind), r.headers
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''" in disposition
    assert urllib.parse.unquote(disposition.split("filename*=UTF-8''")[1]).endswith(suffix)
    due = nth_working_day_after(dt.date(2025, 3, 3), 15)
    if fmt == "docx":
        import io

        import docx

        doc = docx.Document(io.BytesIO(r.content))
        body = "\n".join(p.text for p in doc.paragraphs) + "".join(
            c.text for t in doc.tables for row in t.rows for c in row.cells
        )
        assert due.isoformat() in body
    elif fmt == "ics":
        import icalendar

        cal = icalendar.Calendar.from_ical(r.content)
        starts = {ev.decoded("dtstart") for ev in cal.walk("VEVENT")}
        assert due in {d if isinstance(d, dt.date) and not isinstance(d, dt.datetime) else d.date() for d in starts}
    elif fmt == "json":
        assert any(o["due"] == due.isoformat() for o in r.json()["obligations"])
    else:
        assert due.isoformat() in r.content.decode("utf-8")


def test_download_needs_a_valid_query(client):
    assert client.get("/export?fmt=docx").status_code == 422
    assert client.get("/export?fmt=exe&jurisdiction=hunan").status_code == 404
    bad = client.get(url([("fmt", "md"), ("jurisdiction", "hunan"), ("as_of", "2025-02-30")], "/export"))
    assert bad.status_code == 422 and "查询不完整" in bad.text


def test_overlong_input_is_reported_not_cut(client):
    pairs = [p for p in EXAMPLE if p[0] not in ("tech", "ev", "ed")] + [("tech", "甲" * 201)]
    r = client.get(url(pairs))
    assert r.status_code == 422 and "技术名称过长" in r.text
    many = [p for p in EXAMPLE if p[0] not in ("ev", "ed")] + [("ev", "patient_discharged"), ("ed", "2025-01-02")] * 150
    r = client.get(url(many))
    assert r.status_code == 422 and 'id="answer"' not in r.text and "事件最多 100 项" in r.text
    assert len(re.findall(r'class="ev-row field', r.text)) == webform.MAX_EVENT_ROWS + webform.EXTRA_EVENT_ROWS


def test_immediate_duty_shows_when_it_arose_not_a_deadline_missed(client):
    """A duty to act 立即 on an incident dated yesterday reads 情形发生 <date> 应立即办理（已过 1 天）, not
    截止日期 … 已逾期 1 天 (which reads as a missed deadline counted from the same day)."""
    incident = dt.date(2025, 6, 3)
    pairs = [
        ("jurisdiction", "chongqing"),
        ("level", "3"),
        ("tech", "起搏器治疗技术"),
        ("first_in_institution", "no"),
        ("ev", "first_clinical_use"),
        ("ed", "2024-05-06"),
        ("ev", "filing_submitted"),
        ("ed", "2024-05-10"),
        ("ev", "serious_incident"),
        ("ed", incident.isoformat()),
        ("as_of", (incident + dt.timedelta(days=1)).isoformat()),
    ]
    r = client.get(url(pairs))
    assert r.status_code == 200
    text = " ".join(text_of(r.text).split())
    assert f"情形发生 {incident.isoformat()} 应立即办理（已过 1 天）" in text, text[:3000]
    assert "已逾期" not in text  # nor under the filing already made (已完成), whose deadline is long past


# --------------------------------------------------------------------------- provinces, indications, currency


def test_any_province_can_be_picked_and_the_encoded_ones_are_named(client):
    page = client.get("/").text
    options = re.findall(
        r'<option value="([^"]+)"[^>]*>[^<]*</option>', page.split('id="f-province"')[1].split("</select>")[0]
    )
    assert len(options) == 34 and "河南省" in options and "新疆维吾尔自治区" in options
    hint = text_of(page.split('id="province-hint"')[1].split("</p>")[0])
    for name in ("吉林省", "上海市", "湖南省", "重庆市"):
        assert name in hint
    assert "国家底线" in hint


def test_a_henan_hospital_is_told_its_provinces_rules_are_not_encoded(client):
    page = text_of(
        client.get(
            url(
                [
                    ("jurisdiction", "national"),
                    ("province", "河南省"),
                    ("level", "3"),
                    ("tech", "血液透析"),
                    ("as_of", "2026-03-02"),
                ]
            )
        ).text
    )
    assert "河南省的通知和省级限制类技术目录未收录" in page
    assert "本答复依据截至 2026-12 收录的文件" in page


def test_an_encoded_province_picked_with_national_answers_for_that_province(client):
    """全国 + 湖南省 on the form is Hunan: the page asks the engine about hunan (whose S19 lists PCI)."""
    form = webform.parse_query([("jurisdiction", "national"), ("province", "湖南省"), ("tech", "PCI")])
    assert form.request["institution"]["jurisdiction"] == "hunan"
    page = text_of(
        client.get(
            url(
                [
                    ("province", "湖南省"),
                    ("jurisdiction", "national"),
                    ("level", "3"),
                    ("tech", "PCI"),
                    ("as_of", "2025-03-10"),
                ]
            )
        ).text
    )
    assert "S19" in page


def test_the_indication_decides_a_ban_for_one_indication(client):
    base = [("jurisdiction", "national"), ("level", "3"), ("tech", "LVA"), ("as_of", "2026-03-02")]
    asked = text_of(client.get(url(base)).text)
    assert "该技术用于治疗什么疾病（适应证）？" in asked and "若用于阿尔茨海默病治疗" in asked
    banned = text_of(client.get(url(base + [("indication", "阿尔茨海默病")])).text)
    assert "禁止类技术" in banned and "决定禁止将“颈深淋巴管/结—静脉吻合术”应用于阿尔茨海默病治疗" in banned


def test_a_partly_sourced_notice_says_so_on_its_page(client):
    page = text_of(client.get("/provisions/nhc-2025-jejunoileal").text)
    assert "仅收录可取得原文的部分" in page and "决定禁止将“空肠回肠吻合术”应用于2型糖尿病治疗" in page
    assert "仅收录可取得原文的部分" not in text_of(client.get("/provisions/nhc-2018-1").text)


def test_downloads_next_to_the_verdict_in_chinese(client):
    page = client.get(url(EXAMPLE)).text
    nav = re.search(r'<nav class="downloads"[^>]*>(.*?)</nav>', page, flags=re.S).group(1)
    assert page.index('id="verdict"') < page.index('<nav class="downloads"') < page.index('class="sec sec-now"')
    labels = re.findall(r'<a class="dl[^"]*" href="/export\?fmt=(\w+)[^"]*" download>([^<]+)</a>', nav)
    assert labels[:3] == [("docx", "下载 Word 合规意见"), ("csv", "导出表格"), ("ics", "加入日历")]
    assert {f for f, _ in labels} == {"docx", "csv", "ics", "md", "text", "json"}
    assert not any(re.search(r"[A-Za-z]", t) for f, t in labels if f != "docx")  # Word is the program's name


def test_knowledge_base_version_in_words_digest_on_demand(client):
    from engine.kb.loader import knowledge_base

    page = client.get(url(EXAMPLE)).text
    kb = re.search(r'<div class="kb">(.*?)</div>', page, flags=re.S).group(1)
    assert f"本答复依据知识库第 {knowledge_base().version} 版" in kb
    assert re.search(
        r'<details class="digest"><summary>核对用的校验摘要</summary>.*sha256:[0-9a-f]{64}', kb, flags=re.S
    )


NEW_TECH = [
    ("jurisdiction", "hunan"),
    ("level", "3"),
    ("tech", "某新型基因编辑细胞疗法"),
    ("new_tech", "yes"),
    ("first_in_institution", "yes"),
    ("major_ethical_risk", "yes"),
    ("unapproved_product", ""),
    ("as_of", "2025-06-10"),
]


def test_a_technique_in_no_catalogue_is_answered_from_the_deciding_facts(client):
    """The form offers the facts that decide for a new technique, and the answer shows how each counted:
    a major ethical risk brings the ethics committee's review (nhc-2018-1 第十三条第一款), a first use at the
    institution its own 论证 (第二十一条第一款); no unapproved product, no prohibited ground: nothing from them."""
    blank = client.get("/").text
    assert 'name="new_tech"' in blank
    for name in ("major_ethical_risk", "unapproved_product", "first_in_institution", "pg"):
        assert re.search(rf'<fieldset class="[^"]*" data-deciding data-where="[^"]*" id="q-{name}"', blank), name
    page = client.get(url(NEW_TECH)).text
    panel = re.search(r'<section class="counted"[^>]*>(.*?)</section>', page, flags=re.S).group(1)
    assert "您说明该技术不在任何目录中" in panel
    items = re.findall(r"<li><strong>([^<]+)</strong>(.*?)</li>\s*(?=<li><strong>|</ul>\s*(?:<p|$))", panel, flags=re.S)
    by_q = {q: body for q, body in items}
    assert set(by_q) == {"存在重大伦理风险：是", "依赖尚未获批上市的产品：否", "禁止类情形：无", "本机构首次应用：是"}
    assert "伦理委员会" in by_q["存在重大伦理风险：是"] and "《办法》第十三条第一款" in by_q["存在重大伦理风险：是"]
    assert "论证" in by_q["本机构首次应用：是"] and "《办法》第二十一条第一款" in by_q["本机构首次应用：是"]
    assert "没有带来义务" in by_q["依赖尚未获批上市的产品：否"]
    # the question about the name acknowledges what the person said instead of only asking for a catalogue name
    missing = re.search(r'<form class="missing"[^>]*>(.*?)</form>', page, flags=re.S).group(1)
    assert "您已说明该技术不在任何目录中" in missing
    # Hunan 二、（一）第二段: a product not yet approved forbids clinical use; the answer says that it counted
    page = client.get(
        url([p if p[0] != "unapproved_product" else ("unapproved_product", "yes") for p in NEW_TECH])
    ).text
    panel = re.search(r'<section class="counted"[^>]*>(.*?)</section>', page, flags=re.S).group(1)
    assert "依赖尚未获批上市的产品：是" in panel and "《湖南通知》二、（一）第二段" in panel


def test_every_page_has_one_h1_a_skip_link_and_grouped_questions(client):
    for path in ("/", url(EXAMPLE), "/provisions", "/provisions/nhc-2018-1/art_11__para_1", url(EXAMPLE, "/compare")):
        page = client.get(path).text
        assert len(re.findall(r"<h1[ >]", page)) == 1, path
        assert re.search(r'<a class="skip" href="#main">跳到主要内容</a>', page) and 'id="main"' in page, path
    blank = client.get("/").text
    # each yes/no question is a fieldset whose legend is the question: no unlabelled 是 for a screen reader
    for name in ("major_ethical_risk", "first_in_institution"):
        block = re.search(rf'<fieldset[^>]*id="q-{name}"[^>]*>(.*?)</fieldset>', blank, flags=re.S).group(1)
        assert re.match(r"\s*<legend class=\"qtext\">[^<]+</legend>", block), name
