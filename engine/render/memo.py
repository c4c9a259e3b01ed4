"""The 合规意见 memo for leadership, as Markdown and as Word (python-docx).

`memo_blocks(answer)` lays the memo out once as neutral blocks (headings, paragraphs, key-value
tables, checklists, quotes); `render_markdown` and `render_docx` write those blocks, so both formats
say the same thing in the same order as the Chinese text and the web page. The memo leads with the
conclusion and what to do now; each duty gives addressee, deadline, materials and its provisions, with
the verbatim text of the provisions and the consequences the provisions attach.
"""

from __future__ import annotations

import io

from engine.render.text import cite_list, quote_text

NUMERALS = "一二三四五六七八九十"
DETAILED = ("now", "to_confirm", "upcoming")  # sections whose duties get the full treatment
TITLE = "医疗技术临床应用合规意见"


def _subject(answer: dict) -> list[tuple[str, str]]:
    inst = answer["institution"]
    tech = answer["technology"]
    rows = [
        ("医疗机构", inst["name"] or "（未填写）"),
        ("所在地区", answer["jurisdiction"]["name"] or ""),
        ("机构类别", (inst["level_text"] + inst["category_text"]) + ("（中医医疗机构）" if inst["tcm"] else "") or "—"),
    ]
    if tech:
        rows.append(
            (
                "医疗技术",
                (tech["name"] or "（未能识别）")
                + (f"（查询：{tech['query']}）" if tech["query"] and tech["query"] != tech["name"] else ""),
            )
        )
        rows.append(("技术类别", tech["class_text"]))
        for li in tech["listings"]:
            rows.append(
                (
                    "目录",
                    f"{li['catalog_name']} {li['code']} {li['name']}"
                    + (f"（{li['provision']['cite']}）" if li.get("provision") else ""),
                )
            )
    else:
        rows.append(("医疗技术", "未指定（仅机构层面的义务）"))
    rows.append(("查询日期", answer["as_of"] or ""))
    return rows


def _item_blocks(n: str, item: dict, detailed: bool) -> list[tuple]:
    out: list[tuple] = [("h3", f"{n} {item['action_text']}：{item['title']}")]
    kv = []
    if item["addressee_text"]:
        kv.append(("对象", item["addressee_text"]))
    rule, when = item["deadline_text"], item["when_text"]
    kv.append(("期限", rule if rule == when else (rule + "；" if rule else "") + when))
    for alt in item["alternatives"]:
        kv.append(
            (
                "另一期限",
                alt["text"] + (f"，截止 {alt['due']}" if alt["due"] else "") + f"（{cite_list(alt['provisions'])}）",
            )
        )
    for occ in item["occurrences"]:
        kv.append(("各次期限", f"{occ['what']}：截止 {occ['due'] or '—'}（{occ['status_text'] or '待办'}）"))
    kv.append(("依据", cite_list(item["provisions"])))
    if item.get("if_not_done") and item["if_not_done"].get("what_now"):
        kv.append(("如未办理", item["if_not_done"]["what_now"]))
    if item.get("sanction"):
        kv.append(("后果", item["sanction"]))
    out.append(("kv", kv))
    if item["materials"]:
        out.append(("p", "备案（报送）材料："))
        out.append(("checklist", item["materials"]))
    if detailed:
        for p in item["provisions"]:
            q = quote_text(p, mainland=True)
            if q:
                out.append(("quote", f"{p['cite']}：{q}"))
        for c in item["consequences"]:
            out.append(("p", f"未履行的法律责任：{c['text']}" + (f"（{'、'.join(c['cites'])}）" if c["cites"] else "")))
    return out


