"""Slides for trainers (`medtech flowchart J --slides`): a 16:9 PDF, an overview then a page per stage,
every text at least 18 px on a 1920 x 1080 screen, the arrows between stages kept; `--highlight` draws the
case's own chart.

Text sizes are read back from the PDF itself (pypdf's text visitor: each text run's font size times its
text and transformation matrices), not from the numbers the renderer used.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import pytest
from pypdf import PdfReader

from engine.cli.flowchart import cli_main
from engine.flowchart import build_graph
from engine.kb.loader import knowledge_base

ROOT = Path(__file__).resolve().parent.parent
JURISDICTIONS = [j.id for j in knowledge_base().vocabulary.jurisdictions]


def _text_sizes(page) -> list[tuple[float, str]]:
    """(size in points on the page, text) of every non-blank text run on a PDF page."""
    out = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            a, b = tm[0] * cm[0] + tm[1] * cm[2], tm[0] * cm[1] + tm[1] * cm[3]
            c, d = tm[2] * cm[0] + tm[3] * cm[2], tm[2] * cm[1] + tm[3] * cm[3]
            out.append((size * math.sqrt(abs(a * d - b * c)), text))

    page.extract_text(visitor_text=visit)
    return out


def _slides(tmp_path, *args) -> PdfReader:
    out = tmp_path / "slides.pdf"
    assert cli_main(["flowchart", *args, "--slides", "-o", str(out)]) == 0
    return PdfReader(io.BytesIO(out.read_bytes()))


@pytest.mark.parametrize("jurisdiction", JURISDICTIONS)
def test_filing_slides_are_16_9_with_18px_text(jurisdiction, tmp_path):
    reader = _slides(tmp_path, jurisdiction, "--as-of", "2025-01-01")
    G = build_graph(jurisdiction, "filing", "2025-01-01")
    columns = G.graph["columns"]
    assert len(reader.pages) >= 1 + len(columns)  # the overview and at least a page per stage
    texts = []
    for n, page in enumerate(reader.pages, 1):
        w, h = float(page.mediabox.width), float(page.mediabox.height)
        assert w / h == pytest.approx(16 / 9, abs=0.001), (n, w, h)
        sizes = _text_sizes(page)
        assert sizes, n
        smallest = min(s for s, _ in sizes)
        # the page shown on 1920 x 1080: 1920 / w pixels a point
        assert smallest * 1920 / w >= 18 - 0.05, (jurisdiction, n, smallest * 1920 / w)
        texts.append(page.extract_text().replace("\n", ""))
    # the overview names every stage; each stage has its page(s), titled with it
    for col in columns:
        assert col["title"][2:6] in texts[0], col["title"]
        assert any(col["title"] in t for t in texts[1:]), col["title"]


def test_stage_pages_keep_the_arrows_between_stages(tmp_path):
    """Stage ② of the filing chart is entered from ① (the class) and leads to ③ and ④: its pages say so."""
    reader = _slides(tmp_path, "hunan", "--as-of", "2025-01-01")
    G = build_graph("hunan", "filing", "2025-01-01")
    titles = [c["title"] for c in G.graph["columns"]]
    pages = [p.extract_text().replace("\n", "") for p in reader.pages[1:]]
    second = [t for t in pages if titles[1] in t]
    assert second
    joined = "".join(second)
    assert f"来自 {titles[0]}" in joined
    assert f"转到 {titles[2]}" in joined


@pytest.mark.parametrize("chart", ["incident", "training"])
def test_other_charts_slides(chart, tmp_path):
    reader = _slides(tmp_path, "shanghai", "--chart", chart, "--as-of", "2025-06-01")
    for page in reader.pages:
        w = float(page.mediabox.width)
        assert w / float(page.mediabox.height) == pytest.approx(16 / 9, abs=0.001)
        assert min(s for s, _ in _text_sizes(page)) * 1920 / w >= 18 - 0.05


def test_highlight_draws_the_chart_of_the_case(tmp_path, capsysbinary):
    """An efficacy doubt (nhc-2018-1 第二十五条: stop and report) is drawn on the incident chart, a first case
    on the filing chart; --chart still chooses."""
    incident = str(ROOT / "examples" / "incident-chongqing.yaml")
    filing = str(ROOT / "examples" / "request.yaml")
    titles = {c: build_graph("chongqing", c, "2025-06-04").graph["title"] for c in ("filing", "incident")}
    for request, chart, expected in (
        (incident, [], "incident"),
        (filing, [], "filing"),
        (incident, ["--chart", "filing"], "filing"),
    ):
        out = tmp_path / "case.svg"
        assert cli_main(["flowchart", "--highlight", request, *chart, "-o", str(out)]) == 0
        assert titles[expected] in out.read_text(encoding="utf-8"), (request, chart)


def test_slides_refuse_another_format(capsys):
    assert cli_main(["flowchart", "hunan", "--slides", "--format", "svg"]) == 2
    assert "--slides" in capsys.readouterr().err


def test_missing_graphviz_is_said_in_chinese(tmp_path):
    """Without Graphviz's `dot` on PATH: exit 2 and how to install it, in Chinese; dot and mermaid still work."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PATH": str(tmp_path)}  # an empty directory: no dot

    def run(*a):
        return subprocess.run(
            [sys.executable, "-m", "engine.cli", "flowchart", "hunan", *a],
            capture_output=True,
            cwd=ROOT,
            env=env,
            timeout=120,
        )

    proc = run("--format", "svg")
    err = proc.stderr.decode("utf-8")
    assert proc.returncode == 2 and "Traceback" not in err, err
    assert "未找到 Graphviz" in err and "apt-get install graphviz" in err and "--format mermaid" in err
    assert run("--format", "mermaid").returncode == 0
