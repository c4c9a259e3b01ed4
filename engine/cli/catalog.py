"""`medtech catalog` (listing, crosswalk, --diff) and `medtech tech search`."""

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
from engine.render.humanize import humanize_listing

CROSSWALK_FORMATS = ("markdown", "csv", "json")


def cmd_catalog(args) -> int:
    catalog = _module("catalog", "the catalogue listing")
    if args.diff:
        from engine.catalog.diff import diff_versions, format_diff
        from engine.errors import NotFound

        try:
            d = diff_versions(*args.diff)
        except NotFound as exc:
            from engine.render.errors import not_found_text

            raise UsageError(f"--diff: {not_found_text(exc)}") from None
        if args.format == "json":
            import json

            _out(json.dumps(d, ensure_ascii=False, indent=2))
        else:
            _out(format_diff(d))
        return 0
    if args.crosswalk:
        _out(catalog.crosswalk_csv() if args.format == "csv" else catalog.crosswalk_markdown())
        return 0
    if args.format in ("csv", "json"):
        raise UsageError(f"--format {args.format} applies to --crosswalk (csv) or --diff (json) only")
    _out(humanize_listing(catalog.format_catalog(args.jurisdiction or "national", args.as_of or _today())))
    return 0


def cmd_tech_search(args) -> int:
    catalog = _module("catalog", "technology search")
    text = catalog.format_search(
        args.query, args.jurisdiction or "national", args.as_of or _today(), surgery_grade=args.surgery_grade
    )
    _out(humanize_listing(text))
    return 0


def register(sub, juris: str) -> None:
    """Add this group's subcommands to the `medtech` parser."""
    s = sub.add_parser("catalog", help="the restricted-technology catalogue in force, or the crosswalk")
    s.add_argument(
        "jurisdiction",
        nargs="?",
        type=_jurisdiction_or_all,
        metavar="JURISDICTION",
        help=juris + ", or all; default national",
    )
    s.add_argument("--as-of", type=_date, default=None, metavar="DATE")
    s.add_argument("--crosswalk", action="store_true", help="every catalogue side by side")
    s.add_argument(
        "--diff",
        nargs=2,
        metavar=("OLD", "NEW"),
        help="what changed between two catalogue versions, e.g. national-2018 national-2022",
    )
    s.add_argument(
        "--format",
        choices=CROSSWALK_FORMATS,
        default="markdown",
        help="crosswalk: markdown or csv; --diff: markdown (Chinese text) or json",
    )
    s.set_defaults(func=cmd_catalog)

    tech = sub.add_parser("tech", help="technologies in the catalogues")
    techs = tech.add_subparsers(dest="tech_command", metavar="SUBCOMMAND", required=True)
    s = techs.add_parser("search", help="find a technology by name, abbreviation or code")
    s.add_argument("query", metavar="QUERY")
    s.add_argument(
        "--jurisdiction",
        type=_jurisdiction_or_all,
        default=None,
        metavar="J",
        help=juris + ", or all; default national",
    )
    s.add_argument("--as-of", type=_date, default=None, metavar="DATE")
    s.add_argument(
        "--surgery-grade", type=_grade, default=None, metavar="N", help="手术分级 1 to 4, for grade-qualified entries"
    )
    s.set_defaults(func=cmd_tech_search)
