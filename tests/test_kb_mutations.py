"""A broken knowledge base fails loudly (issue 22, part 2).

Twenty kinds of damage are applied, one at a time, to a copy of kb/ and catalogs/; the `medtech`
command of this environment runs against the copy (MEDTECH_KB, MEDTECH_CATALOGS): `kb check`
must report each one (exit 1, the file named), and for a few `decide` and `serve` must refuse to
start (exit 1, the problems in Chinese on stderr) instead of answering.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
MEDTECH = Path(sys.executable).parent / "medtech"


def _load(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _dump(data, path: Path) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=4096), encoding="utf-8")


def _edit(path: Path, change: Callable) -> None:
    data = _load(path)
    change(data)
    _dump(data, path)


def _rule(data: dict, rid: str) -> dict:
    return next(r for r in data["rules"] if r["id"] == rid)


def _replace_first_fact(data: dict, old: str, new: str) -> None:
    """Rename the first leaf on fact `old` in the file's rules."""
    stack = [data["rules"]]
    while stack:
        node = stack.pop(0)
        if isinstance(node, dict):
            if node.get("fact") == old:
                node["fact"] = new
                return
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    raise AssertionError(f"no leaf on {old}")


def _cycle_replacement(kb: Path) -> None:
    cq = _load(kb / "rules/cq-2019-61.yaml")
    replacer = next(r for r in cq["rules"] if "nhc.file-restricted" in (r.get("replaces_materials_of") or []))
    _edit(
        kb / "rules/nhc-2018-1.yaml",
        lambda d: _rule(d, "nhc.file-restricted").__setitem__("replaces_materials_of", [replacer["id"]]),
    )


def _taxonomy(cat: Path, change: Callable) -> None:
    _edit(cat / "taxonomy.yaml", change)


def _first_entry(data):
    """The first mapping with a `technology` key in a catalogue-like file."""
    stack = [data]
    while stack:
        node = stack.pop(0)
        if isinstance(node, dict):
            if "technology" in node:
                return node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    raise AssertionError("no entry")


def _node(data: dict, tid: str) -> dict:
    return next(t for t in data["technologies"] if t["id"] == tid)


# name -> (damage(kb dir, catalogs dir), a fragment the report must contain)
DAMAGE: dict[str, tuple[Callable[[Path, Path], None], str]] = {
    "a jurisdiction's rules file deleted": (lambda kb, cat: (kb / "rules/hn-2018-11.yaml").unlink(), "hn-2018-11"),
    "a misspelt fact name": (
        lambda kb, cat: _edit(
            kb / "rules/hn-2018-11.yaml",
            lambda d: _replace_first_fact(d, "technology.listed_provincial", "technology.listed_provinical"),
        ),
        "listed_provinical",
    ),
    "a fact of an unknown event type": (
        lambda kb, cat: _edit(
            kb / "rules/nhc-2018-1.yaml",
            lambda d: _replace_first_fact(d, "events.serious_incident", "events.serius_incident"),
        ),
        "serius_incident",
    ),
    "a replaces_materials_of cycle": (lambda kb, cat: _cycle_replacement(kb), "cycle"),
    "replaces_materials_of an unknown rule": (
        lambda kb, cat: _edit(
            kb / "rules/nhc-2018-1.yaml",
            lambda d: _rule(d, "nhc.file-restricted").__setitem__("replaces_materials_of", ["x.y"]),
        ),
        "x.y",
    ),
    "is_a an unknown node": (
        lambda kb, cat: _taxonomy(cat, lambda d: _node(d, "allo-hsct").__setitem__("is_a", ["no-such-node"])),
        "no-such-node",
    ),
    "an is_a cycle": (
        lambda kb, cat: _taxonomy(cat, lambda d: _node(d, "hsct").__setitem__("is_a", ["allo-hsct"])),
        "cycle",
    ),
    "a YAML syntax error in a rules file": (
        lambda kb, cat: (kb / "rules/jl-2021.yaml").write_text(
            (kb / "rules/jl-2021.yaml").read_text(encoding="utf-8") + "\n  - id: [unclosed\n", encoding="utf-8"
        ),
        "jl-2021",
    ),
    "a YAML syntax error in the vocabulary": (
        lambda kb, cat: (kb / "vocabulary.yaml").write_text("jurisdictions: [\n", encoding="utf-8"),
        "vocabulary",
    ),
    "a rules file that is not UTF-8": (
        lambda kb, cat: (kb / "rules/sh-2024-13.yaml").write_bytes(b"document: sh-2024-13\nrules: [\xff\xfe]\n"),
        "sh-2024-13",
    ),
    "an empty rules file": (
        lambda kb, cat: (kb / "rules/cq-2019-61.yaml").write_text("", encoding="utf-8"),
        "cq-2019-61",
    ),
    "a document deleted": (lambda kb, cat: (kb / "documents/jl-2021.yaml").unlink(), "jl-2021"),
    "a citation of a provision that does not exist": (
        lambda kb, cat: _edit(
            kb / "rules/hn-2018-11.yaml", lambda d: d["rules"][0].__setitem__("citations", ["hn-2018-11:art_999"])
        ),
        "art_999",
    ),
    "a duplicate rule id": (
        lambda kb, cat: _edit(
            kb / "rules/hn-2018-11.yaml", lambda d: d["rules"][1].__setitem__("id", d["rules"][0]["id"])
        ),
        "duplicate",
    ),
    "an action outside the vocabulary": (
        lambda kb, cat: _edit(
            kb / "rules/nhc-2018-1.yaml", lambda d: _rule(d, "nhc.file-restricted").__setitem__("action", "fly")
        ),
        "fly",
    ),
    "a relation to an unknown rule": (
        lambda kb, cat: _edit(
            kb / "rules/hn-2018-11.yaml",
            lambda d: next(r for r in d["rules"] if r.get("relation")).__setitem__(
                "relation", {"kind": "twin", "rule": "nhc.nothing"}
            ),
        ),
        "nhc.nothing",
    ),
    "the version file deleted": (lambda kb, cat: (kb / "version.yaml").unlink(), "version"),
    "the calendar deleted": (lambda kb, cat: (kb / "calendar.yaml").unlink(), "calendar"),
    "a catalogue entry of an unknown technology": (
        lambda kb, cat: _edit(
            cat / "versions/hunan-2018.yaml", lambda d: d["entries"][0].__setitem__("technology", "no-such-technology")
        ),
        "no-such-technology",
    ),
    "a prohibited technique of an unknown technology": (
        lambda kb, cat: _edit(
            cat / "prohibited.yaml", lambda d: _first_entry(d).__setitem__("technology", "nowhere-tech")
        ),
        "nowhere-tech",
    ),
    "a generated schema edited": (
        lambda kb, cat: (kb / "schema/request.schema.json").write_text("{}", encoding="utf-8"),
        "request.schema",
    ),
    "the taxonomy unreadable": (
        lambda kb, cat: (cat / "taxonomy.yaml").write_text("technologies: {", encoding="utf-8"),
        "taxonomy",
    ),
}


