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
    kv.append(("期限", (item["deadline_text"] + "；" if item["deadline_text"] else "") + item["when_text"]))
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
            q = quote_text(p)
            if q:
                out.append(("quote", f"{p['cite']}：{q}"))
        for c in item["consequences"]:
            out.append(("p", f"未履行的法律责任：{c['text']}" + (f"（{'、'.join(c['cites'])}）" if c["cites"] else "")))
    return out


def memo_blocks(answer: dict) -> list[tuple]:
    """The memo as blocks: ("h1"|"h2"|"h3"|"p"|"quote", text), ("kv", [(key, value)]), ("list"|"checklist", [text])."""
    b: list[tuple] = [("h1", TITLE), ("kv", _subject(answer)), ("h2", "结论"), ("p", answer["verdict"])]
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
        elif kind == "quote":
            out += ["> " + line if line else ">" for line in body.splitlines()] + [""]
        elif kind == "kv":
            out += ["| 项目 | 内容 |", "|---|---|"] + [f"| {_md_escape(k)} | {_md_escape(v)} |" for k, v in body] + [""]
        elif kind == "list":
            out += [f"- {x}" for x in body] + [""]
        elif kind == "checklist":
            out += [f"- [ ] {x}" for x in body] + [""]
    return "\n".join(out).rstrip("\n") + "\n"


def _font(run, name: str = "宋体", size: float | None = None, bold: bool | None = None) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run.font.name = name
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)
    if size:
        run.font.size = Pt(size)
    if bold is not None:
        run.bold = bold


def render_docx(answer: dict) -> bytes:
    """The memo as a Word document (A4, 宋体/黑体)."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.6)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    normal = doc.styles["Normal"]
    normal.font.size = Pt(12)
    from docx.oxml.ns import qn

    normal.font.name = "宋体"
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
        elif kind == "quote":
            p = doc.add_paragraph(style="Quote")
            p.paragraph_format.left_indent = Cm(0.8)
            _font(p.add_run(body), "楷体", 10.5)
        elif kind == "kv":
            table = doc.add_table(rows=0, cols=2)
            table.style = "Table Grid"
            for k, v in body:
                cells = table.add_row().cells
                _font(cells[0].paragraphs[0].add_run(k), bold=True)
                _font(cells[1].paragraphs[0].add_run(v))
                cells[0].width, cells[1].width = Cm(3.2), Cm(12.6)
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
