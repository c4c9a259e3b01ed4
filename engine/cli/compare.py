"""`medtech compare REQUEST --jurisdictions a,b,…`: one case, the jurisdictions side by side."""

from __future__ import annotations

import json
import sys

from engine.cli.common import _out, _read_request

COMPARE_FORMATS = ("text", "json")


def cmd_compare(args) -> int:
    from engine import InvalidRequest
    from engine.render.compare import compare, compare_text

    request = _read_request(args.file)
    try:
        model = compare(request, args.jurisdictions)
    except InvalidRequest as exc:
        for e in exc.errors:
            print(f"{e['path'] or '(request)'}: {e['message']}", file=sys.stderr)
        return 2
    _out(json.dumps(model, ensure_ascii=False, indent=2) if args.format == "json" else compare_text(model))
    return 0


def register(sub, juris: str) -> None:
    """Add `compare` to the `medtech` parser."""
    s = sub.add_parser("compare", help="the same case in several jurisdictions, side by side, differences marked")
    s.add_argument(
        "file",
        nargs="?",
        default="-",
        metavar="REQUEST",
        help="request file (JSON or YAML); - or nothing for standard input",
    )
    s.add_argument(
        "--jurisdictions",
        default=None,
        metavar="A,B,…",
        help="comma-separated, each " + juris + "; default every jurisdiction (institution.jurisdiction is replaced)",
    )
    s.add_argument("--format", choices=COMPARE_FORMATS, default="text", help="text (Chinese, default) or json")
    s.set_defaults(func=cmd_compare)
