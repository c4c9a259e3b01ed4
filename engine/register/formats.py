"""The register and the changes for people and tools: text, Markdown, CSV, xlsx and JSON.

Flat rows (`register_rows`, `change_rows`) feed CSV (Chinese headers, UTF-8 with a byte-order mark so
that Excel reads it) and xlsx (the register: one sheet per actor, the authorities' duties on their own
sheet; the changes: one sheet).
"""

from __future__ import annotations

import csv
import io
import json

from engine.kb.vocabulary import vocabulary

FORMATS = ("text", "md", "csv", "xlsx", "json")
MEDIA = {
    "text": "text/plain; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
EXTENSIONS = {"text": "txt", "md": "md", "csv": "csv", "xlsx": "xlsx", "json": "json"}

REGISTER_COLUMNS = (
    ("no", "序号"),
    ("stage", "类别"),
    ("origin", "来源"),
    ("trigger", "触发条件"),
    ("action", "事项"),
    ("summary", "内容"),
    ("actor", "义务人"),
    ("addressee", "对象"),
    ("deadline_text", "期限（条款表述）"),
    ("deadline_rule", "期限（计算规则）"),
    ("deadline_kind", "期限种类"),
    ("materials", "材料"),
    ("provisions", "依据条款"),
    ("consequences", "不履行的后果"),
    ("national_provisions", "全国规定的条款"),
    ("local_provisions", "本地规定的条款"),
    ("rules", "规则标识"),
)
CHANGE_COLUMNS = (
    ("no", "序号"),
    ("kind", "变化"),
    ("subject", "事项"),
    ("before", "变化前"),
    ("after", "变化后"),
    ("basis", "依据"),
)
STAGE_ZH = {"obligation": "医疗机构义务", "authority": "行政部门职责"}


def label(citation: dict) -> str:
    """A provision as people cite it: 《办法》第十一条第一款."""
    short = vocabulary().names("document_short_titles").get(citation["document"], citation["document"])
    return short + citation["label"]


def _labels(citations: list[dict]) -> str:
    return "；".join(label(c) for c in citations)


def register_rows(reg: dict) -> list[dict]:
    """One flat row per duty (institution duties first, then the authorities'), values in Chinese."""
    rows = []
    for n, r in enumerate(reg["duties"] + reg["authority_duties"], 1):
        national = {(c["document"], c["eid"]) for c in (r["national"] or {}).get("citations", [])}
        rows.append(
            {
                "no": n,
                "stage": STAGE_ZH[r["stage"]],
                "origin": r["origin_name"],
                "trigger": r["trigger"],
                "action": r["action_name"],
                "summary": r["summary"],
                "actor": r["actor_name"],
                "addressee": r["addressee_name"] or "",
                "deadline_text": r["deadline"]["text"],
                "deadline_rule": r["deadline"]["rule"],
                "deadline_kind": r["deadline"]["kind"],
                "materials": "\n".join(f"{m['text']}（{label(m['citation'])}）" for m in r["materials"]),
                "provisions": _labels(r["citations"]),
                "consequences": "\n".join(f"{c['text']}（{_labels(c['citations'])}）" for c in r["consequences"]),
                "national_provisions": _labels([c for c in r["citations"] if (c["document"], c["eid"]) in national]),
                "local_provisions": _labels([c for c in r["citations"] if (c["document"], c["eid"]) not in national]),
                "rules": "、".join(r["rules"]),
                "_actor": r["actor"],
                "_stage": r["stage"],
            }
        )
    return rows


def _csv(columns, rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([zh for _, zh in columns])
    for r in rows:
        w.writerow([r[c] for c, _ in columns])
    return "\ufeff" + buf.getvalue()


def xlsx(sheets: list[tuple[str, tuple, list[dict]]]) -> bytes:
    """A workbook with one sheet per (title, columns, rows); bold frozen header, wrapped long cells."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    wide = {"trigger": 36, "summary": 48, "materials": 44, "provisions": 36, "consequences": 48, "deadline_text": 30}
    for title, columns, rows in sheets:
        ws = wb.create_sheet(title[:31])
        ws.append([zh for _, zh in columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for r in rows:
            ws.append([r[c] for c, _ in columns])
        for n, (c, _) in enumerate(columns, 1):
            ws.column_dimensions[get_column_letter(n)].width = wide.get(c, 16)
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _heading(reg: dict) -> str:
    docs = "；".join(f"{d['title']}（{d['status_name']}）" for d in reg["documents"])
    f = reg["filters"]
    v = vocabulary()
    parts = []
    if f.get("category"):
        parts.append(v.names("institution_categories")[f["category"]])
    if f.get("level"):
        parts.append(f"{f['level']}级")
    if f.get("tcm") is not None:
        parts.append("中医医疗机构" if f["tcm"] else "非中医医疗机构")
    who = "、".join(parts) or "所有医疗机构"
    return f"{reg['jurisdiction']['name']}医疗技术临床应用义务清单（{reg['as_of']}，{who}）\n适用文件：{docs}"


def register_text(reg: dict, quotes: bool = False) -> str:
    """The register in Chinese plain text, institution duties by actor, then the authorities'."""
    lines = [_heading(reg), ""]
    for title, rows in (
        ("一、医疗机构（及其医师、培训基地）的义务", reg["duties"]),
        ("二、行政部门的职责", reg["authority_duties"]),
    ):
        lines.append(f"{title}（{len(rows)} 项）")
        for n, r in enumerate(rows, 1):
            to = f" → {r['addressee_name']}" if r["addressee_name"] else ""
            lines.append(f"{n}. 【{r['origin_name']}】{r['action_name']}（{r['actor_name']}{to}）")
            lines.append(f"   内容：{r['summary']}")
            lines.append(f"   触发：{r['trigger']}")
            lines.append(f"   期限：{r['deadline']['text']}（{r['deadline']['rule']}）")
            for m in r["materials"]:
                lines.append(f"   材料：{m['text']}（{label(m['citation'])}）")
            lines.append(f"   依据：{_labels(r['citations'])}")
            if quotes:
                for c in r["citations"]:
                    lines.append(f"     {label(c)}：{c.get('quote', '')}")
            for c in r["consequences"]:
                lines.append(f"   后果：{c['text']}（{_labels(c['citations'])}）")
            for p in r["provincial"]:
                if p["relation"] and p["relation"]["kind"] != "twin":
                    lines.append(f"   本地规定：{p['relation']['name']}全国规定（{_labels(p['citations'])}）")
        lines.append("")
    return "\n".join(lines)


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", "<br>")


def register_md(reg: dict) -> str:
    """The register as Markdown tables (one per part)."""
    heading, docs = _heading(reg).split("\n")
    out = [f"# {heading}", "", docs, ""]
    cols = [
        c
        for c in REGISTER_COLUMNS
        if c[0] not in ("stage", "deadline_kind", "rules", "national_provisions", "local_provisions")
    ]
    rows = register_rows(reg)
    for stage, title in STAGE_ZH.items():
        out += [f"## {title}", "", "| " + " | ".join(zh for _, zh in cols) + " |", "|" + "---|" * len(cols)]
        out += ["| " + " | ".join(_md_cell(r[c]) for c, _ in cols) + " |" for r in rows if r["_stage"] == stage]
        out.append("")
    return "\n".join(out)


def register_sheets(reg: dict) -> list[tuple[str, tuple, list[dict]]]:
    """The xlsx sheets of a register: one per actor of the institution's duties, one for the authorities."""
    actors = vocabulary().local_names(reg["jurisdiction"]["id"], "actors")
    rows = register_rows(reg)
    sheets = []
    for actor, name in actors.items():
        mine = [r for r in rows if r["_stage"] == "obligation" and r["_actor"] == actor]
        if mine:
            sheets.append((name, REGISTER_COLUMNS, mine))
    sheets.append((STAGE_ZH["authority"], REGISTER_COLUMNS, [r for r in rows if r["_stage"] == "authority"]))
    return sheets


def render_register(reg: dict, fmt: str, quotes: bool = False) -> str | bytes:
    """The register in one of FORMATS (xlsx as bytes, the others as text)."""
    if fmt == "json":
        return json.dumps(reg, ensure_ascii=False, indent=2) + "\n"
    if fmt == "md":
        return register_md(reg)
    if fmt == "csv":
        return _csv(REGISTER_COLUMNS, register_rows(reg))
    if fmt == "xlsx":
        return xlsx(register_sheets(reg))
    return register_text(reg, quotes)


def _basis_text(basis: list[dict]) -> str:
    out = []
    for b in basis:
        if b["kind"] == "provision":
            out.append(label(b))
        elif b["kind"] == "catalogue":
            out.append(f"{b['name']}（{b['id']}）")
        else:
            out.append(f"《{b['title']}》" + (f"（{b['number']}）" if b.get("number") else ""))
    return "；".join(out)


def change_rows(ch: dict) -> list[dict]:
    """One flat row per change, values in Chinese."""
    rows = []
    for n, c in enumerate(ch["changes"], 1):
        after = c["after"] or ""
        if c.get("note"):
            after = f"{after}（{c['note']}）"
        rows.append(
            {
                "no": n,
                "kind": c["kind_name"],
                "subject": c["subject"],
                "before": c["before"] or "",
                "after": after,
                "basis": _basis_text(c["basis"]),
            }
        )
    return rows


def changes_text(ch: dict) -> str:
    """The changes in Chinese plain text, one paragraph per change."""
    lines = [f"{ch['jurisdiction']['name']}：{ch['from']} 至 {ch['to']} 的变化（{len(ch['changes'])} 项）", ""]
    if not ch["changes"]:
        lines.append("两日之间，适用的文件、义务和限制类技术目录均无变化。")
    for r in change_rows(ch):
        lines.append(f"{r['no']}. 【{r['kind']}】{r['subject']}")
        if r["before"]:
            lines.append(f"   变化前：{r['before']}")
        if r["after"]:
            lines.append(f"   变化后：{r['after']}")
        lines.append(f"   依据：{r['basis']}")
    return "\n".join(lines) + "\n"


def changes_md(ch: dict) -> str:
    """The changes as one Markdown table."""
    out = [f"# {ch['jurisdiction']['name']}：{ch['from']} 至 {ch['to']} 的变化", ""]
    out += ["| " + " | ".join(zh for _, zh in CHANGE_COLUMNS) + " |", "|" + "---|" * len(CHANGE_COLUMNS)]
    out += ["| " + " | ".join(_md_cell(r[c]) for c, _ in CHANGE_COLUMNS) + " |" for r in change_rows(ch)]
    return "\n".join(out) + "\n"


def render_changes(ch: dict, fmt: str) -> str | bytes:
    """The changes in one of FORMATS (xlsx as bytes, the others as text)."""
    if fmt == "json":
        return json.dumps(ch, ensure_ascii=False, indent=2) + "\n"
    if fmt == "md":
        return changes_md(ch)
    if fmt == "csv":
        return _csv(CHANGE_COLUMNS, change_rows(ch))
    if fmt == "xlsx":
        return xlsx([("变化", CHANGE_COLUMNS, change_rows(ch))])
    return changes_text(ch)
