"""Flowcharts generated from the rules: structure per jurisdiction, provisions, highlighting, escaping, CLI.

Structure, not pixels: the tests read the networkx graph (engine.flowchart.build) and the
DOT / Mermaid text, and let Graphviz itself say whether the DOT is valid.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import xml.etree.ElementTree as ET

import graphviz
import pytest

from engine.cli.flowchart import cli_main
from engine.flowchart import render_chart
from engine.flowchart.build import build_graph, check, provision_label, short_material
from engine.flowchart.render import mermaid_text, to_dot, to_mermaid, wrap
from engine.kb.loader import knowledge_base
from engine.kb.rules import split_ref
from inventory import CHARTS, JURISDICTIONS

AS_OF = "2025-01-01"
NASTY = '"}]<b>x</b>|\\'


@pytest.fixture(scope="module")
def graphs():
    return {(j, c): build_graph(j, c, AS_OF) for j in JURISDICTIONS for c in CHARTS}


def _docs_of(node) -> set[str]:
    return {split_ref(c)[0] for c in node.get("citations", [])}


# --------------------------------------------------------------------------- the skeleton file


def test_flowcharts_yaml_is_sound():
    assert check() == []


# --------------------------------------------------------------------------- filing chart per jurisdiction


def test_receipt_loop_only_in_chongqing(graphs):
    G = graphs[("chongqing", "filing")]
    assert "notify-incomplete" in G
    assert G.has_edge("file", "notify-incomplete")
    assert G.has_edge("notify-incomplete", "file"), "the receipt loop must lead back to the filing node"
    assert G.edges["notify-incomplete", "file"]["loop"] is True
    assert G.edges["notify-incomplete", "file"]["label"] == "补齐后重新提交"
    assert G.edges["file", "notify-incomplete"]["label"] == "材料不全"
    assert G.edges["file", "complete-filing"]["label"] == "材料齐全"
    assert G.nodes["notify-incomplete"]["actor"] == "authority"
    assert "cq-2019-61" in _docs_of(G.nodes["notify-incomplete"])
    for j in JURISDICTIONS:
        if j == "chongqing":
            continue
        H = graphs[(j, "filing")]
        assert "notify-incomplete" not in H, j
        assert not any(d.get("act") == "notify-incomplete" for _, d in H.nodes(data=True)), j
        assert not H.has_edge("file", "file"), j
        assert H.has_edge("file", "complete-filing"), j
        assert not H.edges["file", "complete-filing"].get("label"), f"{j}: 材料齐全 only makes sense with the loop"


def test_shanghai_on_the_spot_and_one_network(graphs):
    G = graphs[("shanghai", "filing")]
    node = G.nodes["complete-filing"]
    assert "当场" in node["label"]
    assert node["deadline"]["kind"] == "same_day"
    assert node["deadline"]["rule"] == "sh.authority-complete-filing"
    assert any("15个工作日" in alt for alt in node["deadline"]["alternatives"])
    assert "一网通办" in G.nodes["file"]["label"]
    for j in JURISDICTIONS:
        if j == "shanghai":
            continue
        H = graphs[(j, "filing")]
        assert "当场" not in H.nodes["complete-filing"]["label"], j
        assert "15个工作日" in H.nodes["complete-filing"]["label"], j
        assert "一网通办" not in H.nodes["file"]["label"], j


@pytest.mark.parametrize(
    "jurisdiction,present",
    [
        ("chongqing", True),
        ("hunan", True),
        ("jilin", True),
        ("national", False),
        ("shanghai", False),
    ],
)
def test_register_remark_three(graphs, jurisdiction, present):
    G = graphs[(jurisdiction, "filing")]
    assert ("register-remark-three" in G) is present
    if present:
        assert "备注三" in G.nodes["register-remark-three"]["label"]
        assert G.nodes["register-remark-three"]["actor"] == "authority"
    # only Chongqing has the institution ask for it
    assert ("request-registration" in G) is (jurisdiction == "chongqing")


def test_jilin_filing_lists_six_materials(graphs):
    node = graphs[("jilin", "filing")].nodes["file"]
    assert len(node["materials"]) == 6
    assert "备案材料（6项）" in node["label"]
    for i, m in enumerate(node["materials"], 1):
        # a short list on the chart: the full text stays in the node's materials
        assert f"{i}. {short_material(m['text'])}" in node["label"]
    assert any("首例临床应用病例信息" in m["text"] for m in node["materials"])
    counts = {j: len(graphs[(j, "filing")].nodes["file"]["materials"]) for j in JURISDICTIONS}
    expected = {"national": 3, "chongqing": 5, "hunan": 4, "shanghai": 3, "jilin": 6}
    assert {j: counts[j] for j in expected} == expected


def test_filing_chart_branches(graphs):
    for j in JURISDICTIONS:
        G = graphs[(j, "filing")]
        classes = {G.edges[e].get("class") for e in G.out_edges("classify")}
        assert {"prohibited", "restricted", "unlisted", "out_of_scope"} <= classes, j
        assert G.edges["classify", "restricted.in-use"]["class"] == "restricted"
        assert G.edges["restricted.in-use", "self-assess"].get("default")
        assert G.nodes["classify"]["kind"] == "decision"
        assert G.nodes["file"]["actor"] == "institution"
        assert G.nodes["complete-filing"]["actor"] == "authority"
        assert G.nodes["first-case"]["kind"] == "milestone"
        assert G.has_edge("first-case", "file")
        # the third-party assessment of a technique new to the jurisdiction is Shanghai's
        assert ("third-party-assessment" in G) is (j == "shanghai"), j


# --------------------------------------------------------------------------- incident chart


def test_incident_reporting_branches_of_article_25(graphs):
    for j in JURISDICTIONS:
        G = graphs[(j, "incident")]
        situations = {e for _, _, d in G.out_edges("situation", data=True) for e in d.get("events", [])}
        assert situations == {"listed_prohibited", "staff_or_equipment_change", "serious_incident", "efficacy_doubt"}, j
        # staff change or serious incident of a restricted technique: the licence issuer (art. 25(2))
        change = [n for n in G.successors("change.stop")]
        issuer = G.nodes["change.report.license_issuer"]
        assert "change.report.license_issuer" in change
        assert "nhc-2018-1:art_25__para_2" in issuer["citations"]
        assert "仅限：限制类技术" in issuer["label"]
        assert "change.report.provincial_authority" not in G
        assert G.has_edge("change.report.license_issuer", "change.cancel")
        # doubtful efficacy: the licence issuer and the provincial authority (art. 25(3))
        eff = set(G.successors("efficacy.stop"))
        assert eff >= {"efficacy.report.license_issuer", "efficacy.report.provincial_authority"}, j
        for n in ("efficacy.report.license_issuer", "efficacy.report.provincial_authority"):
            assert "nhc-2018-1:art_25__para_3" in G.nodes[n]["citations"]
            assert G.has_edge(n, "efficacy.verify")
        assert G.nodes["efficacy.verify"]["actor"] == "authority"
        assert G.nodes["efficacy.verify"]["actor_detail"] == "provincial_authority"
        # the Chongqing notice adds a report to 有关部门, for every technique
        assert ("change.report.relevant_authority" in G) is (j == "chongqing"), j
    cq = graphs[("chongqing", "incident")]
    rel = cq.nodes["change.report.relevant_authority"]
    assert "有关部门" in rel["label"]
    assert "仅限：" not in rel["label"]
    assert _docs_of(rel) == {"cq-2019-61"}


# --------------------------------------------------------------------------- provisions and dates


def test_every_provision_exists(graphs):
    kb = knowledge_base()
    from engine.flowchart.build import load_spec

    spec = load_spec()
    for (j, c), G in graphs.items():
        items = [d for _, d in G.nodes(data=True)] + [d for _, _, d in G.edges(data=True)]
        for d in items:
            assert len(d.get("citations", [])) == len(d.get("provisions", []))
            for ref, label in zip(d.get("citations", []), d.get("provisions", []), strict=True):
                doc, eid = split_ref(ref)
                assert doc in kb.documents, (j, c, ref)
                assert eid in kb.documents[doc].provisions, (j, c, ref)
                assert label == provision_label(kb, spec, ref)
                assert label.endswith(kb.provision(doc, eid).label)
        for n, d in G.nodes(data=True):
            if d["kind"] == "step":
                assert d["rules"] and d["citations"], (j, c, n)
                assert set(d["rules"]) <= set(knowledge_base().rule_by_id)
                assert "依据：" in d["label"]


def test_provision_label_format():
    kb = knowledge_base()
    from engine.flowchart.build import load_spec

    spec = load_spec()
    assert provision_label(kb, spec, "nhc-2018-1:art_11__para_1") == "《办法》第十一条第一款"
    assert provision_label(kb, spec, "cq-2019-61:sec_3__subsec_2__point_1") == "渝卫发〔2019〕61号 三、（二）一是"


def test_only_documents_in_force(graphs):
    G = build_graph("shanghai", "filing", "2024-08-14")
    # the national measures and the notice of the 2022 list (in force since 2022-04-20); not the 2025 bans
    national = {"nhc-2018-1", "nhc-2022-list"}
    for n, d in G.nodes(data=True):
        assert _docs_of(d) <= national, n
        assert all(r.startswith("nhc.") for r in d["rules"]), n
    for _, _, d in G.edges(data=True):
        assert _docs_of(d) <= national
    assert "当场" not in G.nodes["complete-filing"]["label"]
    assert "third-party-assessment" not in G
    assert "一网通办" not in G.nodes["file"]["label"]
    assert "未适用" in G.graph["subtitle"]
    # the day the rules take effect, the Shanghai steps are there
    H = build_graph("shanghai", "filing", "2024-08-15")
    assert "当场" in H.nodes["complete-filing"]["label"]
    # from then on a TCM institution files with its licence issuer too (sh-2024-13 art. 14 with
    # art. 7: the national TCM route is displaced), and the third-party assessment appears
    assert "file-tcm" in G and "file-tcm" not in H
    assert [n for n in G.nodes if n != "file-tcm"] == [
        n for n in H.nodes if n != "third-party-assessment" and n != "unlisted.third-party-assessment"
    ]


def test_steps_without_rules_are_left_out_and_relinked(graphs):
    G = graphs[("national", "filing")]
    assert "third-party-assessment" not in G
    assert G.has_edge("train-physicians", "first-case")
    assert G.has_edge("annotate-license", "report-filing-upward")
    # before the national measures took effect nothing but the question is left
    H = build_graph("national", "filing", "2018-01-01")
    assert set(H.nodes) == {"start", "classify"}


def test_chinese_names_and_unknown_inputs():
    assert list(build_graph("重庆", "filing", AS_OF).nodes) == list(build_graph("chongqing", "filing", AS_OF).nodes)
    from engine.errors import NotFound

    with pytest.raises(NotFound):
        build_graph("广东", "filing", AS_OF)
    with pytest.raises(NotFound):
        build_graph("chongqing", "nonsense", AS_OF)


# --------------------------------------------------------------------------- highlighting

JILIN_REQUEST = {
    "as_of": "2025-04-29",
    "institution": {"jurisdiction": "jilin", "level": 3, "category": "hospital", "name": "吉林大学第一医院"},
    "technology": {"name": "关节镜诊疗技术", "surgery_grade": 3},
    "events": [{"type": "first_clinical_use", "date": "2025-04-28"}],
}


@pytest.fixture(scope="module")
def jilin_highlight():
    pytest.importorskip("engine.catalog")
    from engine.flowchart.highlight import highlight_graph

    return highlight_graph(JILIN_REQUEST, "filing")


def test_highlight_jilin_filing(jilin_highlight):
    G, response = jilin_highlight
    assert response["technology"]["class"] == "restricted"
    file = G.nodes["file"]
    assert file["state"] == "on"
    assert file["due"] == "2025-05-22"
    assert file["status"] == "pending"
    assert "2025-05-22" in file["label"]
    assert "待办" in file["label"]
    # the branch taken
    assert G.nodes["classify"]["state"] == "on"
    assert G.edges["classify", "restricted.in-use"]["state"] == "on"
    assert G.edges["restricted.in-use", "self-assess"]["state"] == "on"
    assert G.nodes["transitional.file"]["state"] == "off"
    assert "本例：限制类技术" in G.nodes["classify"]["label"]
    assert G.nodes["first-case"]["state"] == "on" and "2025-04-28" in G.nodes["first-case"]["label"]
    # the prohibited branch and the other branches are grey
    for n in ("prohibited.do-not-use", "prohibited.end", "unlisted.demonstrate", "unlisted.end", "out-of-scope.end"):
        assert G.nodes[n]["state"] == "off", n
    assert G.edges["classify", "prohibited.do-not-use"]["state"] == "off"
    # nothing submitted yet: the authority's steps are grey
    assert G.nodes["complete-filing"]["state"] == "off"
    assert G.edges["file", "complete-filing"]["state"] == "off"
    assert "吉林大学第一医院" in G.graph["case_lines"][0]
    assert "关节镜诊疗技术" in G.graph["case_lines"][0]
    # every highlighted step corresponds to an obligation of the response
    acts = {o["id"] for o in response["obligations"] + response["authority_actions"]}
    for _, d in G.nodes(data=True):
        if d["kind"] == "step" and d["state"] == "on":
            assert d["act"] in acts
    dot = to_dot(G)
    assert "#dc2626" in dot and "#f5f5f5" in dot


def test_highlight_renders_in_every_format(jilin_highlight):
    for fmt in ("svg", "dot", "mermaid"):
        out = render_chart(None, "filing", fmt, highlight=JILIN_REQUEST)
        assert "2025-05-22" in html.unescape(out)  # svg writes - as &#45;
    png = render_chart("jilin", "filing", "png", highlight=JILIN_REQUEST)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError):
        render_chart("hunan", "filing", "svg", highlight=JILIN_REQUEST)


def test_highlight_incident_branch():
    pytest.importorskip("engine.catalog")
    from engine.flowchart.highlight import highlight_graph

    request = {
        "as_of": "2025-06-04",
        "institution": {"jurisdiction": "chongqing", "level": 3},
        "technology": {"name": "起搏器治疗技术"},
        "events": [{"type": "efficacy_doubt", "date": "2025-06-03"}],
    }
    G, response = highlight_graph(request, "incident")
    assert G.nodes["efficacy.stop"]["state"] == "on"
    assert G.nodes["efficacy.report.license_issuer"]["state"] == "on"
    assert G.nodes["efficacy.report.provincial_authority"]["state"] == "on"
    assert G.edges["situation", "efficacy.stop"]["state"] == "on"
    for n in ("listed.stop", "change.stop", "change.report.license_issuer", "change.cancel"):
        assert G.nodes[n]["state"] == "off", n


# --------------------------------------------------------------------------- escaping


def _nasty_request(name: str) -> dict:
    r = dict(JILIN_REQUEST)
    r["institution"] = dict(r["institution"], name=name)
    r["technology"] = dict(r["technology"])
    return r


def _with_nasty_labels(G):
    """Put hostile text in every kind of label a graph carries."""
    for _, d in G.nodes(data=True):
        d["lines"] = list(d["lines"]) + [{"text": NASTY + " & \n {x} [y] <z> # ; `", "style": "text"}]
    for _, _, d in G.edges(data=True):
        d["label"] = (d.get("label") or "") + NASTY
    G.graph["title"] = NASTY + G.graph["title"]
    G.graph["case_lines"] = [NASTY]
    return G


def test_escaping_dot_renders():
    G = _with_nasty_labels(build_graph("chongqing", "filing", AS_OF))
    source = to_dot(G)
    svg = graphviz.pipe("dot", "svg", source.encode("utf-8")).decode("utf-8")  # raises on invalid DOT
    root = ET.fromstring(svg.encode("utf-8"))  # valid XML
    texts = "".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert '"}]<b>x</b>|\\' in texts.replace("\xa0", " ")
    assert "<b>x</b>" not in svg  # never markup


def test_escaping_dot_through_highlight(jilin_highlight):
    svg = render_chart(None, "filing", "svg", highlight=_nasty_request(NASTY + "医院"))
    root = ET.fromstring(svg.encode("utf-8"))
    texts = "".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert NASTY in texts
    dot = render_chart(None, "filing", "dot", highlight=_nasty_request(NASTY + "医院"))
    graphviz.pipe("dot", "svg", dot.encode("utf-8"))
    mmd = render_chart(None, "filing", "mermaid", highlight=_nasty_request(NASTY + "医院"))
    _check_mermaid(mmd)


_TAGS = re.compile(r"<br/>|</?b>|</?small>")
_NODE = re.compile(
    r'^  (?P<id>[A-Za-z0-9_]+)(?P<open>\(\["|\{"|\[/"|\("|\[")(?P<label>[^"]*)(?P<close>"\]\)|"\}|"/\]|"\)|"\])$'
)
_EDGE = re.compile(r'^  (?P<a>[A-Za-z0-9_]+) (?:-->|-\.->)(?:\|"(?P<label>[^"]*)"\|)? (?P<b>[A-Za-z0-9_]+)$')


def _check_mermaid(text: str) -> None:
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    nodes = set()
    for line in lines[1:]:
        m = _NODE.match(line) or _EDGE.match(line)
        if m is None:
            assert re.match(
                r"^  (chart_title ~~~ \w+|linkStyle \d+ [\w:#,.-]+|classDef \w+ [\w:#,.-]+|class [\w,]+ \w+)$", line
            ), line
            continue
        label = m.group("label") or ""
        bare = _TAGS.sub("", label)
        for ch in '"[]{}()|<>\\`':
            assert ch not in bare, (ch, line)
        assert not re.search(r"#(?!quot;|amp;|lt;|gt;|\d+;)", bare), line
        if "id" in m.groupdict() and m.groupdict().get("id"):
            nodes.add(m.group("id"))
        else:
            assert m.group("a") in nodes and m.group("b") in nodes, line


def test_escaping_mermaid():
    G = _with_nasty_labels(build_graph("chongqing", "filing", AS_OF))
    text = to_mermaid(G)
    _check_mermaid(text)
    assert "#quot;#125;#93;#lt;b#gt;x#lt;/b#gt;#124;#92;" in text


def test_mermaid_text_and_wrap():
    assert mermaid_text('a"b') == "a#quot;b"
    assert mermaid_text("<b>|") == "#lt;b#gt;#124;"
    assert mermaid_text("x\ny") == "x y"
    # lines break between words only (after 之日起), never inside a title or a name
    assert wrap("开展首例临床应用之日起15个工作日内", 14) == ["开展首例临床应用之日起", "15个工作日内"]
    assert wrap("1. 《湖南省限制类医疗技术临床应用备案表》（附件2）", 14) == [
        "1. 《湖南省限制类医疗技术临床应用备案表》",
        "（附件2）",
    ]
    assert wrap("本机构医疗技术临床应用管理专门组织和伦理委员会论证材料", 14) == [
        "本机构医疗技术临床应用管理专门组织和",
        "伦理委员会论证材料",
    ]
    for line in wrap("依据：《办法》第十一条第一款；渝卫发〔2019〕61号 三、（二）一是、二、（二）", 14):
        assert not line.endswith(("（", "〔", "《")) and not line.startswith(("）", "、", "，"))


def test_every_chart_is_valid_dot_and_mermaid(graphs):
    for (j, c), G in graphs.items():
        source = to_dot(G)
        assert source.startswith(f"digraph {j}_{c}")
        assert "WenQuanYi Micro Hei" in source
        graphviz.pipe("dot", "svg", source.encode("utf-8"))
        _check_mermaid(to_mermaid(G))


# --------------------------------------------------------------------------- CLI


def test_cli_formats(tmp_path):
    for fmt, ext, head in (
        ("svg", "svg", b"<?xml"),
        ("png", "png", b"\x89PNG"),
        ("dot", "dot", b"digraph"),
        ("mermaid", "mmd", b"flowchart TD"),
    ):
        out = tmp_path / f"cq.{ext}"
        assert cli_main(["chongqing", "--chart", "incident", "--format", fmt, "--as-of", AS_OF, "-o", str(out)]) == 0
        assert out.read_bytes().startswith(head)
    # the format follows the extension when not given
    out = tmp_path / "x.mmd"
    assert cli_main(["flowchart", "上海", "--as-of", AS_OF, "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("flowchart TD")


def test_cli_stdout(capsysbinary):
    assert cli_main(["hunan", "--format", "dot", "--as-of", AS_OF]) == 0
    assert capsysbinary.readouterr().out.startswith(b"digraph hunan_filing")


def test_cli_errors(tmp_path, capsys):
    assert cli_main(["guangdong"]) == 2
    assert "guangdong" in capsys.readouterr().err
    assert cli_main(["hunan", "--as-of", "2025-02-30"]) == 2
    assert cli_main(["hunan", "--format", "gif"]) == 2
    assert cli_main([]) == 2
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"institution": {"jurisdiction": "广东"}, "events": [{"type": "nope", "date": "2025-01-01"}]}',
        encoding="utf-8",
    )
    assert cli_main(["--highlight", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "institution.jurisdiction" in err and "events.0.type" in err
    assert cli_main(["--highlight", str(tmp_path / "missing.json")]) == 2


def test_cli_highlight(tmp_path, jilin_highlight):
    import json

    req = tmp_path / "req.json"
    req.write_text(json.dumps(JILIN_REQUEST, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "h.svg"
    assert cli_main(["jilin", "--highlight", str(req), "-o", str(out)]) == 0
    assert "2025-05-22" in html.unescape(out.read_text(encoding="utf-8"))


def test_default_as_of_is_today(monkeypatch):
    G = build_graph("national", "filing")
    assert dt.date.fromisoformat(G.graph["as_of"]) >= dt.date(2025, 1, 1)


def test_a_box_for_two_cases_shows_each_case_s_deadline_with_its_provision():
    """Jilin's transition box merges two rules for different cases: techniques in use before the
    national measures (《办法》第四十九条第一款: filed 自本办法施行之日起3个月内) and those in use
    before Jilin's rules (吉林细则 第四十二条第一款: 自本细则施行之日起2个月内). Neither names the
    other (no `relation`), so the box shows both deadlines, each with its own provision, rather than
    the national one alone next to the province's citation."""
    node = build_graph("jilin", "filing", AS_OF).nodes["transitional.file"]
    lines = [line["text"] for line in node["lines"] if line["style"] == "deadline"]
    assert len(lines) == 2, lines
    national, jilin = lines
    assert national.startswith("期限（《办法》第四十九条第一款）：") and "3个月内" in national
    assert jilin.startswith("期限（《吉林细则》第四十二条第一款）：") and "2个月内" in jilin
    assert [c["citations"] for c in node["deadline"]["cases"]] == [
        ["nhc-2018-1:art_49__para_1"],
        ["jl-2021:art_42__para_1"],
    ]


def test_a_box_for_one_case_shows_one_deadline():
    """Rules joined by `relation` are one case (one obligation in the answer): the strictest deadline
    once, without provisions beside it (they are on the 依据 line). Shanghai's filing completion:
    沪卫规〔2024〕13号 第十六条第一款 当场 beats 《办法》第十一条第二款 15个工作日."""
    node = build_graph("shanghai", "filing", AS_OF).nodes["complete-filing"]
    lines = [line["text"] for line in node["lines"] if line["style"] == "deadline"]
    assert lines == ["期限：当场予以备案"]
    assert len(node["deadline"]["cases"]) == 1
