"""Flowcharts for trainers (issue 13 §1): every route the engine decides appears where its rules
are in force and nowhere else, the hospital's own duties run from its first case, the highlighted
path is continuous, labels break between words, and the slide formats (landscape PNG, PDF, SVG
with font fallbacks, --chart all).

Expected presence follows the texts and their dates (seeds): 沪卫规〔2024〕13号 is in force from
2024-08-15 and its art. 41 is the only third-party assessment; national art. 49, Hunan 六、（一）
and Jilin art. 42/43 are the transitional provisions; only the Jilin rules report physicians.
"""

from __future__ import annotations

import re

import pytest

from engine.cli.flowchart import cli_main
from engine.flowchart import render_chart
from engine.flowchart.build import build_graph, chart_names, load_spec, short_material
from engine.flowchart.render import wrap
from engine.kb.loader import knowledge_base
from engine.kb.rules import split_ref
from inventory import JURISDICTIONS

AS_OF = "2025-01-01"


@pytest.fixture(scope="module")
def filing():
    return {j: build_graph(j, "filing", AS_OF) for j in JURISDICTIONS}


def _docs(node) -> set[str]:
    return {split_ref(c)[0] for c in node.get("citations", [])}


# --------------------------------------------------------------------------- routes per jurisdiction and date


@pytest.mark.parametrize("jurisdiction", JURISDICTIONS)
def test_third_party_assessment_only_in_shanghai(filing, jurisdiction):
    G = filing[jurisdiction]
    for step in ("third-party-assessment", "unlisted.third-party-assessment"):
        assert (step in G) is (jurisdiction == "shanghai"), step
        if step in G:
            assert "sh-2024-13:art_41__para_1" in G.nodes[step]["citations"]
            assert "仅限：本省（市）首次开展的新技术" in G.nodes[step]["label"]


def test_no_shanghai_route_before_its_measures_took_effect():
    before = build_graph("shanghai", "filing", "2024-08-14")
    on = build_graph("shanghai", "filing", "2024-08-15")
    assert "third-party-assessment" not in before and "unlisted.third-party-assessment" not in before
    assert "third-party-assessment" in on
    assert all(_docs(d) <= {"nhc-2018-1"} for _, d in before.nodes(data=True))


@pytest.mark.parametrize("jurisdiction", ["national", "chongqing", "hunan", "jilin"])
def test_tcm_route(filing, jurisdiction):
    G = filing[jurisdiction]
    node = G.nodes["file-tcm"]
    assert node["addressees"] == ["tcm_authority"]
    assert "中医药主管部门" in node["label"] and "仅限：中医医疗机构" in node["label"]
    assert "仅限：中医以外的医疗机构" in G.nodes["file"]["label"]
    assert G.has_edge("first-case", "file-tcm") and G.has_edge("file-tcm", "complete-filing")
    # the national rule (art. 11 and the TCM authority) is always there; a province's own TCM rule
    # only in that province
    assert "nhc.file-restricted-tcm" in node["rules"]
    local = {
        "chongqing": "cq.file-restricted-tcm",
        "hunan": "hn.file-restricted-tcm",
        "jilin": "jl.file-restricted-tcm",
    }
    assert (local.get(jurisdiction) in node["rules"]) is (jurisdiction != "national")


def test_no_tcm_route_in_shanghai_once_its_measures_apply():
    """sh-2024-13 art. 14 (with art. 7): every institution, TCM included, files with its licence
    issuer; the national TCM route applies in Shanghai only before 2024-08-15."""
    assert "file-tcm" in build_graph("shanghai", "filing", "2024-08-14")
    G = build_graph("shanghai", "filing", "2024-08-15")
    assert "file-tcm" not in G
    assert "仅限：中医以外的医疗机构" not in G.nodes["file"]["label"]


def test_no_route_before_the_national_measures():
    G = build_graph("national", "filing", "2018-10-31")
    assert {d["kind"] for _, d in G.nodes(data=True)} <= {"start", "decision"}


