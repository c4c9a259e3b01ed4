"""`medtech catalog` and `medtech tech search`."""
from __future__ import annotations

from engine.cli.common import (
    UsageError,
    _date,
    _grade,
    _jurisdiction_or_all,
    _module,
    _out,
    _today,
)

CROSSWALK_FORMATS = ("markdown", "csv")


def cmd_catalog(args) -> int:
    catalog = _module("catalog", "the catalogue listing")
    if args.crosswalk:
        _out(catalog.crosswalk_csv() if args.format == "csv" else catalog.crosswalk_markdown())
        return 0
    if args.format == "csv":
        raise UsageError("--format csv applies to --crosswalk only")
    _out(catalog.format_catalog(args.jurisdiction or "national", args.as_of or _today()))
    return 0


def cmd_tech_search(args) -> int:
    catalog = _module("catalog", "technology search")
    _out(catalog.format_search(args.query, args.jurisdiction or "national", args.as_of or _today(), surgery_grade=args.surgery_grade))
    return 0


def register(sub, juris: str) -> None:
    """Add this group's subcommands to the `medtech` parser."""
    s = sub.add_parser("catalog", help="the restricted-technology catalogue in force, or the crosswalk")
    s.add_argument("jurisdiction", nargs="?", type=_jurisdiction_or_all, metavar="JURISDICTION", help=juris + ", or all; default national")
    s.add_argument("--as-of", type=_date, default=None, metavar="DATE")
    s.add_argument("--crosswalk", action="store_true", help="every catalogue side by side")
    s.add_argument("--format", choices=CROSSWALK_FORMATS, default="markdown", help="crosswalk format")
    s.set_defaults(func=cmd_catalog)

    tech = sub.add_parser("tech", help="technologies in the catalogues")
    techs = tech.add_subparsers(dest="tech_command", metavar="SUBCOMMAND", required=True)
    s = techs.add_parser("search", help="find a technology by name, abbreviation or code")
    s.add_argument("query", metavar="QUERY")
    s.add_argument("--jurisdiction", type=_jurisdiction_or_all, default=None, metavar="J", help=juris + ", or all; default national")
    s.add_argument("--as-of", type=_date, default=None, metavar="DATE")
    s.add_argument("--surgery-grade", type=_grade, default=None, metavar="N", help="手术分级 1 to 4, for grade-qualified entries")
    s.set_defaults(func=cmd_tech_search)
