"""One row per obligation: the tracking sheet a medical-affairs office keeps for its techniques.

`obligation_rows(answer)` gives rows (dicts keyed by `COLUMNS`) in the answer's order (what to do now
first); `render_csv` writes them with the column ids as header (for tools), `render_xlsx` with Chinese
headers (for people). Ids (`action`, `addressee`, `status`) sit beside their Chinese labels so a sheet can
be filtered either way. The institution's own duties only: what the authorities do is not tracked here.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
from typing import Any

from engine.textsafe import printable, spreadsheet_text

# (column id, Chinese header)
COLUMNS = (
    ("request", "请求序号"),
    ("institution", "医疗机构"),
    ("jurisdiction", "所在地区"),
    ("technology", "医疗技术"),
    ("class", "技术类别"),
    ("section", "分组"),
    ("action", "事项代码"),
    ("action_text", "事项"),
    ("summary", "内容"),
    ("addressee", "对象代码"),
    ("addressee_text", "报送/提交对象"),
    ("due", "截止日期"),
    ("days_left", "剩余天数"),
    ("status", "状态代码"),
    ("status_text", "状态"),
    ("deadline", "期限规定"),
    ("materials", "材料"),
    ("provisions", "依据"),
    ("errors", "错误"),
)
COLUMN_IDS = tuple(c for c, _ in COLUMNS)
INSTITUTION_SECTIONS = ("now", "to_confirm", "upcoming", "ongoing", "done", "institution_wide")


def obligation_rows(answer: dict, request_no: int | None = None) -> list[dict]:
    """The institution's obligations of one answer as rows (see the module docstring)."""
    inst = answer["institution"]
    tech = answer["technology"] or {}
    titles = {s["key"]: s["title"] for s in answer["sections"]}
    rows = []
    for s in answer["sections"]:
        if s["key"] not in INSTITUTION_SECTIONS:
            continue
        for i in s["items"]:
            rows.append(
                {
                    "request": request_no if request_no is not None else "",
                    "institution": inst["name"] or "",
                    "jurisdiction": answer["jurisdiction"]["name"] or "",
                    "technology": tech.get("name") or tech.get("query") or "",
                    "class": tech.get("class_text") or "",
                    "section": titles[s["key"]],
                    "action": i["action"] or "",
                    "action_text": i["action_text"],
                    "summary": i["title"],
                    "addressee": i["addressee"] or "",
                    "addressee_text": i["addressee_text"],
                    "due": i["due"] or "",
                    "days_left": i["days_left"] if i["days_left"] is not None else "",
                    "status": i["status"],
                    "status_text": i["status_text"],
                    "deadline": i["deadline_text"],
                    "materials": "；".join(i["materials"]),
                    "provisions": "；".join(p["cite"] for p in i["provisions"]),
                    "errors": "",
                }
            )
    return rows


def error_row(request_no: int | None, messages: list[str]) -> dict:
    """The row standing for a request that could not be answered."""
    row: dict[str, object] = {c: "" for c in COLUMN_IDS}
    row["request"] = request_no if request_no is not None else ""
    row["errors"] = "；".join(messages)
    return row


def csv_header() -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(COLUMN_IDS)
    return buf.getvalue()


def csv_rows(rows: list[dict]) -> str:
    """The rows as CSV lines; every text cell neutralised (engine.textsafe: no formula, no control character)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMN_IDS, lineterminator="\r\n")
    w.writerows({k: spreadsheet_text(printable(v, lines=True)) for k, v in r.items()} for r in rows)
    return buf.getvalue()


def render_csv(rows: list[dict]) -> str:
    """RFC 4180 CSV (CRLF line ends), header with the column ids."""
    return csv_header() + csv_rows(rows)


class XlsxWriter:
    """Rows streamed into a one-sheet workbook (openpyxl's write-only mode, flat memory), Chinese headers.

    The sheet's rows go to a file in a temporary directory of the writer's own, removed when the
    workbook is saved, when `close()` is called (a context manager closes it) and, failing both, when
    the writer is garbage-collected: a failing export leaves nothing in $TMPDIR (openpyxl alone keeps
    its temporary file until the process exits)."""

    def __init__(self, title: str = "义务清单"):
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        self.wb = Workbook(write_only=True)
        self.ws: Any = self.wb.create_sheet(title)
        self._cell = lambda value: WriteOnlyCell(self.ws, value=value)
        widths = {
            "summary": 48,
            "materials": 40,
            "provisions": 36,
            "deadline": 30,
            "addressee_text": 28,
            "technology": 20,
            "institution": 20,
            "due": 12,
            "errors": 30,
        }
        for n, c in enumerate(COLUMN_IDS, 1):
            self.ws.column_dimensions[get_column_letter(n)].width = widths.get(c, 14)
        self.ws.freeze_panes = "A2"
        self._tmp = tempfile.TemporaryDirectory(prefix="medtech-xlsx-")
        self._sheet_file = _own_sheet_writer(self.ws, os.path.join(self._tmp.name, "sheet.xml"))
        header = []
        for _, zh in COLUMNS:
            cell = WriteOnlyCell(self.ws, value=zh)
            cell.font = Font(bold=True)
            header.append(cell)
        self.ws.append(header)

    def add(self, rows: list[dict]) -> None:
        for r in rows:
            cells = []
            for c in COLUMN_IDS:
                v = _cell(r[c]) if c == "due" else r[c]
                if isinstance(v, dt.date):
                    cell = self._cell(value=v)
                    cell.number_format = "yyyy-mm-dd"
                    v = cell
                elif isinstance(v, str) and v:
                    cell = self._cell(value=printable(v, lines=True))
                    cell.data_type = "s"  # text, never a formula, whatever it begins with
                    v = cell
                cells.append(v)
            self.ws.append(cells)

    def save(self, target) -> None:
        try:
            self.wb.save(target)
        finally:
            self.close()

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        self.save(buf)
        return buf.getvalue()

    def close(self) -> None:
        """Remove the temporary directory (idempotent)."""
        from openpyxl.worksheet import _writer

        if self._sheet_file in _writer.ALL_TEMP_FILES:
            _writer.ALL_TEMP_FILES.remove(self._sheet_file)
        self._tmp.cleanup()

    def __enter__(self) -> XlsxWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _own_sheet_writer(ws, path: str) -> str:
    """Give a write-only worksheet a writer whose file is `path` (openpyxl would put it in $TMPDIR
    and keep it there until the process exits when saving fails). Registered as openpyxl registers
    its own, since saving removes it through openpyxl's `cleanup`."""
    from openpyxl.worksheet import _writer

    open(path, "wb").close()
    _writer.ALL_TEMP_FILES.append(path)
    ws._writer = _writer.WorksheetWriter(ws, out=path)
    ws._writer.write_top()
    return path


def _cell(value):
    """Due dates become real dates (sortable and filterable in Excel), shown as YYYY-MM-DD."""
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            return value
        return day
    return value


def render_xlsx(rows: list[dict]) -> bytes:
    w = XlsxWriter()
    w.add(rows)
    return w.to_bytes()