def _copy(base: Path) -> tuple[Path, Path]:
    shutil.copytree(ROOT / "kb", base / "kb")
    shutil.copytree(ROOT / "catalogs", base / "catalogs")
    return base / "kb", base / "catalogs"


def medtech(base: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "MEDTECH_KB": str(base / "kb"),
        "MEDTECH_CATALOGS": str(base / "catalogs"),
        "XDG_CACHE_HOME": str(base / "cache"),
    }
    return subprocess.run([str(MEDTECH), *args], capture_output=True, text=True, env=env, cwd=base, timeout=timeout)


def test_there_are_twenty_kinds_of_damage():
    assert len(DAMAGE) >= 20


@pytest.mark.parametrize("name", list(DAMAGE))
def test_kb_check_catches_the_damage(tmp_path, name):
    damage, fragment = DAMAGE[name]
    kb, cat = _copy(tmp_path)
    damage(kb, cat)
    proc = medtech(tmp_path, "kb", "check")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, f"{name}: kb check passed:\n{out}"
    assert "Traceback" not in out and "MEDTECH_DEBUG" not in out, out
    assert fragment in out, out


@pytest.mark.parametrize(
    "name",
    [
        "a jurisdiction's rules file deleted",
        "a misspelt fact name",
        "is_a an unknown node",
        "a replaces_materials_of cycle",
    ],
)
def test_decide_refuses_to_answer_on_a_damaged_kb(tmp_path, name):
    damage, fragment = DAMAGE[name]
    kb, cat = _copy(tmp_path)
    damage(kb, cat)
    proc = medtech(tmp_path, "decide", str(ROOT / "examples/request.yaml"))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout == ""
    assert "知识库" in proc.stderr and fragment in proc.stderr, proc.stderr


def test_serve_refuses_to_start_on_a_damaged_kb(tmp_path):
    damage, fragment = DAMAGE["an is_a cycle"]
    kb, cat = _copy(tmp_path)
    damage(kb, cat)
    proc = medtech(tmp_path, "serve", "--port", "0", timeout=60)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "拒绝启动" in proc.stderr and fragment in proc.stderr, proc.stderr


def test_the_intact_copy_passes(tmp_path):
    _copy(tmp_path)
    proc = medtech(tmp_path, "kb", "check")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_readyz_is_separate_from_liveness():
    from fastapi.testclient import TestClient

    from engine.service import app as service
    from engine.service.kb_access import cool, warm

    with TestClient(service.app) as client:
        assert client.get("/readyz").status_code == 200
        assert client.get("/readyz").json() == {"status": "ready"}
        cool()  # as on shutdown
        try:
            assert client.get("/readyz").status_code == 503
            assert client.get("/healthz").status_code == 200  # alive all the same
        finally:
            warm()
        assert client.get("/readyz").status_code == 200


def test_the_service_refuses_to_start_when_the_check_fails(monkeypatch):
    from fastapi.testclient import TestClient

    import engine.checks
    from engine.errors import KnowledgeBaseError, Problem
    from engine.service import app as service

    def broken():
        raise KnowledgeBaseError([Problem("kb/rules/hn-2018-11.yaml", "(file)", "missing")])

    monkeypatch.setattr(engine.checks, "ensure_sound", broken)
    with pytest.raises(KnowledgeBaseError), TestClient(service.app):
        pass