@pytest.mark.parametrize(
    "jurisdiction,expected",
    [
        ("national", {"nhc-2018-1:art_49__para_1"}),
        ("chongqing", {"nhc-2018-1:art_49__para_1"}),
        ("hunan", {"nhc-2018-1:art_49__para_1", "hn-2018-11:sec_6__subsec_1"}),
        ("shanghai", {"nhc-2018-1:art_49__para_1"}),
        ("jilin", {"nhc-2018-1:art_49__para_1", "jl-2021:art_42__para_1"}),
    ],
)
def test_transitional_filing(filing, jurisdiction, expected):
    G = filing[jurisdiction]
    assert G.edges["restricted.in-use", "transitional.self-assess"]["label"] == "是（过渡期）"
    assert G.edges["restricted.in-use", "self-assess"]["label"] == "否（新开展）"
    node = G.nodes["transitional.file"]
    assert set(node["citations"]) == expected
    assert G.has_edge("transitional.file", "complete-filing")
    # the regular filing keeps its own rules: no transitional rule in it, and vice versa
    assert not set(node["rules"]) & set(G.nodes["file"]["rules"])
    # only Jilin's art. 43 asks for the list of physicians in the transition
    assert ("transitional.report-physicians" in G) is (jurisdiction == "jilin")
    if jurisdiction == "jilin":
        assert G.nodes["transitional.report-physicians"]["citations"] == ["jl-2021:art_43__para_1"]


def test_no_transition_question_without_transitional_rules(monkeypatch):
    """A decision left with one branch is left out: without transitional rules, 限制类 leads
    straight to the self-assessment."""
    kb = knowledge_base()
    kept = [r for r in kb.rules if r.id not in {"nhc.file-transitional", "nhc.self-assess-transitional"}]
    monkeypatch.setattr(type(kb), "rules", property(lambda self: kept), raising=False)
    try:
        G = build_graph("national", "filing", AS_OF)
    except AttributeError:
        pytest.skip("the knowledge base's rules cannot be replaced here")
    assert "restricted.in-use" not in G and "transitional.file" not in G
    assert G.edges["classify", "self-assess"]["class"] == "restricted"


@pytest.mark.parametrize("jurisdiction", JURISDICTIONS)
def test_ethics_review_for_a_major_ethical_risk(filing, jurisdiction):
    G = filing[jurisdiction]
    node = G.nodes["unlisted.ethics-review"]
    assert "仅限：存在重大伦理风险的技术" in node["label"]
    # national art. 13: restricted or unlisted technique with a major ethical risk; Jilin's own
    # ethics rule is for restricted techniques and stays in the restricted route
    assert node["rules"] == ["nhc.ethics-major-risk"]
    assert G.has_edge("classify", "unlisted.ethics-review")
    assert "nhc.ethics-restricted" in G.nodes["ethics-review"]["rules"]


def test_training_chart_per_jurisdiction():
    acts = {
        "file-training-base",
        "file-training-plan",
        "publish-training-plan",
        "publish-training-bases",
        "report-trainees",
    }
    kb = knowledge_base()
    for j in JURISDICTIONS:
        G = build_graph(j, "training", AS_OF)
        shown = {r for _, d in G.nodes(data=True) for r in d["rules"]}
        docs = set(kb.vocabulary.jurisdiction(j).documents)
        expected = {r.id for r in kb.rules if r.spec.get("act") in acts and r.document in docs}
        assert shown == expected, j
    jl = build_graph("jilin", "training", AS_OF)
    rules = {r for _, d in jl.nodes(data=True) for r in d["rules"]}
    # art. 29 (training plan one month ahead) and art. 30 (base filing before the first enrolment notice)
    assert {"jl.file-training-base", "jl.file-training-plan", "jl.report-trainees"} <= rules
    # only Hunan and Jilin oblige the base to report trainees
    for j in JURISDICTIONS:
        assert ("training.report-trainees" in build_graph(j, "training", AS_OF)) is (j in ("hunan", "jilin")), j


