"""Checking the catalogue files (`check_catalogs`, run by `medtech kb check`).

Part of engine.catalog (the public facade). Reads the files itself, so it also reports problems
that keep engine.catalog.data from indexing them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from engine.catalog import textnorm
from engine.catalog.model import _document_data
from engine.catalog.taxonomy import Taxonomy
from engine.errors import Problem
from engine.paths import CATALOGS_DIR, DOCUMENTS_DIR, relative
from engine.yamlio import load_yaml


def _squash(text: str | None) -> str:
    return re.sub(r"\s+", "", text or "")


def _walk_citations(node, path: list, out: list) -> None:
    """Every {document, eid} mapping in a parsed file, with its dotted location."""
    if isinstance(node, dict):
        if isinstance(node.get("document"), str) and isinstance(node.get("eid"), str):
            out.append((".".join(map(str, path)), node["document"], node["eid"]))
        for k, v in node.items():
            _walk_citations(v, path + [k], out)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _walk_citations(v, path + [i], out)


def check_catalogs(catalogs_dir: str | Path = CATALOGS_DIR, documents_dir: str | Path = DOCUMENTS_DIR) -> list[Problem]:
    """Every problem of the catalogue files, each with its file and location (empty when sound).

    Schema validation; version ids unique; codes unique within a version (and within each
    reproduction); every entry, prohibited technique and out-of-scope family mapped to an
    existing technology; no listed entry under an out-of-scope family; the taxonomy acyclic
    with known parents; every alias unambiguous or declared ambiguous; every citation's eid
    present in kb/documents/<doc>.yaml (skipped while that file does not exist); entry wording
    and quotes found in the cited provision; version dates copies equal to the documents' dates.
    """
    from engine.kb.schemas import schema_problems

    catalogs_dir, documents_dir = Path(catalogs_dir), Path(documents_dir)
    problems: list[Problem] = []
    parsed: dict[Path, Any] = {}
    files = [catalogs_dir / "taxonomy.yaml", catalogs_dir / "prohibited.yaml", catalogs_dir / "out_of_scope.yaml"]
    files += sorted((catalogs_dir / "versions").glob("*.yaml"))
    schema_of = {"taxonomy.yaml": "taxonomy", "prohibited.yaml": "prohibited", "out_of_scope.yaml": "out_of_scope"}
    for path in files:
        file = relative(path)
        if not path.exists():
            problems.append(Problem(file, "(file)", "missing"))
            continue
        try:
            data = load_yaml(path)
        except Exception as exc:
            problems.append(Problem(file, "(file)", f"cannot be read as YAML: {exc}"))
            continue
        name = schema_of.get(path.name, "catalog")
        found = schema_problems(name, data, file)
        problems += found
        if not found:
            parsed[path] = data
    if not parsed.get(files[0]):
        return sorted(set(problems))

    tax_path = files[0]
    tax = Taxonomy(parsed[tax_path], relative(tax_path))
    known = tax.nodes
    problems += tax.problems()

    docs = _document_data(str(documents_dir.resolve()))
    texts: dict[str, dict[str, dict]] = {
        d: {p["eid"]: p for p in data.get("provisions") or [] if isinstance(p, dict) and "eid" in p}
        for d, data in docs.items()
    }
    oos_data = parsed.get(files[2]) or {}
    oos_nodes = {f["technology"] for f in oos_data.get("families") or [] if f.get("technology") in known}

    def under_oos(tid: str) -> str | None:
        if not tax.acyclic or tid not in known:
            return None
        hit = tax.up(tid) & oos_nodes
        return sorted(hit)[0] if hit else None

    # versions
    version_ids: dict[str, str] = {}
    names: list[tuple[str, str, str]] = []
    for path in files[3:]:
        data = parsed.get(path)
        if not isinstance(data, dict):
            continue
        file = relative(path)
        vid = data["id"]
        if vid != path.stem:
            problems.append(Problem(file, "id", f"id {vid!r} does not match the file name {path.name}"))
        if vid in version_ids:
            problems.append(Problem(file, "id", f"version id {vid} also used in {version_ids[vid]}"))
        version_ids.setdefault(vid, file)
        codes: dict[str | None, int] = {}
        repro_codes: dict[tuple[str, str | None], int] = {}
        for i, e in enumerate(data["entries"]):
            key = textnorm.code_key(e["code"])
            if key in codes:
                problems.append(
                    Problem(file, f"entries.{i}.code", f"duplicate code {e['code']} (also entries.{codes[key]})")
                )
            else:
                codes[key] = i
            for k, r in enumerate(e.get("reproduced_in") or []):
                if r.get("code"):
                    rk = (r["document"], textnorm.code_key(r["code"]))
                    if rk in repro_codes:
                        problems.append(
                            Problem(
                                file,
                                f"entries.{i}.reproduced_in.{k}.code",
                                f"duplicate code {r['code']} in the reproduction in {r['document']} (also entries.{repro_codes[rk]})",
                            )
                        )
                    repro_codes.setdefault(rk, i)
                if r.get("name"):
                    names.append((r["name"], e["technology"], f"{vid} {e['code']} as printed in {r['document']}"))
            if e["technology"] not in known:
                problems.append(
                    Problem(
                        file,
                        f"entries.{i}.technology",
                        f"{e['code']} is mapped to unknown technology {e['technology']}",
                    )
                )
            else:
                names.append((e["name"], e["technology"], f"{vid} {e['code']}"))
                fam = under_oos(e["technology"])
                if fam:
                    problems.append(
                        Problem(
                            file,
                            f"entries.{i}.technology",
                            f"{e['code']} ({e['technology']}) is under the out-of-scope family {fam}",
                        )
                    )
            # wording found in the cited provision
            for loc, cite, wording in (
                [(f"entries.{i}.name", e.get("citation"), e["name"])] if e.get("citation") else []
            ) + [
                (f"entries.{i}.reproduced_in.{k}", r, r.get("name") or e["name"])
                for k, r in enumerate(e.get("reproduced_in") or [])
            ]:
                p = texts.get(cite["document"], {}).get(cite["eid"])
                if p is not None and _squash(wording) not in _squash(p.get("text")):
                    problems.append(
                        Problem(
                            file,
                            loc,
                            f"{wording!r} does not occur in {cite['document']} {cite['eid']} ({_squash(p.get('text'))[:40]!r})",
                        )
                    )
        if data["scope"] == "national" and data["jurisdiction"] != "national":
            problems.append(Problem(file, "jurisdiction", "a national version has jurisdiction national"))
        doc = data["validity"].get("document") if isinstance(data["validity"], dict) else None
        if doc and doc in docs:
            have = docs[doc].get("dates") or {}
            copy = data["validity"].get("dates") or {}
            for which in ("in_force_from", "in_force_until"):
                if (copy.get(which) or None) != (have.get(which) or None):
                    problems.append(
                        Problem(
                            file,
                            f"validity.dates.{which}",
                            f"copy {copy.get(which)!r} differs from {doc}'s {have.get(which)!r}",
                        )
                    )
        for k, r in enumerate(data.get("reproduced_in") or []):
            p = texts.get(r["document"], {}).get(r["eid"])
            if p is not None and r.get("title") and _squash(r["title"]) != _squash(p.get("heading")):
                problems.append(
                    Problem(
                        file,
                        f"reproduced_in.{k}.title",
                        f"{r['title']!r} is not the heading of {r['document']} {r['eid']} ({p.get('heading')!r})",
                    )
                )

    # prohibited and out of scope
    pro = parsed.get(files[1])
    if isinstance(pro, dict):
        file = relative(files[1])
        grounds = {g["id"] for g in pro["grounds"]}
        for i, p in enumerate(pro["techniques"]):
            if p["technology"] not in known:
                problems.append(Problem(file, f"techniques.{i}.technology", f"unknown technology {p['technology']}"))
            else:
                names.append((p["name"], p["technology"], f"prohibited {p['id']}"))
            if p["ground"] not in grounds:
                problems.append(
                    Problem(file, f"techniques.{i}.ground", f"ground {p['ground']} is not defined under grounds")
                )
            c = p["citation"]
            if c["document"] not in p["documents"]:
                problems.append(
                    Problem(
                        file,
                        f"techniques.{i}.citation.document",
                        f"{c['document']} is not among the documents {p['documents']}",
                    )
                )
            prov = texts.get(c["document"], {}).get(c["eid"])
            if prov is not None:
                for what in (p["name"], c.get("quote")):
                    if what and _squash(what) not in _squash(prov.get("text")):
                        problems.append(
                            Problem(
                                file,
                                f"techniques.{i}.citation",
                                f"{what!r} does not occur in {c['document']} {c['eid']}",
                            )
                        )
    if isinstance(oos_data, dict) and oos_data:
        file = relative(files[2])
        for i, f in enumerate(oos_data.get("families") or []):
            if f["technology"] not in known:
                problems.append(Problem(file, f"families.{i}.technology", f"unknown technology {f['technology']}"))

    # catalogue wordings may not clash with other technologies' names
    if tax.acyclic:
        before = set(tax.problems())
        tax.add_names(names)
        for prob in tax.problems():
            if prob not in before:
                problems.append(prob)

    # citations resolve
    for path, data in parsed.items():
        cites: list[tuple[str, str, str]] = []
        _walk_citations(data, [], cites)
        for loc, doc, eid in cites:
            if doc not in docs:
                if not (documents_dir / f"{doc}.yaml").exists():
                    continue  # the document is not encoded yet
                problems.append(Problem(relative(path), loc, f"{doc}.yaml could not be read"))
                continue
            if eid not in texts[doc]:
                problems.append(Problem(relative(path), f"{loc}.eid", f"no provision {eid} in {doc}"))
    return sorted(set(problems))
