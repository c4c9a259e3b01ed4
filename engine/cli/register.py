"""`medtech register JURISDICTION` (every duty on a day) and `medtech changes JURISDICTION --from --to`."""

from __future__ import annotations

import argparse
import sys

from engine.cli.common import UsageError, _date, _jurisdiction, _out, _today


def _level(value: str) -> int:
    if value not in ("1", "2", "3"):
        raise argparse.ArgumentTypeError(f"{value!r} is not one of: 1, 2, 3")
    return int(value)


def _emit(body: str | bytes, fmt: str, output: str | None) -> None:
    data = body.encode("utf-8") if isinstance(body, str) else body
    if output and output != "-":
        try:
            with open(output, "wb") as fh:
                fh.write(data)
        except OSError as exc:
            raise UsageError(f"{output}: 无法写入（{exc.strerror or exc}）") from None
    elif isinstance(body, bytes):
        if sys.stdout.isatty():
            raise UsageError(f"--format {fmt} 是二进制文件，请用 -o 文件名 保存")
        sys.stdout.buffer.write(body)
        sys.stdout.buffer.flush()
    else:
        _out(body.rstrip("\n"))


def cmd_register(args) -> int:
    from engine.register.formats import render_register
    from engine.register.model import build_register, filtered

    reg = build_register(
        args.jurisdiction,
        args.as_of or _today(),
        category=args.category,
        level=args.level,
        tcm=args.tcm,
        quotes=args.quotes,
    )
    reg = filtered(reg, actor=args.actor, action=args.action, origin=args.origin)
    _emit(render_register(reg, args.format, quotes=args.quotes), args.format, args.output)
    return 0


def cmd_changes(args) -> int:
    from engine.register.changes import build_changes
    from engine.register.formats import render_changes

    if args.date_from > args.date_to:
        raise UsageError(f"--from {args.date_from} is after --to {args.date_to}")
    ch = build_changes(
        args.jurisdiction, args.date_from, args.date_to, category=args.category, level=args.level, tcm=args.tcm
    )
    _emit(render_changes(ch, args.format), args.format, args.output)
    return 0


def _institution_options(s, categories: list[str]) -> None:
    s.add_argument(
        "--category", choices=categories, default=None, help="only duties that can bind this kind of institution"
    )
    s.add_argument("--level", type=_level, default=None, metavar="1|2|3", help="医院等级 (一级, 二级, 三级)")
    s.add_argument(
        "--tcm",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="--tcm: a TCM institution (中医医疗机构); --no-tcm: not one; neither: both",
    )


def register(sub, juris: str) -> None:
    """Add `register` and `changes` to the `medtech` parser."""
    from engine.cli.common import _vocabulary
    from engine.register.formats import FORMATS
    from engine.register.words import words

    def origin_names() -> dict:
        return words()["origins"]

    categories = _vocabulary().ids("institution_categories")
    s = sub.add_parser(
        "register",
        help="every duty a jurisdiction's rules can create on a day, one row per duty (义务清单)",
        description="One row per duty: trigger, act, actor, addressee, deadline (words and rule), materials, "
        "provisions, consequences and origin (national, or what the province adds, tightens or replaces). "
        "The authorities' duties are listed apart.",
    )
    s.add_argument("jurisdiction", type=_jurisdiction, metavar="JURISDICTION", help=juris)
    s.add_argument("--as-of", type=_date, default=None, metavar="DATE", help="the day (default today in China)")
    _institution_options(s, categories)
    s.add_argument("--actor", choices=_vocabulary().ids("actors"), default=None, help="only this actor's duties")
    s.add_argument("--action", choices=_vocabulary().ids("actions"), default=None, help="only this action")
    s.add_argument(
        "--origin",
        choices=list(origin_names()),
        default=None,
        help="only duties of this origin: national, adds (local), narrows (stricter), replaces",
    )
    s.add_argument("--format", choices=FORMATS, default="text", help="text (Chinese, default), md, csv, xlsx, json")
    s.add_argument("--quotes", action="store_true", help="quote every provision verbatim (text and json)")
    s.add_argument("-o", "--output", metavar="FILE", default=None, help="write to FILE (needed for xlsx on a terminal)")
    s.set_defaults(func=cmd_register)

    s = sub.add_parser(
        "changes",
        help="what changed between two days: duties, catalogue entries, documents (变化)",
        description="The registers and catalogues in force on the two days compared; each change cites the "
        "provision, catalogue or document that caused it.",
    )
    s.add_argument("jurisdiction", type=_jurisdiction, metavar="JURISDICTION", help=juris)
    s.add_argument("--from", dest="date_from", type=_date, required=True, metavar="DATE", help="the earlier day")
    s.add_argument("--to", dest="date_to", type=_date, required=True, metavar="DATE", help="the later day")
    _institution_options(s, categories)
    s.add_argument("--format", choices=FORMATS, default="text", help="text (Chinese, default), md, csv, xlsx, json")
    s.add_argument("-o", "--output", metavar="FILE", default=None, help="write to FILE (needed for xlsx on a terminal)")
    s.set_defaults(func=cmd_changes)
