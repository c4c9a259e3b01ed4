"""The `medtech` command line, run as a subprocess (`python -m engine.cli`, the same `main` as the
console script). Commands backed by modules other people write (catalog, coverage, flowchart,
batch) are skipped only while those modules are missing."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from inventory import DOCUMENTS
from processes import medtech

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

VALID_YAML = """\
as_of: 2025-03-10
institution:
  jurisdiction: 湖南省
  level: 3
events:
  - type: first_clinical_use
    date: 2025-03-03
"""


def no_traceback(proc) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr


# --------------------------------------------------------------------------- decide


def test_decide_json_from_stdin_yaml():
    proc = medtech("decide", "--format", "json", stdin=VALID_YAML)
    assert proc.returncode == 0, proc.stderr
    response = json.loads(proc.stdout)  # exactly one JSON object
    assert response["as_of"] == "2025-03-10"  # an unquoted YAML date stays a date string
    assert response["jurisdiction"] == {"id": "hunan", "name": "湖南省"}
    assert response["obligations"], "an institution always has institution-wide obligations"
    assert {"id", "action", "citations"} <= set(response["obligations"][0])


def test_decide_json_is_deterministic_and_accepts_dash():
    a = medtech("decide", "-", "--format", "json", stdin=VALID_YAML)
    b = medtech(
        "decide",
        "--format",
        "json",
        stdin=json.dumps(
            {
                "as_of": "2025-03-10",
                "institution": {"jurisdiction": "hunan", "level": 3},
                "events": [{"type": "first_clinical_use", "date": "2025-03-03"}],
            }
        ),
    )
    assert a.returncode == b.returncode == 0, a.stderr + b.stderr
    assert a.stdout == b.stdout


def test_decide_text_is_chinese():
    proc = medtech("decide", str(EXAMPLES / "institution-only.yaml"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].startswith("结论：")
    assert "湖南省" in proc.stdout and "机构层面的常设义务" in proc.stdout and "《办法》" in proc.stdout


def test_example_request_files_a_restricted_technology():
    """The README's first command; needs the catalogues (engine.catalog) to be in place."""
    proc = medtech("decide", str(EXAMPLES / "request.yaml"), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    response = json.loads(proc.stdout)
    assert response["technology"]["class"] == "restricted"
    filing = [o for o in response["obligations"] if o["action"] == "file"]
    assert filing and filing[0]["addressee"] == "license_issuer"
    assert filing[0]["due"] == "2025-03-24" and filing[0]["status"] == "pending"
    text = medtech("decide", str(EXAMPLES / "request.yaml"))
    assert text.returncode == 0, text.stderr
    assert "限制类技术备案" in text.stdout and "2025-03-24" in text.stdout


def test_example_request_json_is_valid():
    proc = medtech("decide", str(EXAMPLES / "request.json"), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["jurisdiction"]["id"] == "jilin"


def test_undetermined_class_as_the_first_decision_of_a_process():
    """Every CLI run is a fresh process; a first decision whose classification fires no rule must work."""
    proc = medtech("decide", str(EXAMPLES / "needs-grade-shanghai.yaml"), "--format", "json")
    assert proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr[-500:]}"
    response = json.loads(proc.stdout)
    assert response["technology"]["class"] == "undetermined"
    assert "technology.surgery_grade" in [m["path"] for m in response["missing_facts"]]


def test_invalid_request_exit_2_with_paths():
    bad = {"institution": {"jurisdiction": "广东省"}, "events": [{"type": "no_such_event", "date": "2025-03-03"}]}
    proc = medtech("decide", "--format", "json", stdin=json.dumps(bad, ensure_ascii=False))
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert any(line.startswith("institution.jurisdiction: ") and "广东省" in line for line in lines), proc.stderr
    assert any(line.startswith("events.0.type: ") for line in lines), proc.stderr
    no_traceback(proc)


def test_invalid_date_in_yaml_request():
    proc = medtech("decide", stdin="as_of: 2025-02-30\ninstitution: {jurisdiction: hunan}\n")
    assert proc.returncode == 2
    assert proc.stderr.startswith("as_of: "), proc.stderr


@pytest.mark.parametrize(
    "text, expect",
    [
        ('{"institution": {"jurisdiction": ', "不是有效的 JSON"),
        ("institution: [unclosed\n", "不是有效的 YAML：格式有误（第2行"),
        ("", "内容为空"),
    ],
)
def test_malformed_input_exit_2_without_traceback(text, expect):
    proc = medtech("decide", "--format", "json", stdin=text)
    assert proc.returncode == 2
    assert "<stdin>" in proc.stderr and expect in proc.stderr, proc.stderr
    assert proc.stdout == ""
    no_traceback(proc)


def test_unreadable_file_is_named(tmp_path):
    missing = tmp_path / "nope.yaml"
    proc = medtech("decide", str(missing))
    assert proc.returncode == 2
    assert str(missing) in proc.stderr and "文件不存在" in proc.stderr
    assert "no such file" not in proc.stderr  # shown to people: Chinese
    no_traceback(proc)
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{"institution": \xff}')
    proc = medtech("decide", str(bad))
    assert proc.returncode == 2 and str(bad) in proc.stderr and "UTF-8" in proc.stderr
    assert "not UTF-8" not in proc.stderr
    no_traceback(proc)
    proc = medtech("decide", str(tmp_path))
    assert proc.returncode == 2 and "目录" in proc.stderr


# --------------------------------------------------------------------------- kb


def test_kb_show_provision():
    proc = medtech("kb", "show", "nhc-2018-1", "art_25__para_3")
    assert proc.returncode == 0, proc.stderr
    assert "第二十五条第三款" in proc.stdout
    assert "立即将有关情况" in proc.stdout


def test_kb_show_outline():
    proc = medtech("kb", "show", "hn-2018-11", "--as-of", "2025-03-10")
    assert proc.returncode == 0, proc.stderr
    assert "sec_2" in proc.stdout


def test_kb_show_unknown_document_lists_ids():
    proc = medtech("kb", "show", "no-such-doc")
    assert proc.returncode == 1
    for doc in DOCUMENTS:
        assert doc in proc.stderr
    no_traceback(proc)


def test_kb_show_unknown_eid_lists_provisions():
    proc = medtech("kb", "show", "nhc-2018-1", "art_99")
    assert proc.returncode == 1
    assert "art_99" in proc.stderr and "art_25" in proc.stderr


def test_kb_schemas_check():
    proc = medtech("kb", "schemas", "--check")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_kb_check():
    proc = medtech("kb", "check")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith(f"knowledge base OK: {len(DOCUMENTS)} documents")


def test_kb_coverage():
    pytest.importorskip("engine.kb.coverage")
    proc = medtech("kb", "coverage")
    assert proc.returncode in (0, 1), proc.stderr
    assert "nhc-2018-1" in proc.stdout
    no_traceback(proc)


# --------------------------------------------------------------------------- argument checking


def test_bad_cli_date_exit_2():
    proc = medtech("tech", "search", "PCI", "--as-of", "2025-02-30")
    assert proc.returncode == 2
    assert "2025-02-30" in proc.stderr and "not a valid date" in proc.stderr


def test_bad_cli_jurisdiction_exit_2():
    proc = medtech("catalog", "广东")
    assert proc.returncode == 2
    assert "hunan" in proc.stderr  # the supported ids come from kb/vocabulary.yaml


def test_unexpected_error_is_one_line(monkeypatch, capsys):
    from engine import cli

    def boom(args):
        raise RuntimeError("something\nbroke")

    from engine.cli import kb as kb_commands

    monkeypatch.setattr(kb_commands, "cmd_kb_schemas", boom)
    monkeypatch.delenv("MEDTECH_DEBUG", raising=False)
    assert cli.main(["kb", "schemas"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "RuntimeError: something broke" in err
    monkeypatch.setenv("MEDTECH_DEBUG", "1")
    with pytest.raises(RuntimeError):
        cli.main(["kb", "schemas"])


@pytest.mark.parametrize("flags, logged", [([], False), (["--access-log"], True)])
def test_serve_access_log_is_off_unless_asked(monkeypatch, flags, logged):
    from engine import cli
    from engine.service import app

    calls = []
    monkeypatch.setattr(app, "run", lambda *a, **kw: calls.append(kw))
    assert cli.main(["serve", "--port", "0", *flags]) == 0
    assert calls == [{"access_log": logged}]


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "medtech"
    if script.exists():  # installed by scripts/setup.sh; absent when pytest runs outside the venv
        proc = subprocess.run([str(script), "--help"], capture_output=True, text=True, encoding="utf-8", timeout=120)
        assert proc.returncode == 0 and "decide" in proc.stdout


# --------------------------------------------------------------------------- parts written elsewhere


def test_catalog_and_search():
    pytest.importorskip("engine.catalog")
    proc = medtech("catalog", "hunan", "--as-of", "2025-03-10")
    assert proc.returncode == 0, proc.stderr
    assert "S19" in proc.stdout
    proc = medtech("catalog", "--crosswalk", "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    assert "," in proc.stdout.splitlines()[0]
    proc = medtech("tech", "search", "冠心病介入", "--jurisdiction", "湖南", "--as-of", "2025-03-10")
    assert proc.returncode == 0, proc.stderr
    assert "冠心病" in proc.stdout


def test_flowchart_dot():
    pytest.importorskip("engine.flowchart")
    proc = medtech("flowchart", "hunan", "--format", "dot", "--as-of", "2025-03-10")
    assert proc.returncode == 0, proc.stderr
    assert "digraph" in proc.stdout


def test_batch(tmp_path):
    pytest.importorskip("engine.batch")
    out = tmp_path / "out.jsonl"
    proc = medtech("batch", str(EXAMPLES / "batch.jsonl"), "-o", str(out))
    assert proc.returncode in (0, 1, 2), proc.stderr  # the last example line is an invalid request
    no_traceback(proc)
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 4
    assert "obligations" in lines[0]
    assert lines[3]["errors"][0]["path"] == "institution.jurisdiction"


# --------------------------------------------------------------------------- Chinese text for people

_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z_\-.]*[A-Za-z]")


def _latin(text: str, allowed=()) -> set:
    """Latin words left in a text for people, except catalogue codes (S19, CQ01), abbreviations and `allowed`."""
    return {w for w in _LATIN_WORD.findall(text) if not re.fullmatch(r"[A-Z]{1,6}\d*", w) and w not in allowed}


def test_tech_search_notes_are_chinese():
    proc = medtech("tech", "search", "质子", "--jurisdiction", "all", "--as-of", "2025-06-01")
    assert proc.returncode == 0, proc.stderr
    assert "《重庆通知》附件1" in proc.stdout and "《湖南通知》附件1" in proc.stdout  # which documents reproduce it
    assert "att_1" not in proc.stdout and "cq-2019-61" not in proc.stdout and "national-2018" not in proc.stdout
    proc = medtech("tech", "search", "心脏")
    assert "alias of" not in proc.stdout and "（别名）" in proc.stdout


def test_catalog_listing_names_documents_not_ids():
    proc = medtech("catalog", "hunan", "--as-of", "2025-06-01")
    assert proc.returncode == 0, proc.stderr
    assert "hn-2018-11" not in proc.stdout and "att_1__" not in proc.stdout and "《湖南通知》附件1" in proc.stdout
    assert _latin(proc.stdout, allowed={"Cyberknife"}) == set(), proc.stdout  # an entry's own name in the catalogue


def test_compare_text_cites_by_label():
    proc = medtech("compare", str(ROOT / "examples" / "request.yaml"))
    assert proc.returncode == 0, proc.stderr
    assert "《办法》第十一条" in proc.stdout and "nhc-2018-1" not in proc.stdout
    assert "）（未列入目录）" not in proc.stdout  # a class without a listing is not followed by a second bracket
    assert _latin(proc.stdout) == set(), proc.stdout


def test_not_found_messages_are_chinese():
    proc = medtech("kb", "show", "no-such-doc")
    assert proc.returncode == 1 and "没有文件“no-such-doc”" in proc.stderr and "unknown" not in proc.stderr
    proc = medtech("catalog", "--diff", "national-2018", "no-such-version")
    assert proc.returncode == 2 and "没有目录版本" in proc.stderr and "national-2022" in proc.stderr
    proc = medtech("kb", "search", "   ")
    assert proc.returncode == 2 and "检索词为空" in proc.stderr
