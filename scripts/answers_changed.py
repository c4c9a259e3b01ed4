#!/usr/bin/env python3
"""Which answers a change to kb/ or catalogs/ changes: the same requests decided by two knowledge bases.

    .venv/bin/python scripts/answers_changed.py                  # the working tree against git HEAD
    .venv/bin/python scripts/answers_changed.py --base main      # against another revision
    .venv/bin/python scripts/answers_changed.py --base /some/dir --new /other/dir   # folders with kb/ and catalogs/
    .venv/bin/python scripts/answers_changed.py --fail-on-change # exit 1 when any answer changed

The requests: for every jurisdiction of the base and the name of every technology of either taxonomy
(catalogs/taxonomy.yaml), and every alias or catalogue wording found in one knowledge base and not the
other, a first clinical use on 2025-03-03 (surgery grade 4) asked on 2025-03-10; and every request of
tests/scenarios/*.yaml. Each is decided by
`medtech batch` once with the base and once with the new knowledge base (MEDTECH_KB,
MEDTECH_CATALOGS); an answer changed when its class, its listings (catalogue and code) or its
obligations (action, addressee, due day, status) differ. One line per changed answer, then a count.

A new taxonomy node, or a new `is_a` or alias, changes other jurisdictions' answers: a catalogue
entry covers its node and every node below it (docs/adding-a-jurisdiction.md).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
AS_OF, FIRST_CASE, GRADE = "2025-03-10", "2025-03-03", 4


def _load(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None


def _base_tree(base: str, tmp: Path) -> Path:
    """A folder with kb/ and catalogs/: `base` itself when it is one, else that git revision's."""
    if Path(base).is_dir():
        return Path(base)
    archive = tmp / "base.tar"
    with archive.open("wb") as out:
        proc = subprocess.run(["git", "archive", base, "kb", "catalogs"], cwd=ROOT, stdout=out, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        sys.exit(f"answers_changed: error: cannot read kb/ and catalogs/ of {base!r}: {proc.stderr.decode().strip()}")
    with tarfile.open(archive) as tar:
        tar.extractall(tmp / "base", filter="data")
    return tmp / "base"


def _names(tree: Path) -> tuple[list[str], set[str]]:
    """The technologies' names, in file order, and the other names a request may use for them: their
    aliases and the catalogue entries' wordings (which the resolver indexes too)."""
    nodes = (_load(tree / "catalogs" / "taxonomy.yaml") or {}).get("technologies", [])
    others = {a for n in nodes for a in n.get("aliases") or []}
    for path in sorted((tree / "catalogs" / "versions").glob("*.yaml")):
        others |= {e["name"] for e in (_load(path) or {}).get("entries", []) if e.get("name")}
    return [n["name"] for n in nodes if n.get("name")], others


def requests(base: Path, new: Path) -> list[dict]:
    """The requests both knowledge bases answer (see the module's docstring)."""
    jurisdictions = [j["id"] for j in (_load(base / "kb" / "vocabulary.yaml") or {}).get("jurisdictions", [])]
    (base_names, base_aliases), (new_names, new_aliases) = _names(base), _names(new)
    names = list(dict.fromkeys([*base_names, *new_names, *sorted(base_aliases ^ new_aliases)]))
    out = [
        {
            "as_of": AS_OF,
            "institution": {"jurisdiction": j, "level": 3},
            "technology": {"name": name, "surgery_grade": GRADE, "first_in_institution": True},
            "events": [{"type": "first_clinical_use", "date": FIRST_CASE}],
        }
        for j in jurisdictions
        for name in names
    ]
    for path in sorted((ROOT / "tests" / "scenarios").glob("*.yaml")):
        for scenario in _load(path) or []:
            if "error_paths" not in (scenario.get("expect") or {}):
                request = json.loads(json.dumps(scenario["request"], default=str))
                if request.get("institution", {}).get("jurisdiction") in jurisdictions:
                    out.append(request)
    return out


def decide_all(tree: Path, lines: str, tmp: Path, name: str) -> list[dict]:
    """Every request of `lines` (JSON lines) answered with the knowledge base of `tree`."""
    (tmp / f"{name}.in").write_text(lines, encoding="utf-8")
    env = {**os.environ, "MEDTECH_KB": str(tree / "kb"), "MEDTECH_CATALOGS": str(tree / "catalogs")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli", "batch", str(tmp / f"{name}.in"), "-o", str(tmp / f"{name}.out")],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    if proc.returncode != 0:
        sys.exit(f"answers_changed: error: deciding with {tree}: {proc.stderr.strip()[-2000:]}")
    return [json.loads(line) for line in (tmp / f"{name}.out").read_text(encoding="utf-8").splitlines()]


def summary(answer: dict) -> dict:
    """What counts as the answer: class, listings, obligations (or the errors of a refused request)."""
    if "errors" in answer:
        return {"errors": sorted(e.get("path") or "" for e in answer["errors"])}
    tech = answer.get("technology") or {}
    return {
        "class": tech.get("class"),
        "listings": sorted(f"{x['catalog']}:{x['code']}" for x in tech.get("listings") or []),
        "obligations": sorted(
            f"{o['action']}→{o.get('addressee')} {o.get('due') or '-'} {o.get('status')}" for o in answer["obligations"]
        ),
    }


def describe(old: dict, new: dict) -> str:
    parts = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if isinstance(a, list) or isinstance(b, list):
            a, b = a or [], b or []
            change = [f"-{x}" for x in a if x not in b] + [f"+{x}" for x in b if x not in a]
            parts.append(f"{key} {' '.join(change) or 'listed a different number of times'}")
        else:
            parts.append(f"{key} {a} -> {b}")
    return "; ".join(parts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", default="HEAD", help="a git revision, or a folder with kb/ and catalogs/ (default HEAD)")
    ap.add_argument("--new", default=str(ROOT), help="a folder with kb/ and catalogs/ (default: this repository)")
    ap.add_argument("--fail-on-change", action="store_true", help="exit 1 when any answer changed")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        base, new = _base_tree(args.base, tmp), Path(args.new)
        reqs = requests(base, new)
        lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in reqs)
        before, after = decide_all(base, lines, tmp, "base"), decide_all(new, lines, tmp, "new")
    changed = 0
    for request, a, b in zip(reqs, before, after, strict=True):
        old, now = summary(a), summary(b)
        if old != now:
            changed += 1
            tech = request.get("technology") or {}
            what = tech.get("name") or tech.get("code") or "(no technology)"
            grade = f" grade {tech['surgery_grade']}" if tech.get("surgery_grade") else ""
            print(
                f"{request['institution']['jurisdiction']} · {what}{grade} · as of {request['as_of']}: {describe(old, now)}"
            )
    print(f"{changed} of {len(reqs)} answers changed")
    return 1 if changed and args.fail_on_change else 0


if __name__ == "__main__":
    sys.exit(main())