# --------------------------------------------------------------------------- order


@pytest.mark.parametrize("jurisdiction", JURISDICTIONS)
def test_hospital_duties_run_from_the_first_case(filing, jurisdiction):
    G = filing[jurisdiction]
    reports = [n for n, d in G.nodes(data=True) if d.get("step") == "case-report"]
    assert reports
    for n in reports:
        assert G.has_edge("first-case", n)
        assert not G.has_edge("publish-filed-institutions", n)
    # nothing of the hospital's own comes after the authority's publication of the list
    after = {m for m in G.successors("publish-filed-institutions")}
    assert all(G.nodes[m]["kind"] == "end" for m in after)


def test_columns_in_order(filing):
    for j, G in filing.items():
        columns = [c["id"] for c in G.graph["columns"]]
        assert columns == ["classify", "prepare", "file", "authority", "after"], j
        assert G.nodes["complete-filing"]["column"] == "authority"
        assert G.nodes["disclose"]["column"] == "after"


# --------------------------------------------------------------------------- highlighted path

PLANNED = {
    "as_of": "2025-04-29",
    "institution": {"jurisdiction": "jilin", "level": 3, "category": "hospital", "name": "吉林大学第一医院"},
    "technology": {"name": "关节镜诊疗技术", "surgery_grade": 3},
}


def test_highlighted_path_is_continuous_through_grey_steps():
    pytest.importorskip("engine.catalog")
    from engine.flowchart.highlight import highlight_graph

    G, response = highlight_graph(PLANNED, "filing")
    assert response["technology"]["class"] == "restricted"
    # no first case yet: the milestone is grey, but the path from the preparation to the filing
    # and to the hospital's case reports runs through it
    assert G.nodes["first-case"]["state"] == "off"
    assert G.nodes["file"]["state"] == "on"
    assert G.edges["first-case", "file"]["state"] == "through"
    assert G.edges["train-physicians", "first-case"]["state"] == "through"
    # a grey branch that leads to nothing of the case stays grey
    assert G.edges["first-case", "file-tcm"]["state"] == "off"
    assert G.edges["file", "complete-filing"]["state"] == "off"
    # from the start, every node on the path is reached by red edges
    red = {(a, b) for a, b, d in G.edges(data=True) if d["state"] in ("on", "through")}
    reached, frontier = {"start"}, ["start"]
    while frontier:
        n = frontier.pop()
        for a, b in red:
            if a == n and b not in reached:
                reached.add(b)
                frontier.append(b)
    on = {n for n, d in G.nodes(data=True) if d["state"] == "on"}
    assert on <= reached
    dot = render_chart(None, "filing", "dot", highlight=PLANNED)
    assert "style=dashed" in dot and "#dc2626" in dot


def test_transitional_branch_highlighted():
    pytest.importorskip("engine.catalog")
    from engine.flowchart.highlight import highlight_graph

    request = {**PLANNED, "technology": {**PLANNED["technology"], "in_use_since": "2015-06-01"}}
    G, response = highlight_graph(request, "filing")
    acts = {(o["id"], tuple(o["rules"])) for o in response["obligations"]}
    if not any("jl.file-transitional" in rules or "nhc.file-transitional" in rules for _, rules in acts):
        pytest.skip("the engine gives no transitional filing for this request")
    assert G.nodes["transitional.file"]["state"] == "on"
    assert G.edges["restricted.in-use", "transitional.self-assess"]["state"] == "on"
    assert G.edges["restricted.in-use", "self-assess"]["state"] == "off"


# --------------------------------------------------------------------------- labels