def memo_blocks(answer: dict) -> list[tuple]:
    """The memo as blocks: ("h1"|"h2"|"h3"|"p"|"strong"|"quote", text), ("kv", [(key, value)]),
    ("list"|"checklist", [text]). The verdict comes first, in bold, under the title."""
    b: list[tuple] = [("h1", TITLE), ("h2", "结论"), ("strong", answer["verdict"]), ("kv", _subject(answer))]
    for k, s in enumerate(answer["sections"]):
        detailed = s["key"] in DETAILED
        b.append(("h2", f"{NUMERALS[k % 10]}、{s['title']}"))
        if detailed or s["key"] == "authority":
            for n, item in enumerate(s["items"], 1):
                b += _item_blocks(f"{n}.", item, detailed)
        else:
            b.append(
                (
                    "list",
                    [
                        f"{i['title']}"
                        + (f"（对象：{i['addressee_short']}）" if i["addressee_short"] else "")
                        + f"：{i['when_text']}；依据 {cite_list(i['provisions'], 4)}"
                        for i in s["items"]
                    ],
                )
            )
    if not answer["sections"]:
        b.append(("p", "根据所给事实，没有需要办理的事项。"))
    if answer["warnings"]:
        b += [("h2", "提示"), ("list", [w["text"] for w in answer["warnings"]])]
    if answer["questions"]:
        b += [
            ("h2", "待补充事实"),
            (
                "list",
                [
                    q["question"]
                    + (f"（{q['why']}）" if q["why"] else "")
                    + "".join(f"；若为“{o['value_text']}”：{o['next_text']}" for o in q.get("outcomes") or [])
                    for q in answer["questions"]
                ],
            ),
        ]
    kb = answer["knowledge_base"]
    b += [
        ("h2", "适用文件"),
        ("list", [f"{d['short']}：{d['title']}（{d['status_text']}）" for d in answer["documents"]] or ["—"]),
        *([("p", answer["currency"])] if answer.get("currency") else []),
        (
            "p",
            f"本意见根据所给事实自动生成，依据知识库版本 {kb.get('version') or '—'}（摘要 {kb.get('digest') or '—'}）；"
            "同一请求与同一摘要给出相同结论。日期按国务院节假日安排计算，请以原文和发证部门的要求为准。",
        ),
    ]
    return b


def _md_escape(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", "<br>")


def render_markdown(answer: dict) -> str:
    """The memo as Markdown (CommonMark with GitHub tables and task lists)."""
    out: list[str] = []
    for kind, body in memo_blocks(answer):
        if kind == "h1":
            out += [f"# {body}", ""]
        elif kind == "h2":
            out += [f"## {body}", ""]
        elif kind == "h3":
            out += [f"### {body}", ""]
        elif kind == "p":
            out += [body, ""]
        elif kind == "strong":
            out += [f"**{body}**", ""]
        elif kind == "quote":
            out += ["> " + line if line else ">" for line in body.splitlines()] + [""]
        elif kind == "kv":
            out += ["| 项目 | 内容 |", "|---|---|"] + [f"| {_md_escape(k)} | {_md_escape(v)} |" for k, v in body] + [""]
        elif kind == "list":
            out += [f"- {x}" for x in body] + [""]
        elif kind == "checklist":
            out += [f"- [ ] {x}" for x in body] + [""]
    return "\n".join(out).rstrip("\n") + "\n"


# (name in the document, the font it names on Windows, its family): Word on a Chinese Windows has them all;
# elsewhere the family and the GB2312 character set let LibreOffice (fontconfig) pick a CJK font
# of the same kind (Noto Serif CJK SC for 宋体/楷体, Noto Sans CJK SC for 黑体).
FONTS = {
    "宋体": ("SimSun", "roman", "02010600030101010101"),
    "黑体": ("SimHei", "modern", "02010609060101010101"),
    "楷体": ("KaiTi", "modern", "02010609060101010101"),
}
LATIN_FONT = "Times New Roman"  # Latin letters and digits; Liberation Serif stands in for it on Linux
LABEL_WIDTH_CM, TEXT_WIDTH_CM = 2.6, 13.2  # the key-value tables: a four-character label and the rest of 15.8 cm


def _font(run, name: str = "宋体", size: float | None = None, bold: bool | None = None) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run.font.name = LATIN_FONT
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), name)
    fonts.set(qn("w:hint"), "eastAsia")
    if size:
        run.font.size = Pt(size)
    if bold is not None:
        run.bold = bold


