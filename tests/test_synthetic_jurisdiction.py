"""A sixth jurisdiction added with YAML alone (tests/fixtures/synthetic_jurisdiction/).

The fixture is laid out as the repository: its new files (`kb/`, `catalogs/`, `tests/scenarios/`)
are copied in as they are, and `edits/` holds what is merged into existing YAML files (an entry
appended to `jurisdictions` in kb/vocabulary.yaml, a short name in kb/flowcharts.yaml, the source's
letterhead in kb/sources/not_encoded.yaml), as docs/adding-a-jurisdiction.md says.

Two ways: (1) the real kb/ and catalogs/ are copied to a temporary directory with the fixture laid
over them, and the `medtech` command of this virtual environment runs against the copy through
MEDTECH_KB and MEDTECH_CATALOGS; (2) `test_added_with_data_and_regenerate_alone` copies the whole
repository, adds the fixture, bumps the version, runs `bash scripts/regenerate.sh` and then the
inventory, schema, document, fidelity, flowchart, docs, diagrams-drift and scenario tests in the
copy, with no other file edited. Expected answers are worked out from the fixture's text
(示卫医发〔2024〕1号 第一条: 10 working days; 第二条: the two listed techniques) and the calendar,
not from the engine.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from calendar_oracle import nth_working_day_after
from engine.yamlio import load_yaml

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "synthetic_jurisdiction"
MEDTECH = Path(sys.executable).parent / "medtech"
DOC = "sl-2024-1"


def _dump(data, path: Path) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=4096), encoding="utf-8")


def _merge(into: dict, extra: dict) -> dict:
    """`extra` merged into `into`: lists appended to, mappings merged key by key, other values set."""
    for key, value in extra.items():
        if isinstance(value, list):
            into[key] = list(into.get(key) or []) + value
        elif isinstance(value, dict):
            into[key] = _merge(dict(into.get(key) or {}), value)
        else:
            into[key] = value
    return into


def apply_edits(root: Path) -> list[Path]:
    """The fixture's `edits/` merged into the YAML files of the same path under `root`; the files edited."""
    edited = []
    for extra in sorted((FIXTURE / "edits").rglob("*.yaml")):
        target = root / extra.relative_to(FIXTURE / "edits")
        _dump(_merge(load_yaml(target) or {}, load_yaml(extra)), target)
        edited.append(target)
    return edited


def make_kb(base: Path) -> Path:
    """The real knowledge base plus the synthetic jurisdiction, under `base` (kb/, catalogs/)."""
    shutil.copytree(ROOT / "kb", base / "kb")
    shutil.copytree(ROOT / "catalogs", base / "catalogs")
    shutil.copytree(FIXTURE / "kb", base / "kb", dirs_exist_ok=True)
    shutil.copytree(FIXTURE / "catalogs", base / "catalogs", dirs_exist_ok=True)
    apply_edits(base)
    return base


def medtech(base: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "MEDTECH_KB": str(base / "kb"),
        "MEDTECH_CATALOGS": str(base / "catalogs"),
        "XDG_CACHE_HOME": str(base / "cache"),
    }
    return subprocess.run(
        [str(MEDTECH), *args], input=stdin, capture_output=True, text=True, env=env, cwd=base, timeout=300
    )


@pytest.fixture(scope="module")
def six(tmp_path_factory) -> Path:
    """The copy, with its generated schemas brought up to date by `medtech kb schemas`."""
    base = make_kb(tmp_path_factory.mktemp("six"))
    stale = medtech(base, "kb", "check")
    # the new jurisdiction is not yet among the request schema's accepted spellings
    assert stale.returncode == 1 and "request.schema.json" in stale.stdout, stale.stdout + stale.stderr
    done = medtech(base, "kb", "schemas")
    assert done.returncode == 0, done.stderr
    return base


def test_kb_check_accepts_the_sixth_jurisdiction(six):
    proc = medtech(six, "kb", "check")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "knowledge base OK: 9 documents" in proc.stdout  # the eight of kb/documents and the synthetic one
    assert "7 catalogue versions" in proc.stdout
    # the copy, not the repository, answered
    assert "示例省" in (six / "kb" / "schema" / "request.schema.json").read_text(encoding="utf-8")
    assert "示例省" not in (ROOT / "kb" / "schema" / "request.schema.json").read_text(encoding="utf-8")


