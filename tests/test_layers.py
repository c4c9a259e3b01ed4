"""The packages of engine/ form layers; an import may only point down (or stay in its package).

    base (errors, paths, yamlio, jsonout) <- kb, requestio <- catalog <- inference <- render, flowchart, batch_io,
        register <- checks, batch <- ledger <- service <- cli

Checked on the source (every import statement, lazy ones inside functions included), so a
wrong-way import fails here even if nothing executes it yet. A cycle between packages needs an
upward import somewhere, so this also rules cycles out; cycles inside a package are checked too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ENGINE = Path(__file__).resolve().parent.parent / "engine"
RANK = {
    "errors": 0,
    "paths": 0,
    "yamlio": 0.5,  # names the file it cannot read (errors, paths)
    "jsonout": 0,
    "textsafe": 0,
    "kb": 1,
    "requestio": 1,
    "catalog": 2,
    "inference": 3,
    "render": 4,
    "flowchart": 4,
    "batch_io": 4,
    "register": 4,
    "checks": 5,
    "batch": 5,
    "ledger": 5.5,
    "service": 6,
    "cli": 7,
}
# `from engine import NAME`: the package façade re-exports these
FACADE = {
    "InvalidRequest": "errors",
    "KnowledgeBaseError": "errors",
    "NotFound": "errors",
    "decide": "inference",
    "decide_bytes": "render",
}


def _unit(module: str) -> str:
    """engine.kb.loader -> kb; engine.errors -> errors."""
    return module.split(".")[1]


def _modules():
    for path in sorted(ENGINE.rglob("*.py")):
        rel = path.relative_to(ENGINE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("engine."):
                    yield node.lineno, a.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "engine":
                for a in node.names:
                    yield node.lineno, "engine." + FACADE.get(a.name, a.name)
            elif node.module.startswith("engine."):
                yield node.lineno, node.module


def test_every_unit_has_a_rank():
    units = {_unit(m) for m, _ in _modules() if m != "engine"}
    assert units <= set(RANK), f"give these a layer in RANK: {sorted(units - set(RANK))}"


def test_imports_point_down():
    wrong = []
    for module, path in _modules():
        if module == "engine":
            continue
        here = _unit(module)
        for line, target in _imports(path):
            there = _unit(target)
            if there != here and RANK[there] >= RANK[here]:
                wrong.append(f"{path.relative_to(ENGINE.parent)}:{line}: {here} imports {target}")
    assert not wrong, "imports that point up or sideways:\n" + "\n".join(wrong)


def test_no_import_cycles_between_modules_at_import_time():
    """Top-level imports only (lazy imports inside functions may legitimately close a loop)."""
    G = nx.DiGraph()
    known = {m for m, _ in _modules()}
    for module, path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for t in targets:
                if t in known and t != module:
                    G.add_edge(module, t)
    # a package importing its own submodules is how packages work, not a cycle
    G.remove_edges_from([(a, b) for a, b in list(G.edges) if b.startswith(a + ".") or a.startswith(b + ".")])
    cycles = list(nx.simple_cycles(G))
    assert not cycles, f"import cycles: {cycles}"


def test_the_check_itself_catches_an_upward_import(tmp_path):
    bad = tmp_path / "m.py"
    bad.write_text("def f():\n    from engine.service.app import app\n", encoding="utf-8")
    assert [t for _, t in _imports(bad)] == ["engine.service.app"]
    assert RANK[_unit("engine.service.app")] > RANK["kb"]
