"""The ledger's results: the workbook (the sheet written back with each row's class and verdict, every act sorted
by urgency, the rows that could not be read), CSV (the sheet written back), the calendar of future due dates
(ics) and the template to fill in (header, one example row, lists for grades and yes/no)."""

from __future__ import annotations

import csv
import datetime as dt
import io

from engine.ledger.run import Answered, acts, next_due, verdict_of
from engine.ledger.sheet import Ledger, columns
from engine.register.words import words

ACT_COLUMNS = (
    ("request", "行号"),
    ("technology", "技术"),
    ("class", "技术类别"),
    ("status_text", "状态"),
    ("due", "截止日期"),
    ("days_left", "剩余天数"),
    ("action_text", "事项"),
    ("summary", "内容"),
    ("addressee_text", "报送/提交对象"),
    ("deadline", "期限规定"),
    ("materials", "材料"),
    ("provisions", "依据"),
    ("section", "分组"),
)
UNREADABLE_COLUMNS = (("row", "行号"), ("problem", "问题"))


def _ledger_words() -> dict:
    return words()["ledger"]


def _headers(ledger: Ledger) -> list[str]:
    extra = list(_ledger_words()["result_columns"].values())
    return [h for h in ledger.headers if h not in extra] + extra


def ledger_rows(ledger: Ledger, answered: list[Answered], as_of: str) -> list[list]:
    """The sheet written back: every row's cells as given, then its class, verdict, next due date and warnings."""
    headers = [h for h in ledger.headers if h not in _ledger_words()["result_columns"].values()]
    out = []
    for a in answered:
        cells = [a.row.cells.get(h) for h in headers]
        if a.answer is None or a.response is None:
            out.append([*cells, "", "无法读取：" + "；".join(a.problems), "", ""])
            continue
        tech = a.answer["technology"] or {}
        warnings = "；".join(w["text"] for w in a.answer.get("warnings", []) if w.get("text"))
        out.append(
            [
                *cells,
                tech.get("class_text") or "",
                verdict_of(a.response, a.answer),
                next_due(a.answer, as_of),
                warnings,
            ]
        )
    return out


def unreadable(answered: list[Answered]) -> list[dict]:
    """One line per problem of a row that could not be read or answered: its row number and the problem in Chinese."""
    return [{"row": a.row.number, "problem": p} for a in answered if a.answer is None for p in a.problems]


def _due_cell(value):
    if isinstance(value, str) and len(value) == 10 and value[4] == "-":
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def result_workbook(ledger: Ledger, answered: list[Answered], as_of: str) -> bytes:
    """The results as an xlsx workbook: 台账 (written back), 全部事项 (every act by urgency), 无法读取的行.
    Written in openpyxl's write-only mode (flat memory, fast for big ledgers): bold frozen headers, real dates."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    names = _ledger_words()["sheets"]
    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    headers = _headers(ledger)
    sheets = [
        (names["ledger"], headers, ledger_rows(ledger, answered, as_of)),
        (names["acts"], [zh for _, zh in ACT_COLUMNS], [[r[c] for c, _ in ACT_COLUMNS] for r in acts(answered)]),
        (
            names["unreadable"],
            [zh for _, zh in UNREADABLE_COLUMNS],
            [[r[c] for c, _ in UNREADABLE_COLUMNS] for r in unreadable(answered)],
        ),
    ]
    for title, header, rows in sheets:
        ws = wb.create_sheet(title)
        for n in range(1, len(header) + 1):
            ws.column_dimensions[get_column_letter(n)].width = 16
        ws.freeze_panes = "A2"
        cells = []
        for h in header:
            cell = WriteOnlyCell(ws, value=h)
            cell.font = bold
            cells.append(cell)
        ws.append(cells)
        for row in rows:
            out = []
            for v in row:
                v = _due_cell(v) if isinstance(v, str) else v
                if isinstance(v, dt.date):
                    cell = WriteOnlyCell(ws, value=v)
                    cell.number_format = "yyyy-mm-dd"
                    v = cell
                out.append(v)
            ws.append(out)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def result_csv(ledger: Ledger, answered: list[Answered], as_of: str) -> str:
    """The sheet written back as CSV (UTF-8 with a byte-order mark, for Excel)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(_headers(ledger))
    for row in ledger_rows(ledger, answered, as_of):
        w.writerow(["" if v is None else (v.isoformat()[:10] if isinstance(v, dt.date) else v) for v in row])
    return "\ufeff" + buf.getvalue()


