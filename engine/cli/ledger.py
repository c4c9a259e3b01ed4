"""`medtech ledger 台账.xlsx --institution 机构.yaml [-o 结果.xlsx]`: a hospital's techniques, one per row, all answered.

medtech ledger --template -o 台账模板.xlsx      the template (header, one example row, lists)
medtech ledger 台账.xlsx --institution 机构.yaml -o 结果.xlsx      台账, 全部事项, 无法读取的行
medtech ledger 台账.csv --institution 机构.yaml --format csv        the sheet written back
medtech ledger 台账.xlsx --institution 机构.yaml --format ics -o 提醒.ics   every future due date
"""

from __future__ import annotations

import sys

from engine.cli.common import UsageError, _date, _positive, _today
from engine.cli.register import _emit

LEDGER_FORMATS = ("xlsx", "csv", "acts-csv", "ics")
MAX_LEDGER = 16 * 1024 * 1024  # bytes of a ledger file (as the service's batch endpoint caps its body)


def read_institution(path: str) -> tuple[dict, str | None]:
    """The institution (and optional as_of) of a YAML or JSON file: `{institution: {...}, as_of: …}` or the
    institution's fields alone. UsageError naming the file and the field when it is not usable."""
    from engine.errors import InvalidRequest
    from engine.inference.request import parse_request
    from engine.render.errors import error_text, file_error_text, input_error_text
    from engine.requestio import load_request_text, read_capped

    try:
        with open(path, "rb") as fh:
            data = load_request_text(read_capped(fh, path))
    except OSError as exc:
        raise UsageError(f"{path}: {file_error_text(exc)}") from None
    except ValueError as exc:
        raise UsageError(f"{path}: {input_error_text(str(exc))}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: 应为医疗机构的字段（jurisdiction、category、level、tcm、name）")
    institution = data.get("institution", data)
    as_of = data.get("as_of") if "institution" in data else None
    try:
        parse_request({"institution": institution, **({"as_of": str(as_of)} if as_of else {})})
    except InvalidRequest as exc:
        raise UsageError(f"{path}: " + "；".join(error_text(e) for e in exc.errors)) from None
    return institution, (str(as_of) if as_of else None)


def cmd_ledger(args) -> int:
    from engine.errors import LedgerError
    from engine.ledger import output
    from engine.ledger.run import answer_ledger
    from engine.ledger.sheet import read_ledger

    fmt = args.format or (
        "csv"
        if (args.output or "").lower().endswith(".csv")
        else "ics"
        if (args.output or "").lower().endswith(".ics")
        else "xlsx"
    )
    if args.template:
        _emit(output.template(), "xlsx", args.output)
        return 0
    if not args.file or not args.institution:
        raise UsageError("give the ledger file and --institution FILE (or --template)")
    institution, file_as_of = read_institution(args.institution)
    as_of = (args.as_of or (_date(file_as_of) if file_as_of else None) or _today()).isoformat()
    try:
        with open(args.file, "rb") as fh:
            data = fh.read(MAX_LEDGER + 1)
    except OSError as exc:
        from engine.render.errors import file_error_text

        raise UsageError(f"{args.file}: {file_error_text(exc)}") from None
    if len(data) > MAX_LEDGER:
        raise UsageError(f"{args.file}: 台账超过 {MAX_LEDGER // (1024 * 1024)} MiB")
    try:
        ledger = read_ledger(data, args.file, institution, as_of)
    except LedgerError as exc:
        raise UsageError(f"{args.file}: {exc}") from None
    answered = answer_ledger(ledger, args.workers)
    body: str | bytes
    if fmt == "csv":
        body = output.result_csv(ledger, answered, as_of)
    elif fmt == "acts-csv":
        body = output.acts_csv(answered)
    elif fmt == "ics":
        body = output.calendar(answered, as_of, institution.get("name") or "")
    else:
        body = output.result_workbook(ledger, answered, as_of)
    _emit(body, fmt if fmt != "ics" else "ics", args.output)
    bad = [a for a in answered if a.answer is None]
    for a in bad:
        print(f"第 {a.row.number} 行：" + "；".join(a.problems), file=sys.stderr)
    print(f"{len(answered) - len(bad)} 行已答复，{len(bad)} 行无法读取", file=sys.stderr)
    return 0


def register(sub, juris: str) -> None:
    """Add `ledger` to the `medtech` parser."""
    s = sub.add_parser(
        "ledger",
        help="a ledger of techniques (台账, xlsx or csv), every row answered; results as xlsx, csv or a calendar",
        description="Columns named in Chinese (技术名称或编号, 手术分级, 首例日期, 备案日期, 是否本机构首次, …; "
        "`medtech ledger --template` writes them); a blank cell means not said. The workbook written has the "
        "sheet with each row's class and verdict, every act sorted by urgency, and the rows that could not be read.",
    )
    s.add_argument("file", nargs="?", metavar="LEDGER", help="the ledger, .xlsx or .csv")
    s.add_argument("--institution", metavar="FILE", help="YAML or JSON: jurisdiction, category, level, tcm, name")
    s.add_argument("--as-of", type=_date, default=None, metavar="DATE", help="the day (default: the file's, or today)")
    s.add_argument("--template", action="store_true", help="write the template to fill in (xlsx)")
    s.add_argument(
        "--format",
        choices=LEDGER_FORMATS,
        default=None,
        help="xlsx (default; three sheets), csv (the sheet written back), acts-csv (every act by urgency), "
        "ics (future due dates); default from the -o extension",
    )
    s.add_argument("--workers", type=_positive, default=None, metavar="N", help="processes for big ledgers")
    s.add_argument("-o", "--output", metavar="FILE", default=None, help="write to FILE (needed for xlsx on a terminal)")
    s.set_defaults(func=cmd_ledger)
