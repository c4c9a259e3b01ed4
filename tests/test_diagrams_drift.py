"""diagrams/ is generated (medtech flowchart --all -o diagrams/): it must be exactly
what the knowledge base generates now, so a chart can never disagree with the rules."""

from __future__ import annotations

from pathlib import Path

from engine.cli.flowchart import write_all
from engine.paths import DIAGRAMS_DIR

# Every format is byte-stable for identical input on this toolchain (checked on repeated runs,
# PNG included: cairo draws, gd writes, no timestamps); list here only those that stay so.
DETERMINISTIC = (".dot", ".svg", ".mmd", ".png", ".md")
REGENERATE = "run bash scripts/regenerate.sh (it runs medtech flowchart --all -o diagrams/ among others)"


def test_diagrams_match_the_knowledge_base(tmp_path: Path):
    fresh = {p.name: p for p in write_all(tmp_path)}
    committed = {p.name: p for p in DIAGRAMS_DIR.iterdir() if p.is_file()} if DIAGRAMS_DIR.exists() else {}
    missing = sorted(set(fresh) - set(committed))
    stale = sorted(set(committed) - set(fresh))
    assert not missing, f"diagrams/ lacks {missing}; {REGENERATE}"
    assert not stale, f"diagrams/ has files the generator does not write: {stale} (delete them; {REGENERATE})"
    differ = sorted(
        name
        for name, path in fresh.items()
        if path.suffix in DETERMINISTIC and path.read_bytes() != committed[name].read_bytes()
    )
    assert not differ, f"out of date with kb/: {differ}; {REGENERATE}"


def test_generation_is_deterministic(tmp_path: Path):
    a = {p.name: p.read_bytes() for p in write_all(tmp_path / "a")}
    b = {p.name: p.read_bytes() for p in write_all(tmp_path / "b")}
    assert a.keys() == b.keys()
    assert [n for n in a if a[n] != b[n]] == []
