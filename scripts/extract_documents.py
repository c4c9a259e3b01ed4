#!/usr/bin/env python3
"""Extract the five seed documents into kb/documents/<id>.yaml, deterministically.

    python scripts/extract_documents.py            # write kb/documents/*.yaml
    python scripts/extract_documents.py --check    # exit 1 if the files differ from a fresh extraction

Text is verbatim by construction: every provision text is made of source lines, stripped of
leading/trailing whitespace (indentation, the leading space at a page start, trailing spaces)
and joined where the extraction broke a line (lines are concatenated without a separator;
paragraphs, items and list entries are joined with "\\n"). No character inside a line is changed.
The only other things left out are extraction artefacts, each named where it is handled:
`<p>`/`</p>` tags (Shanghai attachments), the `mailto:` link target (Chongqing closing block),
the table header repeated at a page break (Hunan attachment 1).

Structure that the source marks only by layout (paragraph breaks in the notices, which attachment
parts are forms) is configured explicitly below, per document; the metadata (titles, numbers,
dates) is hand-checked and lives in METADATA.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.kb.documents import chinese_numeral  # noqa: E402
from engine.paths import DOCUMENTS_DIR, SOURCES_DIR  # noqa: E402
from engine.yamlio import load_yaml_text  # noqa: E402

TERMINAL = ("。", "；", "：", "！", "？")
CN = "一二三四五六七八九十"
CN_VALUES = {c: i + 1 for i, c in enumerate("一二三四五六七八九")}


def cn_to_int(s: str) -> int:
    """`十一` -> 11, `二十五` -> 25, `五十一` -> 51 (1..99)."""
    if "十" in s:
        tens, _, ones = s.partition("十")
        return (CN_VALUES[tens] if tens else 1) * 10 + (CN_VALUES[ones] if ones else 0)
    return CN_VALUES[s]


# --------------------------------------------------------------------------- source lines


class Src:
    """The non-blank lines of one seed file, stripped; `find` locates lines by their beginning."""

    def __init__(self, fname: str):
        self.fname = fname
        raw = (SOURCES_DIR / fname).read_text(encoding="utf-8")
        self.lines = [line.strip() for line in raw.split("\n") if line.strip()]

    def find(self, prefix: str, start: int = 0, regex: bool = False) -> int:
        for i in range(start, len(self.lines)):
            line = self.lines[i]
            if re.match(prefix, line) if regex else line.startswith(prefix):
                return i
        raise LookupError(f"{self.fname}: no line starting with {prefix!r} after line {start}")


# --------------------------------------------------------------------------- output


class Out:
    """Provisions in document order."""

    def __init__(self):
        self.items: list[dict] = []

    def add(
        self,
        eid: str,
        label: str,
        text: str,
        heading: str | None = None,
        chapter: str | None = None,
        note: str | None = None,
    ) -> None:
        assert text and text.strip(), f"empty text for {eid}"
        p = {"eid": eid, "label": label}
        if heading:
            p["heading"] = heading
        if chapter:
            p["chapter"] = chapter
        if note:
            p["note"] = note
        p["text"] = text
        self.items.append(p)

    def annotate(self, eid: str, note: str) -> None:
        """Add an editorial `note` to an already extracted provision (keeps the key order)."""
        p = next(p for p in self.items if p["eid"] == eid)
        assert "note" not in p, eid
        text = p.pop("text")
        p["note"], p["text"] = note, text


def join_broken(lines: list[str]) -> str:
    """Lines that belong to one sentence or entry, broken by the extraction: concatenate."""
    return "".join(lines)


# --------------------------------------------------------------------------- articles


CHAPTER_RE = re.compile(rf"^第[{CN}]+章")
ARTICLE_RE = re.compile(rf"^第([{CN}百]+)条[ \u3000]*(.*)$")
ITEM_RE = re.compile(rf"^[（(]([{CN}]+)[）)]")


def parse_articles(lines: list[str], out: Out, second_note: str | None = None) -> None:
    """Chapters, articles, paragraphs (款) and items (项).

    A new block starts at a chapter heading, an article, an item, or after a line that ends a
    sentence (。；：！？); any other line continues the previous block (a broken line).
    Items belong to the paragraph before them; other blocks are paragraphs.
    """
    chapter = None
    articles: list[dict] = []  # {num, chapter, paras: [{text, items: [..]}]}
    last: dict | None = None  # the block being extended: {"text": str}
    for line in lines:
        if CHAPTER_RE.match(line):
            chapter, last = line, None
            continue
        m = ARTICLE_RE.match(line)
        if m:
            para = {"text": m.group(2), "items": []}
            articles.append({"num": cn_to_int(m.group(1)), "chapter": chapter, "paras": [para]})
            last = para
            continue
        if not articles:
            raise ValueError(f"text before the first article: {line}")
        art = articles[-1]
        if ITEM_RE.match(line):
            item = {"text": line}
            art["paras"][-1]["items"].append(item)
            last = item
        elif last is not None and not last["text"].endswith(TERMINAL):
            last["text"] += line
        else:
            para = {"text": line, "items": []}
            art["paras"].append(para)
            last = para

    seen: dict[int, int] = {}
    for art in articles:
        n = art["num"]
        seen[n] = seen.get(n, 0) + 1
        eid = f"art_{n}" if seen[n] == 1 else f"art_{n}_{seen[n]}"
        label = f"第{chinese_numeral(n)}条"
        para_texts = ["\n".join([p["text"]] + [it["text"] for it in p["items"]]) for p in art["paras"]]
        note = None
        if seen[n] > 1:
            note = second_note or f"原文第{seen[n]}个编号为{label}的条文"
        out.add(eid, label, "\n".join(para_texts), chapter=art["chapter"], note=note)
        for k, (p, ptext) in enumerate(zip(art["paras"], para_texts, strict=True), 1):
            plabel = f"{label}第{chinese_numeral(k)}款"
            out.add(f"{eid}__para_{k}", plabel, ptext)
            for j, it in enumerate(p["items"], 1):
                out.add(f"{eid}__para_{k}__item_{j}", f"{plabel}第（{chinese_numeral(j)}）项", it["text"])


# --------------------------------------------------------------------------- paragraphs (preamble, conclusions)


def paragraphs(
    lines: list[str], starts: tuple[str, ...] = (), list_entry: str | None = None, by_punctuation: bool = False
) -> list[str]:
    """Group lines into paragraphs.

    A line begins a new paragraph when it starts with one of `starts` (or, with `by_punctuation`,
    when the previous line ends a sentence); a line matching `list_entry` is a new line of the
    current paragraph (joined with "\\n"); any other line continues the previous one.
    """
    paras: list[list[str]] = []
    for line in lines:
        if not paras or line.startswith(starts) or (by_punctuation and paras[-1][-1].endswith(TERMINAL)):
            paras.append([line])
        elif list_entry and re.match(list_entry, line):
            paras[-1].append(line)
        else:
            paras[-1][-1] += line
    return ["\n".join(p) for p in paras]


def add_block(out: Out, eid: str, label: str, paras: list[str]) -> None:
    out.add(eid, label, "\n".join(paras))
    for k, text in enumerate(paras, 1):
        out.add(f"{eid}__para_{k}", f"{label}第{chinese_numeral(k)}段", text)


# --------------------------------------------------------------------------- notices (sections)


SECTION_RE = re.compile(rf"^([{CN}]+)、(.+)$")
SUBSEC_RE = re.compile(rf"^（([{CN}]+)）(.*)$")
ARABIC_POINT_RE = re.compile(r"^(\d+)[.．]")
SHI_POINT_RE = re.compile(rf"(?<=。)([{CN}]+)是")


def parse_sections(
    lines: list[str], out: Out, *, para_starts: tuple[str, ...], titled: set[int], points: dict[tuple[int, int], str]
) -> None:
    """Sections 一、 (heading line), subsections （一）, their paragraphs and numbered points.

    Paragraph breaks inside the body are given explicitly (`para_starts`): in these extractions
    every printed line is followed by a blank line, so only the marker of a subsection, a point
    or the known first words of a paragraph show where a paragraph begins.
    `titled`: the sections whose subsections open with a title sentence (e.g. 规范备案流程。).
    `points`: {(section, subsection): "arabic" (1. 2. …) | "shi" (一是 二是 …)}.
    """
    sections: list[dict] = []
    for line in lines:
        m = SECTION_RE.match(line)
        if m and "。" not in line:
            sections.append({"num": cn_to_int(m.group(1)), "heading": m.group(2), "blocks": []})
            continue
        sec = sections[-1]
        m = SUBSEC_RE.match(line)
        if m:
            sec["blocks"].append({"sub": cn_to_int(m.group(1)), "paras": [{"text": m.group(2), "points": []}]})
            continue
        sub = sec["blocks"][-1] if sec["blocks"] and "sub" in sec["blocks"][-1] else None
        style = points.get((sec["num"], sub["sub"])) if sub else None
        if style == "arabic" and ARABIC_POINT_RE.match(line):
            sub["paras"][-1]["points"].append(line)
        elif line.startswith(para_starts) or not sec["blocks"]:
            para = {"text": line, "points": []}
            if sub:
                sub["paras"].append(para)
            else:
                sec["blocks"].append({"para": para})
        else:  # continuation of the last paragraph or point
            target = sub["paras"][-1] if sub else sec["blocks"][-1]["para"]
            if target["points"]:
                target["points"][-1] += line
            else:
                target["text"] += line

    def para_text(p: dict) -> str:
        return "\n".join([p["text"]] + p["points"])

    for sec in sections:
        n = sec["num"]
        slabel = f"{chinese_numeral(n)}、"
        body = []
        for b in sec["blocks"]:
            if "para" in b:
                body.append(para_text(b["para"]))
            else:
                body.append(f"（{chinese_numeral(b['sub'])}）" + "\n".join(para_text(p) for p in b["paras"]))
        out.add(f"sec_{n}", slabel, "\n".join(body), heading=sec["heading"])
        k = 0
        for b in sec["blocks"]:
            if "para" in b:
                k += 1
                out.add(f"sec_{n}__para_{k}", f"{slabel}第{chinese_numeral(k)}段", para_text(b["para"]))
                continue
            m_ = b["sub"]
            eid = f"sec_{n}__subsec_{m_}"
            label = f"{slabel}（{chinese_numeral(m_)}）"
            text = "\n".join(para_text(p) for p in b["paras"])
            heading = None
            if n in titled:
                heading = text.split("。", 1)[0]
            out.add(eid, label, text, heading=heading)
            if len(b["paras"]) > 1:
                for j, p in enumerate(b["paras"], 1):
                    out.add(f"{eid}__para_{j}", f"{label}第{chinese_numeral(j)}段", para_text(p))
            style = points.get((n, m_))
            if style == "arabic":
                pts = [pt for p in b["paras"] for pt in p["points"]]
                for j, pt in enumerate(pts, 1):
                    num = ARABIC_POINT_RE.match(pt).group(1)
                    assert int(num) == j, (eid, pt)
                    out.add(f"{eid}__point_{j}", f"{label}{j}.", pt)
            elif style == "shi":
                starts = [mm.start() for mm in SHI_POINT_RE.finditer(text)]
                first = text.find("一是")
                starts = [first] + [s for s in starts if s > first]
                for j, s in enumerate(starts, 1):
                    end = starts[j] if j < len(starts) else len(text)
                    pt = text[s:end]
                    assert pt.startswith(f"{chinese_numeral(j)}是"), (eid, pt[:10])
                    out.add(f"{eid}__point_{j}", f"{label}{chinese_numeral(j)}是", pt)


# --------------------------------------------------------------------------- attachments


def entries(lines: list[str], entry_re: str) -> list[str]:
    """List entries: a line matching `entry_re` starts an entry; other lines continue it (broken lines)."""
    out: list[str] = []
    for line in lines:
        if re.match(entry_re, line) or not out:
            if not re.match(entry_re, line):
                raise ValueError(f"not a list entry: {line}")
            out.append(line)
        else:
            out[-1] += line
    return out


def add_items(out: Out, eid: str, label: str, items: list[str]) -> None:
    for k, text in enumerate(items, 1):
        out.add(f"{eid}__item_{k}", f"{label}第{k}项", text)


def notes_from(lines: list[str], prefix: str = "注：") -> tuple[list[str], list[str]]:
    """`注：1. …；` / `2. …` (numbered, broken lines joined) or a single `注：…`.

    Returns (the notes block as printed, one line per note; the note texts without 注： and number).
    """
    assert lines[0].startswith(prefix), lines[0]
    block = (
        entries([lines[0][len(prefix) :]] + lines[1:], r"^\d+[.．]")
        if ARABIC_POINT_RE.match(lines[0][len(prefix) :])
        else [join_broken([lines[0][len(prefix) :]] + lines[1:])]
    )
    texts = [re.sub(r"^\d+[.．]\s*", "", b) for b in block]
    printed = [prefix + block[0]] + block[1:]
    return printed, texts


def add_notes(out: Out, eid: str, label: str, texts: list[str]) -> None:
    for k, text in enumerate(texts, 1):
        out.add(f"{eid}__note_{k}", f"{label}注{k}", text)


def html_paragraphs(line: str) -> list[str]:
    """`<p>备注：</p> <p>…</p>` -> ['备注：', '…'] (the tags are an artefact of the extraction)."""
    return [p.strip() for p in re.findall(r"<p>(.*?)</p>", line)]


def split_attachments(src: Src, start: int, end: int | None = None) -> dict[int, list[str]]:
    """Lines of each attachment (after its `附件N` line), by number."""
    end = len(src.lines) if end is None else end
    marks = [i for i in range(start, end) if re.match(r"^附件\s*\d+$", src.lines[i])]
    out = {}
    for j, i in enumerate(marks):
        n = int(re.sub(r"\D", "", src.lines[i]))
        out[n] = src.lines[i + 1 : (marks[j + 1] if j + 1 < len(marks) else end)]
    return out


FORM_NOTE = "表格附件：text 为表名；空白表格栏目未编码，表中的说明、注等文字见其下各条"

# Editorial notes on places where the source text itself is defective (the text stays verbatim).
EDITORIAL_NOTES = {
    "hn-2018-11": {
        "att_1__item_39": "提取文本中两个“刀”字前的字符缺失（原文“含 刀、 刀”，通常写作γ刀、X刀），按原样保留",
        "att_5__note_2": "提取文本中“按”与“格式”之间的日期格式缺失，按原样保留",
    },
    "jl-2021": {
        "art_45": "原文施行日期的月、日空缺（“2021年 月 日”）",
        "art_45__para_1": "原文施行日期的月、日空缺（“2021年 月 日”）",
    },
}


# --------------------------------------------------------------------------- the five documents


def nhc(src: Src, out: Out) -> None:
    start = src.find("第一章")
    parse_articles(src.lines[start:], out)


def sh(src: Src, out: Out) -> None:
    p0, p1 = src.find("根据《医疗纠纷预防和处理条例》"), src.find("特此通知。")
    add_block(out, "preamble", "前言", paragraphs(src.lines[p0 : p1 + 1], by_punctuation=True))
    a0, c0 = src.find("第一章"), src.find("附件：")
    parse_articles(src.lines[a0:c0], out)
    atts_start = src.find(r"^附件\s*1$", c0, regex=True)
    add_block(
        out, "conclusions", "结尾", paragraphs(src.lines[c0:atts_start], starts=("附件：",), list_entry=r"^\d+[.．]")
    )
    atts = split_attachments(src, atts_start)
    for n, lines in atts.items():
        title, header, rest = lines[0], lines[1], lines[2:]
        assert header.replace("\t", " ").split() == ["编号", "技术名称"], header  # table header: not encoded
        items = [line for line in rest if not line.startswith("<p>")]
        notes_line = [line for line in rest if line.startswith("<p>")]
        assert len(notes_line) == 1 and rest[-1] == notes_line[0]
        items = entries(items, r"^(G|SH)\d+\t")
        ps = html_paragraphs(notes_line[0])
        assert ps[0] == "备注：", ps
        notes = [re.sub(r"^（\d+）", "", p) for p in ps[1:]]
        out.add(f"att_{n}", f"附件{n}", "\n".join(items + ps), heading=title)
        add_items(out, f"att_{n}", f"附件{n}", items)
        add_notes(out, f"att_{n}", f"附件{n}", notes)


def jl(src: Src, out: Out) -> None:
    a0, t0 = src.find("第一章"), src.find(r"^附件\s*1$", regex=True)
    parse_articles(
        src.lines[a0:t0],
        out,
        second_note="原文第六章（附则）中第二个编号为第四十一条的条文；第五章中的第四十一条为 art_41",
    )
    atts = split_attachments(src, t0)
    # attachments 1 and 2: catalogues
    for n, entry_re in ((1, r"^G\d+．"), (2, r"^S\d+\.")):
        title, items = atts[n][0], entries(atts[n][1:], entry_re)
        out.add(f"att_{n}", f"附件{n}", "\n".join(items), heading=title)
        add_items(out, f"att_{n}", f"附件{n}", items)
    # attachment 3: filing form -- the commitment statement and the note
    lines = atts[3]
    title = lines[0]
    i = lines.index("医疗机构承诺")
    statement = lines[i + 1]
    assert statement.startswith("承诺") and statement.endswith("。")
    j = next(k for k, line in enumerate(lines) if line.startswith("注："))
    _, notes = notes_from(lines[j:])
    out.add("att_3", "附件3", title, heading=title, note=FORM_NOTE)
    out.add("att_3__part_1", "附件3第1部分", statement, heading="医疗机构承诺")
    add_notes(out, "att_3", "附件3", notes)


def cq(src: Src, out: Out) -> None:
    p0, s0 = src.find("为认真贯彻落实"), src.find("一、高度重视")
    add_block(out, "preamble", "前言", paragraphs(src.lines[p0:s0]))
    c0 = src.find("联系人：")
    parse_sections(src.lines[s0:c0], out, para_starts=(), titled={2, 3, 4}, points={(3, 2): "shi"})
    t0 = src.find(r"^附件\s*1$", c0, regex=True)
    closing = [line for line in src.lines[c0:t0] if not line.startswith("mailto:")]  # link target: artefact
    conclusions = paragraphs(
        closing,
        starts=(
            "联系人：",
            "联系电话：",
            "电子邮箱：",
            "邮寄地址：",
            "本文件自",
            "附件：",
            "重庆市卫生健康委员会",
            "2019年",
        ),
        list_entry=r"^\d+[.．]",
    )
    add_block(out, "conclusions", "结尾", conclusions)
    listed = attachment_list(conclusions)
    atts = split_attachments(src, t0)

    # 附件1: two catalogues, each under its own title; the attachment's title is in the list of attachments
    lines = atts[1]
    parts: list[tuple[str, list[str]]] = []
    for line in lines:
        if re.match(r"^(\d+\.|CQ\d+)\s", line):
            parts[-1][1].append(line)
        else:
            parts.append((line, []))
    body = []
    for title, items in parts:
        body += [title] + items
    out.add("att_1", "附件1", "\n".join(body), heading=listed[1])
    for m, (title, items) in enumerate(parts, 1):
        out.add(f"att_1__part_{m}", f"附件1第{m}部分", "\n".join(items), heading=title)
        add_items(out, f"att_1__part_{m}", f"附件1第{m}部分", items)

    # 附件2: list of technical standards (entries broken over two lines)
    title, items = atts[2][0], entries(atts[2][1:], rf"^[{CN}]+、")
    out.add("att_2", "附件2", "\n".join(items), heading=title)
    add_items(out, "att_2", "附件2", items)

    # 附件3: filing form -- instructions, list of materials, commitment
    lines = atts[3]
    title = join_broken(lines[:2])
    i0 = lines.index("填写说明及同时提交的材料清单")
    i1 = lines.index("一、医疗机构基本情况")  # start of the form pages
    instr = lines[i0 + 1 : i1]
    parts = []
    for line in instr:
        m = SECTION_RE.match(line)
        if m:
            parts.append((m.group(2), []))
        else:
            parts[-1][1].append(line)
    out.add("att_3", "附件3", title, heading=title, note=FORM_NOTE)
    for m, (heading, plines) in enumerate(parts, 1):
        items = entries(plines, rf"^（[{CN}]+）")
        out.add(f"att_3__part_{m}", f"附件3第{m}部分", "\n".join(items), heading=heading)
        add_items(out, f"att_3__part_{m}", f"附件3第{m}部分", items)
    k0 = lines.index("七、医疗机构承诺")
    k1 = next(k for k in range(k0, len(lines)) if lines[k].startswith("法人（签字）"))
    m = len(parts) + 1
    out.add(f"att_3__part_{m}", f"附件3第{m}部分", join_broken(lines[k0 + 1 : k1]), heading="医疗机构承诺")

    # 附件4: flowchart (only its title is in the text); 附件5: blank receipt form
    out.add("att_4", "附件4", atts[4][0], heading=atts[4][0], note="流程图：原文文本中只有标题")
    out.add(
        "att_5",
        "附件5",
        atts[5][0],
        heading=atts[5][0],
        note="表格附件：回执单为空白表格（含填写示例），表格栏目未编码",
    )

    # 附件6: the format of 备注三 with the list of municipal techniques
    lines = atts[6]
    title, list_title, items = lines[0], lines[1], entries(lines[2:], r"^CQ\d+\s")
    out.add("att_6", "附件6", "\n".join([list_title] + items), heading=title)
    add_items(out, "att_6", "附件6", items)


def attachment_list(conclusions: list[str]) -> dict[int, str]:
    """The titles in the closing list `附件：1. … \\n2. …`, by number."""
    block = next(p for p in conclusions if p.startswith("附件："))
    out = {}
    for line in block.split("\n"):
        m = re.match(r"^(?:附件：)?(\d+)[.．]\s*(.+)$", line)
        out[int(m.group(1))] = m.group(2)
    return out


def hn(src: Src, out: Out) -> None:
    p0, s0 = src.find("2018 年 8 月"), src.find("一、高度重视")
    add_block(out, "preamble", "前言", paragraphs(src.lines[p0:s0]))
    c0 = src.find("联系人：")
    parse_sections(
        src.lines[s0:c0],
        out,
        para_starts=("在国家发布禁止类技术目录之前", "限制类医疗技术实施备案管理。", "医疗机构应当为医务人员参加"),
        titled={2, 3},
        points={(2, 2): "arabic"},
    )
    t0 = src.find(r"^附件\s*1$", c0, regex=True)
    conclusions = paragraphs(
        src.lines[c0:t0],
        starts=("联系人：", "联系电话：", "附件：", "湖南省卫生健康委员会", "2018年"),
        list_entry=r"^\d+[.．]",
    )
    add_block(out, "conclusions", "结尾", conclusions)
    end = src.find("湖南省卫生健康委员会办公室", t0)  # 版记 (printing record) after the attachments: not encoded
    atts = split_attachments(src, t0, end)

    # 附件1: catalogue; the table header is printed again after the page break
    lines = [line for line in atts[1][1:] if line.split() != ["技术编号", "技术名称"]]
    title, items = atts[1][0], entries(lines, r"^[GS]\d+\s")
    out.add("att_1", "附件1", "\n".join(items), heading=title)
    add_items(out, "att_1", "附件1", items)

    # 附件2-5: forms; their notes carry rules
    titles = {2: 1, 3: 1, 4: 2, 5: 1}  # number of title lines
    for n in (2, 3, 4, 5):
        lines = atts[n]
        title = join_broken(lines[: titles[n]])
        j = next(k for k, line in enumerate(lines) if line.startswith("注："))
        _, notes = notes_from(lines[j:])
        out.add(f"att_{n}", f"附件{n}", title, heading=title, note=FORM_NOTE)
        add_notes(out, f"att_{n}", f"附件{n}", notes)


# --------------------------------------------------------------------------- metadata (hand-checked)


METADATA = {
    "nhc-2018-1": {
        "title": "医疗技术临床应用管理办法",
        "issuer": ["国家卫生健康委员会"],
        "number": "国家卫生健康委员会令第1号",
        "jurisdiction": "national",
        "kind": "departmental_rules",
        "source_file": "nhc-2018-1.txt",
        "structure": "articles",
        "dates": {
            "published": {"date": "2018-08-13", "precision": "day"},
            "in_force_from": {"date": "2018-11-01", "precision": "day"},
            "in_force_until": None,
            "note": None,
        },
        "repeals": [],
        "parse": nhc,
    },
    "cq-2019-61": {
        "title": "重庆市卫生健康委员会关于贯彻落实《医疗技术临床应用管理办法》的通知",
        "issuer": ["重庆市卫生健康委员会"],
        "number": "渝卫发〔2019〕61号",
        "jurisdiction": "chongqing",
        "kind": "notice",
        "source_file": "cq-2019-61.txt",
        "structure": "sections",
        "dates": {
            "published": {"date": "2019-12-11", "precision": "day"},
            "in_force_from": {"date": "2020-01-10", "precision": "day"},
            "in_force_until": None,
            "note": "published 为落款日期（成文日期）2019年12月11日；施行日期见正文“本文件自 2020年 1月 10日起施行。”",
        },
        "repeals": [],
        "parse": cq,
    },
    "hn-2018-11": {
        "title": "湖南省卫生健康委员会关于贯彻落实《医疗技术临床应用管理办法》的通知",
        "issuer": ["湖南省卫生健康委员会"],
        "number": "湘卫医发〔2018〕11号",
        "jurisdiction": "hunan",
        "kind": "notice",
        "source_file": "hn-2018-11.txt",
        "structure": "sections",
        "dates": {
            "published": {"date": "2018-11-19", "precision": "day"},
            "in_force_from": {"date": "2018-11-19", "precision": "day"},
            "in_force_until": None,
            "note": "通知未规定施行日期，原文仅有落款日期（及印发日期）2018年11月19日；按该日期起施行处理",
        },
        "repeals": [
            {
                "number": "湘卫医发〔2016〕9号",
                "title": "关于加强医疗技术临床应用管理的通知",
                "cited_in": "sec_6__subsec_4",
            },
        ],
        "parse": hn,
    },
    "sh-2024-13": {
        "title": "上海市《医疗技术临床应用管理办法》实施细则",
        "issuer": ["上海市卫生健康委员会", "上海市中医药管理局"],
        "number": "沪卫规〔2024〕13号",
        "jurisdiction": "shanghai",
        "kind": "implementing_rules",
        "source_file": "sh-2024-13.txt",
        "structure": "articles",
        "dates": {
            "published": {"date": "2024-08-06", "precision": "day"},
            "in_force_from": {"date": "2024-08-15", "precision": "day"},
            "in_force_until": {"date": "2029-08-14", "precision": "day"},
            "note": "published 为印发通知的落款日期2024年8月6日；第四十二条：自2024年8月15日起施行，有效期至2029年8月14日止",
        },
        "repeals": [],
        "parse": sh,
    },
    "jl-2021": {
        "title": "吉林省医疗技术临床应用管理办法实施细则",
        "issuer": ["吉林省卫生健康委员会"],
        "number": None,
        "jurisdiction": "jilin",
        "kind": "implementing_rules",
        "source_file": "jl-2021.txt",
        "structure": "articles",
        "dates": {
            "published": {"date": None, "precision": "unknown"},
            "in_force_from": {"date": "2021", "precision": "year"},
            "in_force_until": None,
            "note": "原文为“本细则自2021年 月 日起施行”，月日空缺；公布日期和文号原文未载明",
        },
        "repeals": [],
        "parse": jl,
    },
}


# --------------------------------------------------------------------------- YAML


class _Dumper(yaml.SafeDumper):
    pass


def _represent_str(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def build(doc_id: str) -> dict:
    meta = dict(METADATA[doc_id])
    parse = meta.pop("parse")
    out = Out()
    parse(Src(meta["source_file"]), out)
    for eid, note in EDITORIAL_NOTES.get(doc_id, {}).items():
        out.annotate(eid, note)
    return {"id": doc_id, **meta, "provisions": out.items}


def render(data: dict) -> str:
    head = (
        f"# {data['title']} ({data['id']}), encoded from kb/sources/{data['source_file']}.\n"
        "# Generated by scripts/extract_documents.py: edit the script, not this file.\n"
    )
    text = head + yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=4096)
    if load_yaml_text(text) != data:
        raise AssertionError(f"{data['id']}: YAML does not round-trip")
    return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with kb/documents instead of writing")
    ap.add_argument("--out", type=Path, default=DOCUMENTS_DIR)
    args = ap.parse_args(argv)
    if not SOURCES_DIR.is_dir():
        print(f"source directory not found: {SOURCES_DIR}", file=sys.stderr)
        return 2
    differ = 0
    args.out.mkdir(parents=True, exist_ok=True)
    for doc_id in METADATA:
        text = render(build(doc_id))
        path = args.out / f"{doc_id}.yaml"
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                print(f"{path}: differs from a fresh extraction")
                differ += 1
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path} ({text.count(chr(10) + '- eid: ')} provisions)")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
