"""Fidelity of kb/documents to the source texts in kb/sources/ (engine.paths.SOURCES_DIR).

1. Verbatim: every provision's text (and heading, chapter), with all whitespace removed, occurs in
   its source file with all whitespace removed. Nothing is changed, dropped or added inside a text.
2. Coverage: every sentence of every source (split at 。；！？ and at the ends of headings and list
   entries), apart from the form-layout parts of attachments, occurs in some provision, or is in the
   allow-list of kb/sources/not_encoded.yaml (document headers, addressee lines, signatures, table headers).

The source texts are part of the repository: when one is missing these tests fail (they do not skip).
"""

from __future__ import annotations

import importlib.util
import re

import pytest

from engine.kb.documents import load_documents
from engine.paths import ROOT, SOURCES_DIR
from engine.yamlio import load_yaml

DOC_IDS = sorted(doc.id for doc in load_documents().values())

# What is not expected in the provisions, per source file: kb/sources/not_encoded.yaml (data, so that
# a new document's letterhead or blank forms are declared beside its text, not in this test).
_NOT_ENCODED = load_yaml(SOURCES_DIR / "not_encoded.yaml") or {}
# extraction artefacts (not text of the documents), removed from the source before comparing
ARTEFACTS = {f: [a["text"] for a in v.get("artefacts", [])] for f, v in _NOT_ENCODED.items()}
# blank form pages whose cells are not encoded: (first line, first line after), by the beginning of
# the stripped lines, searched in order
FORM_LAYOUT = {f: [(x["first"], x["after"]) for x in v.get("form_layout", [])] for f, v in _NOT_ENCODED.items()}
# text deliberately not encoded as a provision (compared without whitespace; may span lines)
ALLOWED = {f: [a["text"] for a in v.get("not_encoded", [])] for f, v in _NOT_ENCODED.items()}


MARKER = re.compile(
    r"^(第[一二三四五六七八九十百]+[章条]|[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)]|（\d+）"
    r"|\d+[.．]|[A-Z]{1,2}\d+|附件\s*\d*|备注：|注：)"
)
SENTENCE = re.compile(r"[^。；！？]+[。；！？]?")


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text or "")


def require_seeds():
    """The seed directory; fails the calling test (never skips it) when it is missing."""
    if not SOURCES_DIR.is_dir():
        pytest.fail(f"source texts not found: looked in {SOURCES_DIR}", pytrace=False)
    missing = [d.source_file for d in load_documents().values() if not (SOURCES_DIR / d.source_file).is_file()]
    if missing:
        pytest.fail(f"seed texts missing in {SOURCES_DIR}: {', '.join(missing)}", pytrace=False)
    return SOURCES_DIR


def test_seed_directory_exists():
    assert require_seeds().is_dir()


@pytest.fixture(scope="module")
def docs():
    return load_documents()


def source_lines(seeds, fname: str) -> list[str]:
    """Stripped non-blank lines of a seed file, extraction artefacts removed."""
    out = []
    for line in (seeds / fname).read_text(encoding="utf-8").split("\n"):
        for art in ARTEFACTS.get(fname, []):
            line = line.replace(art, "")
        if line.strip():
            out.append(line.strip())
    return out


def normalised_source(seeds, fname: str) -> str:
    return squash("".join(source_lines(seeds, fname)))


# --------------------------------------------------------------------------- 1. verbatim


@pytest.mark.parametrize("doc_id", DOC_IDS)
def test_provision_texts_occur_verbatim_in_source(docs, doc_id):
    seeds = require_seeds()
    doc = docs[doc_id]
    source = normalised_source(seeds, doc.source_file)
    missing = []
    for p in doc.provisions.values():
        for field in ("text", "heading", "chapter"):
            value = getattr(p, field)
            if value is not None and squash(value) not in source:
                missing.append(f"{p.eid}.{field}: {value[:60]!r}")
    assert not missing, f"{len(missing)} text(s) of {doc_id} not found in {doc.source_file}:\n" + "\n".join(missing)


@pytest.mark.parametrize("doc_id", DOC_IDS)
def test_spacing_inside_lines_is_kept(docs, doc_id):
    """Stricter than the whitespace-free comparison: each line of a text (and each heading, chapter)
    occurs in the source with its inner spaces exactly as printed ("第 1号" stays "第 1号"); only the
    line breaks of the extraction and the indentation around them are gone."""
    seeds = require_seeds()
    doc = docs[doc_id]
    joined = "".join(source_lines(seeds, doc.source_file))
    missing = []
    for p in doc.provisions.values():
        values = p.text.split("\n") + [v for v in (p.heading, p.chapter) if v]
        missing += [f"{p.eid}: {v!r}" for v in values if v not in joined]
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("doc_id", DOC_IDS)
def test_texts_have_no_layout_residue(docs, doc_id):
    """No leading/trailing whitespace and no blank lines inside texts."""
    bad = [
        p.eid
        for p in docs[doc_id].provisions.values()
        if p.text != p.text.strip() or "\n\n" in p.text or any(line != line.strip() for line in p.text.split("\n"))
    ]
    assert not bad, bad