def _decide(base: Path, request: dict) -> dict:
    proc = medtech(base, "decide", "-", "--format", "json", stdin=json.dumps(request, ensure_ascii=False))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_decide_for_the_sixth_jurisdiction(six):
    request = load_yaml(FIXTURE / "request.yaml")
    r = _decide(six, request)
    assert r["jurisdiction"] == {"id": "shili", "name": "示例省"}
    assert r["knowledge_base"]["version"] == load_yaml(ROOT / "kb" / "version.yaml")["version"]
    statuses = [(d["id"], d["status"]) for d in r["documents"]]
    # the national documents (the measures, then the national notices, each with its status that day), then its own
    assert statuses[0] == ("nhc-2018-1", "in_force") and statuses[-1] == (DOC, "in_force")
    assert [d for d, _ in statuses[1:-1]] == ["nhc-2022-list", "nhc-2025-282", "nhc-2025-jejunoileal"]
    # 第二条第一款第（一）项 lists the technique: restricted by the provincial list, national 第十条第三款
    t = r["technology"]
    assert t["id"] == "knee-arthroplasty" and t["class"] == "restricted"
    assert [(x["catalog"], x["code"], x["scope"]) for x in t["listings"]] == [("shili-2024", "SL01", "provincial")]
    # 第一条第一款: filed within 10 working days of the first case (2025-03-03, a Monday): the 10th
    # working day is Monday 2025-03-17; the national 15 working days (第十一条) end on 2025-03-24
    event = dt.date(2025, 3, 3)
    assert nth_working_day_after(event, 10) == dt.date(2025, 3, 17)
    assert nth_working_day_after(event, 15) == dt.date(2025, 3, 24)
    filing = [o for o in r["obligations"] if o["action"] == "file"]
    assert len(filing) == 1, filing
    o = filing[0]
    assert o["addressee"] == "license_issuer" and o["actor"] == "institution"
    assert o["due"] == "2025-03-17" and o["status"] == "pending"
    assert o["deadline"]["days"] == 10 and o["deadline"]["text"] == "开展首例临床应用之日起10个工作日内"
    assert [(a["days"], a["due"]) for a in o["deadline"]["alternatives"]] == [(15, "2025-03-24")]
    cited = {(c["document"], c["eid"]): c for c in o["citations"]}
    assert ("nhc-2018-1", "art_11__para_1") in cited
    own = cited[(DOC, "art_1__para_1")]
    assert own["label"] == "第一条第一款"
    assert (
        own["quote"]
        == "医疗机构开展限制类技术临床应用的，应当自开展首例临床应用之日起10个工作日内，向核发其《医疗机构执业许可证》的卫生健康行政部门备案。"
    )


def test_the_same_case_nationally_is_unlisted(six):
    """Control: without the province's list the technique is in no catalogue, so nothing is filed."""
    request = load_yaml(FIXTURE / "request.yaml")
    request["institution"]["jurisdiction"] = "national"
    r = _decide(six, request)
    assert r["technology"]["class"] == "unlisted" and r["technology"]["listings"] == []
    assert not [o for o in r["obligations"] if o["action"] == "file"]


def test_flowchart_of_the_sixth_jurisdiction(six, tmp_path):
    out = tmp_path / "shili.dot"
    proc = medtech(six, "flowchart", "示例省", "--as-of", "2025-03-05", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    dot = out.read_text(encoding="utf-8")
    assert "10个工作日" in dot  # the province's deadline on the filing step
    assert "示卫医发〔2024〕1号" in dot  # its provisions, by the short name in kb/flowcharts.yaml
    svg = medtech(six, "flowchart", "shili", "--as-of", "2025-03-05", "--format", "svg")
    assert svg.returncode == 0 and svg.stdout.lstrip().startswith("<?xml") and "</svg>" in svg.stdout


def test_kb_check_names_file_and_location_of_a_bad_citation(tmp_path):
    base = make_kb(tmp_path)
    assert medtech(base, "kb", "schemas").returncode == 0
    rules = base / "kb" / "rules" / f"{DOC}.yaml"
    text = rules.read_text(encoding="utf-8")
    rules.write_text(
        text.replace(f"citations: [{DOC}:art_1__para_1]", f"citations: [{DOC}:art_3__para_1]"), encoding="utf-8"
    )
    catalogue = base / "catalogs" / "versions" / "shili-2024.yaml"
    catalogue.write_text(
        catalogue.read_text(encoding="utf-8").replace("art_2__para_1__item_2", "art_2__para_1__item_3"),
        encoding="utf-8",
    )
    proc = medtech(base, "kb", "check")
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert f"{rules}: rules.1.citations: no provision art_3__para_1 in {DOC}" in lines, proc.stdout
    assert f"{catalogue}: entries.1.citation.eid: no provision art_2__para_1__item_3 in {DOC}" in lines, proc.stdout


def test_kb_check_names_a_jurisdiction_without_its_document(tmp_path):
    base = make_kb(tmp_path)
    vocab_file = base / "kb" / "vocabulary.yaml"
    vocab = load_yaml(vocab_file)
    vocab["jurisdictions"][-1]["documents"] = ["nhc-2018-1", "sl-2025-1"]
    _dump(vocab, vocab_file)
    assert medtech(base, "kb", "schemas").returncode == 0
    proc = medtech(base, "kb", "check")
    assert proc.returncode == 1
    assert (
        f"{vocab_file}: jurisdictions.5.documents.1: no document sl-2025-1 in {base / 'kb' / 'documents'}"
        in proc.stdout
    ), proc.stdout
    assert f"{base / 'kb' / 'documents' / (DOC + '.yaml')}: jurisdiction:" in proc.stdout, proc.stdout


# --------------------------------------------------------------------------- the whole repository, copied

# what a copy of the repository leaves out (not part of a clone, or made by tools)
_NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", ".pytest_cache", ".hypothesis", ".mypy_cache", ".ruff_cache", "*.egg-info",
    "build", "dist", "_data", "tmp", ".cache",
)  # fmt: skip
# what scripts/regenerate.sh writes
_GENERATED = re.compile(r"^(kb/schema/(request|response|rules)\.schema\.json|docs/reference\.zh\.md|diagrams/[^/]+)$")
# the tests run in the copy: everything that reads the inventory, the documents, the generated files
_SUITE = [
    "tests/test_inventory.py", "tests/test_rules_check.py", "tests/test_documents.py", "tests/test_fidelity.py",
    "tests/test_version.py", "tests/test_docs.py", "tests/test_diagrams_drift.py", "tests/test_flowchart.py",
    "tests/test_catalog_check.py", "tests/test_catalog_views.py", "tests/test_catalog_resolution.py",
    "tests/scenarios/",
]  # fmt: skip


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file() and ".venv" not in p.relative_to(root).parts
    }