def acts_csv(answered: list[Answered]) -> str:
    """Every act by urgency as CSV."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([zh for _, zh in ACT_COLUMNS])
    for r in acts(answered):
        w.writerow([r[c] for c, _ in ACT_COLUMNS])
    return "\ufeff" + buf.getvalue()


def calendar(answered: list[Answered], as_of: str, institution_name: str = "") -> bytes:
    """Every future due date (on or after `as_of`) of every answered row as one iCalendar file: the reminders of
    each row (engine.render.calendar), an event kept once when several rows give the same one."""
    from icalendar import Calendar

    from engine.render.calendar import render_ics

    cal = Calendar()
    cal.add("prodid", "-//medtech-rules//台账提醒//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "限制类技术台账提醒" + (f"：{institution_name}" if institution_name else ""))
    cal.add("x-wr-timezone", "Asia/Shanghai")
    seen: set[str] = set()
    day = dt.date.fromisoformat(as_of)
    for a in answered:
        if a.answer is None:
            continue
        for ev in Calendar.from_ical(render_ics(a.answer)).walk("VEVENT"):
            start = ev.decoded("dtstart")
            uid = str(ev.get("uid"))
            if uid in seen or (isinstance(start, dt.date) and start < day):
                continue
            seen.add(uid)
            cal.add_component(ev)
    return cal.to_ical()


def template() -> bytes:
    """The ledger template: the header, one example row, lists for grades and yes/no, and a sheet explaining
    each column."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    lw = _ledger_words()
    cols = columns()
    wb = Workbook()
    ws = wb.active
    ws.title = lw["sheets"]["ledger"]
    ws.append([c["header"] for c in cols])
    example = []
    for c in cols:
        v = c.get("example")
        example.append(dt.date.fromisoformat(v) if c["kind"] == "date" and v else v)
    ws.append(example)
    lists = {"grade": '"1,2,3,4"', "yesno": f'"{lw["yes"][0]},{lw["no"][0]}"'}
    for n, c in enumerate(cols, 1):
        letter = get_column_letter(n)
        ws.column_dimensions[letter].width = max(12, 2 * len(c["header"]) + 2)
        ws[f"{letter}1"].font = Font(bold=True)
        if c["kind"] in lists:
            dv = DataValidation(type="list", formula1=lists[c["kind"]], allow_blank=True)
            dv.error = "请从列表中选择（不知道的留空）"
            dv.add(f"{letter}2:{letter}1000")
            ws.add_data_validation(dv)
        elif c["kind"] == "date":
            dv = DataValidation(type="date", operator="greaterThan", formula1="1")
            dv.error = "请填写日期，如 2025-03-03（不知道的留空）"
            dv.add(f"{letter}2:{letter}1000")
            ws.add_data_validation(dv)
            ws[f"{letter}2"].number_format = "yyyy-mm-dd"
    ws.freeze_panes = "A2"
    help_sheet = wb.create_sheet(lw["sheets"]["help"])
    help_sheet.append(["列", "含义", "填写"])
    kinds = {
        "technology": "目录中的技术名称、常用名称或缩写，或目录编号（如 S19）",
        "grade": "1、2、3 或 4（也可写“三级”）",
        "date": "日期，如 2025-03-03",
        "yesno": "是 或 否",
        "note": "自由填写，不参与判断",
    }
    from engine.kb.vocabulary import vocabulary

    v = vocabulary()
    for c in cols:
        if c.get("event"):
            meaning = "事件日期：" + v.names("event_types")[c["event"]]
        elif c.get("field") and c["field"] != "technology":
            meaning = v.names("request_fields").get(c["field"], c["header"])
        else:
            meaning = c["header"]
        help_sheet.append(
            [c["header"], meaning, kinds[c["kind"]] + ("（必填）" if c.get("required") else "；空白表示未说明")]
        )
    help_sheet.column_dimensions["A"].width = 20
    help_sheet.column_dimensions["B"].width = 60
    help_sheet.column_dimensions["C"].width = 50
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