# --------------------------------------------------------------------------- 2. coverage


# Removed lines are replaced by None, which ends a unit: text never runs across a removed part.


def drop_form_layout(lines: list[str], fname: str) -> list[str | None]:
    out: list[str | None] = []
    cursor = 0
    for first, after in FORM_LAYOUT.get(fname, []):
        start = next(i for i in range(cursor, len(lines)) if lines[i].startswith(first))
        end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith(after))
        out += lines[cursor:start] + [None]
        cursor = end
    return out + lines[cursor:]


def drop_allowed(lines: list[str | None], allowed: list[str]) -> tuple[list[str | None], set[str]]:
    """Remove runs of consecutive lines that spell an allowed text; also return the entries used."""
    out: list[str | None] = []
    used, i = set(), 0
    while i < len(lines):
        for entry in allowed:
            acc, j = "", i
            while j < len(lines) and lines[j] is not None and len(acc) < len(entry):
                acc += squash(lines[j])
                j += 1
            if acc == entry:
                used.add(entry)
                out.append(None)
                i = j
                break
        else:
            out.append(lines[i])
            i += 1
    return out, used


def units(lines: list[str | None]) -> list[str]:
    """Join lines broken inside a sentence; a unit ends at sentence punctuation, before a marker
    (article, section, item, list entry, 附件, 注：) and at a removed part. A heading runs into the
    first sentence under it; the corpus holds heading + text to match that."""
    out: list[str] = []
    current = ""
    for k, line in enumerate(lines):
        if line is None:
            if current:
                out.append(current)
            current = ""
            continue
        current += line
        nxt = lines[k + 1] if k + 1 < len(lines) else None
        if nxt is None or line.endswith(("。", "；", "！", "？", "：")) or MARKER.match(nxt):
            out.append(current)
            current = ""
    return out


def strip_markers(sentence: str) -> str:
    while True:
        m = MARKER.match(sentence)
        if not m or not m.group(0):
            return sentence
        sentence = sentence[m.end() :]


def uncovered_sentences(seeds, doc) -> tuple[list[str], set[str]]:
    fname = doc.source_file
    lines = drop_form_layout(source_lines(seeds, fname), fname)
    lines, used = drop_allowed(lines, ALLOWED.get(fname, []))
    pieces = []
    for p in doc.provisions.values():
        pieces += [squash(p.text), squash(p.heading), squash(p.chapter), squash(p.heading) + squash(p.text)]
    corpus = "\x00".join(pieces)
    missing = []
    for unit in units(lines):
        for sentence in SENTENCE.findall(squash(unit)):
            if len(sentence) < 4:
                continue
            bare = strip_markers(sentence)
            if sentence not in corpus and bare not in corpus:
                missing.append(sentence)
    return missing, used


@pytest.mark.parametrize("doc_id", DOC_IDS)
def test_every_source_sentence_is_encoded(docs, doc_id):
    seeds = require_seeds()
    doc = docs[doc_id]
    missing, used = uncovered_sentences(seeds, doc)
    assert not missing, (
        f"{len(missing)} sentence(s) of {doc.source_file} ({doc_id}) occur in no provision "
        "and are not allow-listed:\n" + "\n".join(missing)
    )
    unused = [a for a in ALLOWED.get(doc.source_file, []) if a not in used]
    assert not unused, f"allow-list entries of {doc.source_file} that match nothing: {unused}"


def test_coverage_check_detects_a_dropped_sentence(docs):
    """The coverage check is not vacuous: without art_11__para_2 (and the copies of its text) it fails."""
    seeds = require_seeds()
    import dataclasses

    doc = docs["nhc-2018-1"]
    dropped = doc.get("art_11__para_2").text
    provisions = {
        e: (dataclasses.replace(p, text=p.text.replace(dropped, "…")) if dropped in p.text else p)
        for e, p in doc.provisions.items()
    }
    missing, _ = uncovered_sentences(seeds, dataclasses.replace(doc, provisions=provisions))
    assert missing and all(s in squash(dropped) for s in missing)


# --------------------------------------------------------------------------- the extraction is reproducible


def test_extraction_script_reproduces_the_files(capsys):
    require_seeds()
    spec = importlib.util.spec_from_file_location("extract_documents", ROOT / "scripts" / "extract_documents.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--check"]) == 0, capsys.readouterr().out
