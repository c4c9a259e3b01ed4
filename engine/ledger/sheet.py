"""Read a ledger: a sheet with a header row of Chinese column names (kb/register.yaml `ledger.columns`) and one
technique per row, into one decision request per row. A blank cell means "not said" (the request leaves the
field out). A row that cannot be read gets its problems in Chinese instead of a request."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from typing import Any

from engine.errors import LedgerError
from engine.register.words import words

_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")
_GRADE = re.compile(r"^\s*([1-4])\s*(级|級)?\s*(手术)?\s*$")
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass
class Row:
    """One data row: its number in the sheet (the header is row 1), its cells by header, and either the
    request built from them or the problems that kept it from being read."""

    number: int
    cells: dict[str, Any]
    request: dict | None = None
    problems: list[str] = field(default_factory=list)


@dataclass
class Ledger:
    """A ledger as read: the headers in sheet order (the known ones and any others, kept as they are) and its rows."""

    headers: list[str]
    rows: list[Row]


def columns() -> list[dict]:
    """The ledger's columns (kb/register.yaml)."""
    return list(words()["ledger"]["columns"])


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _date(value) -> tuple[str | None, str | None]:
    if isinstance(value, dt.datetime):
        return value.date().isoformat(), None
    if isinstance(value, dt.date):
        return value.isoformat(), None
    text = _text(value)
    m = _DATE.match(text)
    if not m:
        return None, f"“{text}”不是日期（应写作 2025-03-03、2025/3/3 或 2025年3月3日）"
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat(), None
    except ValueError:
        return None, f"“{text}”不是存在的日期"


def _grade(value) -> tuple[int | None, str | None]:
    text = _text(value)
    named = words()["ledger"]["grades"]
    for name, n in named.items():
        if text.startswith(name):
            return int(n), None
    m = _GRADE.match(text)
    if m:
        return int(m.group(1)), None
    return None, f"“{text}”不是手术分级（应为 1、2、3、4 或 一级至四级）"


def _yesno(value) -> tuple[bool | None, str | None]:
    if isinstance(value, bool):
        return value, None
    text = _text(value)
    ledger = words()["ledger"]
    if text in ledger["yes"]:
        return True, None
    if text in ledger["no"]:
        return False, None
    return None, f"“{text}”应为“是”或“否”"


def _technology(value) -> dict:
    """A catalogue code (no Chinese, a digit: S19, hunan:S19, G05) or a name (冠心病介入治疗, PCI, ECMO)."""
    text = _text(value)
    if not _CJK.search(text) and any(ch.isdigit() for ch in text) and len(text) <= 40:
        return {"code": text}
    return {"name": text}


def _set(request: dict, path: str, value) -> None:
    node = request
    *parents, last = path.split(".")
    for p in parents:
        node = node.setdefault(p, {})
    node[last] = value


def row_request(cells: dict[str, Any], institution: dict, as_of: str) -> tuple[dict | None, list[str]]:
    """The decision request of one row's cells (by header), or None and the problems, in Chinese."""
    request: dict = {"as_of": as_of, "institution": dict(institution)}
    events: list[dict] = []
    problems: list[str] = []
    readers = {"date": _date, "grade": _grade, "yesno": _yesno}
    for col in columns():
        header = col["header"]
        raw = cells.get(header)
        if _text(raw) == "" and not isinstance(raw, dt.date):
            if col.get("required"):
                problems.append(f"“{header}”未填写")
            continue
        kind = col["kind"]
        if kind == "note":
            continue
        if kind == "technology":
            request["technology"] = {**request.get("technology", {}), **_technology(raw)}
            continue
        value, problem = readers[kind](raw)
        if problem:
            problems.append(f"“{header}”：{problem}")
            continue
        if col.get("event"):
            events.append({"type": col["event"], "date": value})
        else:
            _set(request, col["field"], value)
    if events:
        request["events"] = events
    if problems:
        return None, problems
    return request, []


def _rows_xlsx(data: bytes) -> list[list]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException: not a workbook
        raise LedgerError(f"不是可以读取的 xlsx 工作簿（{type(exc).__name__}）") from None
    ledger_sheet = words()["ledger"]["sheets"]["ledger"]
    ws = wb[ledger_sheet] if ledger_sheet in wb.sheetnames else wb.worksheets[0]
    return [list(r) for r in ws.iter_rows(values_only=True)]


def _rows_csv(data: bytes) -> list[list]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise LedgerError("不是 UTF-8 或 GB18030 编码的文本")
    return [list(r) for r in csv.reader(io.StringIO(text))]


def read_ledger(data: bytes, name: str, institution: dict, as_of: str) -> Ledger:
    """A ledger from the bytes of an xlsx or csv file (`name` says which by its extension).

    LedgerError when the file is not a workbook or CSV, or lacks the technology column."""
    rows = _rows_xlsx(data) if name.lower().endswith((".xlsx", ".xlsm")) else _rows_csv(data)
    while rows and all(_text(c) == "" for c in rows[0]):
        rows.pop(0)
    if not rows:
        raise LedgerError("台账是空的（没有表头行）")
    headers = [_text(c) for c in rows[0]]
    required = [c["header"] for c in columns() if c.get("required")]
    missing = [h for h in required if h not in headers]
    if missing:
        raise LedgerError("表头行缺少" + "、".join(f"“{h}”" for h in missing) + "列")
    out = []
    for n, values in enumerate(rows[1:], start=2):
        if all(_text(v) == "" for v in values):
            continue
        cells = {h: (values[i] if i < len(values) else None) for i, h in enumerate(headers) if h}
        request, problems = row_request(cells, institution, as_of)
        out.append(Row(n, cells, request, problems))
    return Ledger(headers, out)
