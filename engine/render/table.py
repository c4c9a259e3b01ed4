"""One row per obligation: the tracking sheet a medical-affairs office keeps for its techniques.

`obligation_rows(answer)` gives rows (dicts keyed by the column ids of `COLUMNS`) in the answer's order
(what to do now first). `render_csv` and `XlsxWriter` write the same columns under the same Chinese
headers, with Chinese values (labels from kb/vocabulary.yaml, through the answer model); the vocabulary
ids (`action`, `addressee`, `status`) follow in trailing columns, so a sheet can still be filtered by
code. The CSV is UTF-8 with a byte-order mark, which Excel on a Chinese Windows needs to read it as
UTF-8. The institution's own duties only: what the authorities do is not tracked here.

Every value passes through `cell_value` on its way into a file, the one place where a cell can be
escaped (formulas, control characters) for both formats.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
import unicodedata
from typing import Any

from engine.textsafe import printable, spreadsheet_text

# (column id, Chinese header): people's columns first, then the vocabulary ids for tools
COLUMNS = (
    ("request", "请求序号"),
    ("institution", "医疗机构"),
    ("jurisdiction", "所在地区"),
    ("technology", "医疗技术"),
    ("class", "技术类别"),
    ("verdict", "结论"),
    ("section", "分组"),
    ("action_text", "事项"),
    ("summary", "内容"),
    ("addressee_text", "报送/提交对象"),
    ("due", "截止日期"),
    ("days_left", "剩余天数"),
    ("status_text", "状态"),
    ("deadline", "期限规定"),
    ("materials", "材料"),
    ("provisions", "依据"),
    ("errors", "错误"),
    ("action", "事项代码"),
    ("addressee", "对象代码"),
    ("status", "状态代码"),
)
COLUMN_IDS = tuple(c for c, _ in COLUMNS)
HEADERS = tuple(zh for _, zh in COLUMNS)
CODE_COLUMNS = ("action", "addressee", "status")
INSTITUTION_SECTIONS = ("now", "to_confirm", "upcoming", "ongoing", "done", "institution_wide")
BOM = "\ufeff"


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
                    "verdict": answer.get("verdict") or "",  # the same one line on every surface
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


def cell_value(value: Any) -> Any:
    """A cell's value as written to a file (CSV and xlsx alike); the hook for escaping a cell."""
    return value


def row_values(row: dict) -> list:
    """A row's values in column order, each through `cell_value`."""
    return [cell_value(row.get(c, "")) for c in COLUMN_IDS]


def csv_header() -> str:
    """The byte-order mark and the Chinese header line (CRLF)."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(HEADERS)
    return BOM + buf.getvalue()


def csv_rows(rows: list[dict]) -> str:
    """The rows as CSV lines; every text cell neutralised (engine.textsafe: no formula, no control character)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerows([spreadsheet_text(printable(v, lines=True)) for v in row_values(r)] for r in rows)
    return buf.getvalue()


def render_csv(rows: list[dict]) -> str:
    """RFC 4180 CSV (CRLF line ends) with a byte-order mark and Chinese headers: encode it as UTF-8."""
    return csv_header() + csv_rows(rows)


def display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet: two for a wide (Chinese) character, one for the others."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


WIDTH_MIN, WIDTH_MAX = 8, 60  # a column's width in characters; longer text wraps
WRAPPED = ("summary", "deadline", "materials", "provisions", "errors", "addressee_text", "technology", "institution")


class XlsxWriter:
    """Rows streamed into a one-sheet workbook (openpyxl's write-only mode), Chinese headers and values,
    a frozen header row with an autofilter, long text wrapped. Column widths come from the content:
    the first `sample` rows are held back to measure them (write-only mode needs the widths before the
    first row), then rows are written as they come, so memory stays flat however long the batch.

    Text cells are written as text, never as formulas, with control characters removed. The sheet's rows
    go to a file in a temporary directory of the writer's own, removed when the workbook is saved, when
    `close()` is called (a context manager closes it) and, failing both, when the writer is
    garbage-collected: a failing export leaves nothing in $TMPDIR (openpyxl alone keeps its temporary
    file until the process exits)."""

    def __init__(self, title: str = "义务清单", sample: int = 500):
        from openpyxl import Workbook

        self.wb = Workbook(write_only=True)
        self.ws: Any = self.wb.create_sheet(title)
        self._sample = sample
        self._pending: list[dict] | None = []
        self._count = 0
        self._tmp = tempfile.TemporaryDirectory(prefix="medtech-xlsx-")
        self._sheet_file: str | None = None

    def _start(self) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Alignment, Font
        from openpyxl.utils import get_column_letter

        pending = self._pending or []
        for n, (c, zh) in enumerate(COLUMNS, 1):
            longest = max([display_width(zh)] + [display_width(_text(r.get(c))) for r in pending])
            self.ws.column_dimensions[get_column_letter(n)].width = min(WIDTH_MAX, max(WIDTH_MIN, longest + 2))
        self.ws.freeze_panes = "A2"
        # the widths and panes are written first, so the sheet's own writer starts only now
        self._sheet_file = _own_sheet_writer(self.ws, os.path.join(self._tmp.name, "sheet.xml"))
        header = []
        for zh in HEADERS:
            cell = WriteOnlyCell(self.ws, value=zh)
            cell.font = Font(bold=True)
            cell.alignment = Alignment(vertical="top")
            header.append(cell)
        self.ws.append(header)
        self._wrap = Alignment(wrap_text=True, vertical="top")
        self._top = Alignment(vertical="top")
        self._new = lambda value: WriteOnlyCell(self.ws, value=value)
        self._pending = None
        self._write(pending)

    def _write(self, rows: list[dict]) -> None:
        for r in rows:
            cells = []
            for c, v in zip(COLUMN_IDS, row_values(r), strict=True):
                value = _cell(v) if c == "due" else v
                if isinstance(value, str) and value:
                    cell = self._new(printable(value, lines=True))
                    cell.data_type = "s"  # text, never a formula, whatever it begins with
                else:
                    cell = self._new(value)
                if isinstance(cell.value, dt.date):
                    cell.number_format = "yyyy-mm-dd"
                cell.alignment = self._wrap if c in WRAPPED else self._top
                cells.append(cell)
            self.ws.append(cells)
            self._count += 1

    def add(self, rows: list[dict]) -> None:
        if self._pending is not None:
            self._pending.extend(rows)
            if len(self._pending) >= self._sample:
                self._start()
        else:
            self._write(rows)

    def _finish(self) -> None:
        from openpyxl.utils import get_column_letter

        if self._pending is not None:
            self._start()
        self.ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{self._count + 1}"

    def save(self, target) -> None:
        try:
            self._finish()
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


def _text(value: Any) -> str:
    """The longest line of a value as shown (a date as YYYY-MM-DD)."""
    text = "" if value is None else str(value)
    return max(text.splitlines() or [""], key=display_width)


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
    with XlsxWriter() as w:
        w.add(rows)
        return w.to_bytes()
