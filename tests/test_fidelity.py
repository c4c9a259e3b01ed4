"""Fidelity of kb/documents to the source texts in kb/sources/ (engine.paths.SOURCES_DIR).

1. Verbatim: every provision's text (and heading, chapter), with all whitespace removed, occurs in
   its source file with all whitespace removed. Nothing is changed, dropped or added inside a text.
2. Coverage: every sentence of every source (split at 。；！？ and at the ends of headings and list
   entries), apart from the form-layout parts of attachments, occurs in some provision, or is in the
   small allow-list below (document headers, addressee lines, signatures, table headers).

The source texts are part of the repository: when one is missing these tests fail (they do not skip).
"""
from __future__ import annotations

import importlib.util
import re

import pytest

from engine.kb.documents import load_documents
from engine.paths import ROOT, SOURCES_DIR

DOC_IDS = sorted(doc.id for doc in load_documents().values())
# the per-document lists below are keyed by source file (kb/sources/<document id>.txt)
CQ, HN, NHC, SH, JL = "cq-2019-61.txt", "hn-2018-11.txt", "nhc-2018-1.txt", "sh-2024-13.txt", "jl-2021.txt"
# the national notices since the measures (encoded by hand; partial where only part could be sourced)
LIST22, LVA, JJ = "nhc-2022-list.txt", "nhc-2025-282.txt", "nhc-2025-jejunoileal.txt"

# Extraction artefacts (not text of the documents), removed from the source before comparing.
ARTEFACTS = {
    SH: ["<p>", "</p>"],  # HTML paragraph tags around the notes (备注) of attachments 1 and 2
    CQ: ["mailto:67706026@163.com"],  # hyperlink target printed after the e-mail address
    HN: ["技术编号 技术名称"],  # header row of the table in attachment 1, printed again after the page break
}

# Form layout: blank form pages whose cells are not encoded. (first line, first line after), by
# the beginning of the stripped lines, searched in order.
FORM_LAYOUT = {
    CQ: [
        ("医疗机构名称：", "填写说明及同时提交的材料清单"),  # 附件3 cover page
        ("一、医疗机构基本情况", "七、医疗机构承诺"),  # 附件3 form sections 一 to 六
        ("法人（签字）", "附件 4"),  # 附件3 signature block
        ("受理机", "附件 6"),  # 附件5 receipt table
    ],
    HN: [
        ("医疗机构名称", "注：1."),  # 附件2 filing form
        ("医疗技术名称", "注：详细"),  # 附件3 form
        ("医疗机构名称", "注：1.此表"),  # 附件4 form
        ("市州（公章）", "注：1.此表由"),  # 附件5 table with its example row
    ],
    JL: [
        ("医疗机构名称", "医疗机构承诺"),  # 附件3 form cells
        ("法定代表人（签字）", "注：此表"),  # 附件3 signature block
    ],
}