def _font_table(doc) -> None:
    """Declare the memo's Chinese fonts in word/fontTable.xml with their Windows names (w:altName),
    family, character set (GB2312) and PANOSE, so that a program lacking them substitutes a like font."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    part = doc.part.part_related_by(RT.FONT_TABLE)
    root = parse_xml(part.blob)
    for name, (alt, family, panose) in FONTS.items():
        root.append(
            parse_xml(
                f'<w:font {nsdecls("w")} w:name="{name}"><w:altName w:val="{alt}"/>'
                f'<w:panose1 w:val="{panose}"/><w:charset w:val="86"/><w:family w:val="{family}"/>'
                '<w:pitch w:val="variable"/></w:font>'
            )
        )
    from docx.oxml.xmlchemy import serialize_for_reading

    part._blob = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + serialize_for_reading(root)).encode()


def _kv_table(doc, rows: list[tuple[str, str]]) -> None:
    """A two-column table of label and value with fixed widths (Word otherwise splits the page in half)."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls, qn
    from docx.shared import Cm

    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    table.autofit = False
    tbl_pr = table._tbl.tblPr
    tbl_pr.append(parse_xml(f'<w:tblLayout {nsdecls("w")} w:type="fixed"/>'))
    grid = table._tbl.tblGrid
    for col, width in zip(grid.findall(qn("w:gridCol")), (LABEL_WIDTH_CM, TEXT_WIDTH_CM), strict=True):
        col.set(qn("w:w"), str(int(Cm(width).twips)))
    for k, v in rows:
        cells = table.add_row().cells
        _font(cells[0].paragraphs[0].add_run(k), bold=True)
        _font(cells[1].paragraphs[0].add_run(v))
        cells[0].width, cells[1].width = Cm(LABEL_WIDTH_CM), Cm(TEXT_WIDTH_CM)
    for col, width in zip(table.columns, (LABEL_WIDTH_CM, TEXT_WIDTH_CM), strict=True):
        col.width = Cm(width)


def render_docx(answer: dict) -> bytes:
    """The memo as a Word document (A4, 宋体/黑体/楷体 with fallbacks, see FONTS); the verdict in bold
    under the title, quotes in mainland marks."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    doc = Document()
    _font_table(doc)
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.6)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    normal = doc.styles["Normal"]
    normal.font.size = Pt(12)
    normal.font.name = LATIN_FONT
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
    doc.core_properties.title = TITLE
    doc.core_properties.subject = answer["verdict"]

    for kind, body in memo_blocks(answer):
        if kind == "h1":
            p = doc.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _font(p.add_run(body), "黑体", 18, True)
        elif kind in ("h2", "h3"):
            h = doc.add_heading(level=1 if kind == "h2" else 2)
            _font(h.add_run(body), "黑体", 14 if kind == "h2" else 12, True)
        elif kind == "p":
            _font(doc.add_paragraph().add_run(body))
        elif kind == "strong":
            p = doc.add_paragraph()
            p.paragraph_format.space_after = Pt(12)
            _font(p.add_run(body), "黑体", 14, True)
        elif kind == "quote":
            p = doc.add_paragraph(style="Quote")
            p.paragraph_format.left_indent = Cm(0.8)
            _font(p.add_run(body), "楷体", 10.5)
        elif kind == "kv":
            _kv_table(doc, body)
            doc.add_paragraph()
        elif kind == "list":
            for x in body:
                _font(doc.add_paragraph(style="List Bullet").add_run(x))
        elif kind == "checklist":
            for x in body:
                _font(doc.add_paragraph().add_run(f"☐ {x}"))
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