def test_materials_break_between_words(filing):
    node = filing["hunan"].nodes["file"]
    lines = [line for line in render_chart("hunan", "filing", "dot", AS_OF).splitlines() if "湖南省" in line]
    assert lines
    dot = render_chart("hunan", "filing", "dot", AS_OF)
    # the form's title stays on one line
    assert "《湖南省限制类医疗技术临床应用备案表》" in dot
    assert "湖南省限制类医疗技术临" + "<" not in dot
    # a short list: parenthetical details dropped, attachment references kept; full text in the graph
    items = [short_material(m["text"]) for m in node["materials"]]
    assert items[0] == "《湖南省限制类医疗技术临床应用备案表》（附件2）"
    assert items[2] == "技术负责人资质证明材料复印件"
    assert any("医师资格证书" in m["text"] for m in node["materials"])


@pytest.mark.parametrize(
    "text,limit,lines",
    [
        (
            "依据：《办法》第十一条第一款；湘卫医发〔2018〕11号 二、（二）",
            14,
            ["依据：《办法》第十一条第一款；", "湘卫医发〔2018〕11号 二、", "（二）"],
        ),
        ("向：全国医疗技术临床应用信息化管理平台", 14, ["向：全国医疗技术临床应用信息化管理平台"]),
        ("医疗机构开展限制类技术的自我评估报告", 9, ["医疗机构开展限制类技术的", "自我评估报告"]),
    ],
)
def test_wrap_at_word_boundaries(text, limit, lines):
    assert wrap(text, limit, set("条款项")) == lines


# --------------------------------------------------------------------------- formats


def test_svg_lists_font_fallbacks():
    svg = render_chart("national", "incident", "svg", AS_OF)
    families = set(re.findall(r'font-family="([^"]+)"', svg))
    assert families
    for family in families:
        for name in ("Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "WenQuanYi Micro Hei"):
            assert name in family


def _pages(pdf: bytes) -> list[tuple[float, float]]:
    import io

    from pypdf import PdfReader

    return [(float(p.mediabox.width), float(p.mediabox.height)) for p in PdfReader(io.BytesIO(pdf)).pages]


def _a4_scale(width: float, height: float) -> float:
    """How much a page shrinks (or grows) when printed on A4 (842 x 595 points), either way round."""
    return max(min(842 / width, 595 / height), min(595 / width, 842 / height))


@pytest.mark.parametrize("jurisdiction", JURISDICTIONS)
def test_pdf_prints_on_a4_at_a_readable_size(jurisdiction):
    pdf = render_chart(jurisdiction, "filing", "pdf", AS_OF)
    assert pdf[:5] == b"%PDF-"
    pages = _pages(pdf)
    assert len(pages) >= 2
    # 11-point text stays at 8 points or more on paper
    assert all(_a4_scale(w, h) >= 0.74 for w, h in pages), pages
    # the incident chart is one page
    assert len(_pages(render_chart(jurisdiction, "incident", "pdf", AS_OF))) == 1


def test_filing_png_is_landscape():
    png = render_chart("jilin", "filing", "png", AS_OF)
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width > height * 1.4


def test_dot_keeps_the_layout_for_any_graphviz():
    dot = render_chart("chongqing", "filing", "dot", AS_OF)
    assert "layout=nop2" in dot
    import graphviz

    assert graphviz.pipe("dot", "svg", dot.encode("utf-8")).startswith(b"<?xml")


def test_cli_chart_all(tmp_path):
    assert cli_main(["shanghai", "--chart", "all", "--as-of", AS_OF, "-o", str(tmp_path / "sh.pdf")]) == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(f"sh-{c}.pdf" for c in chart_names())
    assert set(chart_names()) == {"filing", "incident", "training"}
    assert cli_main(["shanghai", "--chart", "all"]) == 2


def test_cli_pdf_by_extension(tmp_path):
    out = tmp_path / "x.pdf"
    assert cli_main(["national", "--as-of", AS_OF, "-o", str(out)]) == 0
    assert out.read_bytes()[:5] == b"%PDF-"


def test_service_chart_names_match_the_skeleton():
    from typing import get_args

    from engine.flowchart import FORMATS
    from engine.service.app import ChartFormat, ChartName

    assert set(get_args(ChartName)) == set(load_spec()["charts"])
    assert set(get_args(ChartFormat)) == set(FORMATS)