def _changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {name for name in set(before) | set(after) if before.get(name) != after.get(name)}


def _bump_version(root: Path) -> None:
    """Step 4 of the guide: a minor version for new content, and its CHANGELOG.md section first."""
    version_file = root / "kb" / "version.yaml"
    text = version_file.read_text(encoding="utf-8")
    major, minor, _ = load_yaml(version_file)["version"].split(".")
    new = f"{major}.{int(minor) + 1}.0"
    version_file.write_text(re.sub(r"^version: .*$", f'version: "{new}"', text, flags=re.M), encoding="utf-8")
    changelog = root / "CHANGELOG.md"
    text = changelog.read_text(encoding="utf-8")
    first = re.search(r"^## ", text, re.M)
    assert first, "CHANGELOG.md has no version section"
    section = (f"## {new} — {dt.date.today().isoformat()}\n\n"
               f"- {DOC} (new, 示例省): 第一条第一款 filing within 10 working days of the first case; "
               f"第二条第一款 the province's list (SL01, SL02) in catalogs/versions/shili-2024.yaml.\n\n")  # fmt: skip
    changelog.write_text(text[: first.start()] + section + text[first.start() :], encoding="utf-8")


def test_added_with_data_and_regenerate_alone(tmp_path):
    """A copy of the repository, the fixture added (new files, YAML edits, the version bumped), then
    `bash scripts/regenerate.sh`: the suite's inventory, document, generated-file and scenario tests
    pass in the copy, and no file was edited but the fixture's, the version's and the regenerated ones."""
    copy = tmp_path / "repo"
    shutil.copytree(ROOT, copy, ignore=_NOT_COPIED, symlinks=True)
    (copy / ".venv").symlink_to(Path(sys.prefix))  # regenerate.sh runs .venv/bin/medtech
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDTECH_")}
    env.update({"PYTHONPATH": str(copy), "XDG_CACHE_HOME": str(tmp_path / "cache")})  # the copy's engine, not ours
    start = _digests(copy)

    added = [
        p for p in FIXTURE.rglob("*") if p.is_file() and p.parts[len(FIXTURE.parts)] in ("kb", "catalogs", "tests")
    ]
    for p in added:
        target = copy / p.relative_to(FIXTURE)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, target)
    apply_edits(copy)
    _bump_version(copy)
    edited = _changed(start, _digests(copy))
    expected = {str(p.relative_to(FIXTURE)) for p in added}
    expected |= {str(p.relative_to(FIXTURE / "edits")) for p in (FIXTURE / "edits").rglob("*.yaml")}
    expected |= {"kb/version.yaml", "CHANGELOG.md"}
    assert edited == expected
    assert not [name for name in edited if name.endswith(".py")]

    before = _digests(copy)
    proc = subprocess.run(["bash", "scripts/regenerate.sh"], cwd=copy, env=env, capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    regenerated = _changed(before, _digests(copy))
    assert {"kb/schema/request.schema.json", "docs/reference.zh.md", "diagrams/shili-filing.svg"} <= regenerated
    assert [name for name in regenerated if not _GENERATED.match(name)] == []

    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *_SUITE], cwd=copy,
                          env=env, capture_output=True, text=True, timeout=1200)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]

    # the new jurisdiction changed no answer of the others (scripts/answers_changed.py, as the guide says)
    proc = subprocess.run([sys.executable, "scripts/answers_changed.py", "--base", str(ROOT), "--fail-on-change"],
                          cwd=copy, env=env, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert re.fullmatch(r"0 of \d+ answers changed", proc.stdout.strip()), proc.stdout[-3000:]
