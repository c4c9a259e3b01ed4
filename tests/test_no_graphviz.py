"""Without Graphviz's `dot` on PATH (tests/test_wheel.py does the same on an installed wheel):
flowchart commands fail in one sentence with exit 2, the API answers 501 naming the format, and the
page shows the pre-rendered chart of the jurisdiction from diagrams/ instead of failing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from engine.cli.flowchart import cli_main
from engine.paths import DIAGRAMS_DIR
from engine.service import app as service
from engine.service import web

# a day no other test asks for, so that no cached drawing answers for Graphviz
QUERY = "jurisdiction=shanghai&level=3&tech=冠心病介入治疗&ev=first_clinical_use&ed=2025-02-03&as_of=2025-02-13"


@pytest.fixture()
def no_dot(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    web._chart.cache_clear()
    yield
    web._chart.cache_clear()


def test_flowchart_command_says_so_in_one_sentence(no_dot, capsys, tmp_path):
    assert cli_main(["shanghai", "--format", "svg", "--as-of", "2025-02-13", "-o", str(tmp_path / "x.svg")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("medtech flowchart: error: 未找到 Graphviz 的 dot 程序")
    assert "Graphviz's `dot` program is not installed or not on PATH" in err
    assert "\n" not in err and "Traceback" not in err
    assert not (tmp_path / "x.svg").exists()
    # mermaid needs no Graphviz
    assert cli_main(["shanghai", "--format", "mermaid", "--as-of", "2025-02-13", "-o", str(tmp_path / "x.mmd")]) == 0


def test_api_answers_501_naming_the_format(no_dot):
    r = TestClient(service.app).get("/v1/flowcharts/shanghai", params={"format": "png", "as_of": "2025-02-13"})
    assert r.status_code == 501, r.text
    assert "Graphviz" in r.text and "png" in r.text


def test_page_shows_the_pre_rendered_chart(no_dot):
    client = TestClient(service.app)
    page = client.get(f"/?{QUERY}")
    assert page.status_code == 200 and "未安装 Graphviz" in page.text and "本例所在步骤已高亮" not in page.text
    chart = client.get(f"/chart.svg?{QUERY}&chart=filing")
    assert chart.status_code == 200 and chart.headers["X-Chart-Source"] == "pre-rendered"
    assert chart.text == (DIAGRAMS_DIR / "shanghai-filing.svg").read_text(encoding="utf-8")