# Text that is deliberately not encoded as a provision (compared without whitespace; may span lines).
ALLOWED = {
    NHC: [
        "#医疗技术临床应用管理办法",  # title (a markdown heading in the extraction)
        "（2018年8月13日国家卫生健康委员会令第1号公布自2018年11月1日起施行）",  # publication note under the title
    ],
    CQ: [
        "重庆市卫生健康委员会关于贯彻落实《医疗技术临床应用管理办法》的通知",  # title
        "渝卫发〔2019〕61号",  # document number
        "各区县（自治县）卫生健康委、两江新区社发局、万盛经开区卫生计生局，各委属医疗机构，"
        "陆军军医大学各附属医院、陆军第958医院、武警重庆市总队医院，大型企事业单位职工医院：",  # addressees
        "填写说明及同时提交的材料清单",  # page title inside the form of 附件3 (its two parts are encoded)
    ],
    HN: [
        "湖南省卫生健康委员会文件",  # letterhead
        "湘卫医发〔2018〕11号",  # document number
        "湖南省卫生健康委员会关于贯彻落实《医疗技术临床应用管理办法》的通知",  # title
        "各市州卫生计生委，部省直各医疗卫生机构：",  # addressees
        "湖南省卫生健康委员会办公室2018年11月19日印发",  # printing record (版记)
        "校对：田魁",  # printing record (版记)
    ],
    SH: [
        "上海市卫生健康委员会文件",  # letterhead of the cover notice
        "沪卫规〔2024〕13号",  # document number
        "关于印发《上海市〈医疗技术临床应用管理办法〉实施细则》的通知",  # title of the cover notice
        "各区卫生健康委，申康医院发展中心、有关大学、中福会、市残联，市临床检验中心，各市级医疗机构，"
        "市医学会、市口腔医学会，市医疗质量控制管理事务中心、各专业质量控制中心，有关单位：",  # addressees
        "上海市卫生健康委员会",  # signature of the cover notice
        "上海市中医药管理局",  # signature of the cover notice
        "2024年8月6日",  # date of the cover notice (encoded as dates.published)
        "（此件公开发布）",  # publication remark
        "上海市《医疗技术临床应用管理办法》实施细则",  # title of the rules
        "编号技术名称",  # table header of attachments 1 and 2
    ],
    JL: [
        "吉林省医疗技术临床应用管理办法实施细则",  # title
    ],
    LVA: [
        "国家卫生健康委办公厅关于禁止将“颈深淋巴管/结—静脉吻合术”应用于阿尔茨海默病治疗的通知",  # title
        "国卫办医政函〔2025〕282号",  # document number
        "各省、自治区、直辖市及新疆生产建设兵团卫生健康委，有关委直属和联系单位：",  # addressees
    ],
    LIST22: [
        "附件：1.国家限制类技术目录（2022年版）",  # list of attachments (the list is catalogs/versions/national-2022.yaml)
    ],
}

# Every source file has its document (a new source without one, or with no entry above where it needs
# one, fails here rather than passing unnoticed).
SOURCE_FILES = (CQ, HN, NHC, SH, JL, LIST22, LVA, JJ)

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


def test_every_source_file_is_encoded(docs):
    """Each text in kb/sources/ is the source of exactly one document, and the lists above name them all."""
    files = sorted(p.name for p in require_seeds().glob("*.txt"))
    assert files == sorted(SOURCE_FILES)
    assert sorted(d.source_file for d in docs.values()) == files


def test_partial_documents_say_what_is_missing(docs):
    """A document encoded from part of its text says so (partial, partial_note) and names its source."""
    partial = {d.id for d in docs.values() if d.partial}
    assert partial == {"nhc-2022-list", "nhc-2025-282", "nhc-2025-jejunoileal"}
    for doc_id in partial:
        assert docs[doc_id].partial_note and docs[doc_id].source, doc_id


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
    bad = [p.eid for p in docs[doc_id].provisions.values()
           if p.text != p.text.strip() or "\n\n" in p.text or any(line != line.strip() for line in p.text.split("\n"))]
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
        sentence = sentence[m.end():]


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
    assert not missing, (f"{len(missing)} sentence(s) of {doc.source_file} ({doc_id}) occur in no provision "
                         "and are not allow-listed:\n" + "\n".join(missing))
    unused = [a for a in ALLOWED.get(doc.source_file, []) if a not in used]
    assert not unused, f"allow-list entries of {doc.source_file} that match nothing: {unused}"


def test_coverage_check_detects_a_dropped_sentence(docs):
    """The coverage check is not vacuous: without art_11__para_2 (and the copies of its text) it fails."""
    seeds = require_seeds()
    import dataclasses

    doc = docs["nhc-2018-1"]
    dropped = doc.get("art_11__para_2").text
    provisions = {e: (dataclasses.replace(p, text=p.text.replace(dropped, "…")) if dropped in p.text else p)
                  for e, p in doc.provisions.items()}
    missing, _ = uncovered_sentences(seeds, dataclasses.replace(doc, provisions=provisions))
    assert missing and all(s in squash(dropped) for s in missing)


# --------------------------------------------------------------------------- the extraction is reproducible


def test_extraction_script_reproduces_the_files(capsys):
    require_seeds()
    spec = importlib.util.spec_from_file_location("extract_documents", ROOT / "scripts" / "extract_documents.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--check"]) == 0, capsys.readouterr().out
