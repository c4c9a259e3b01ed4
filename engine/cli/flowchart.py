"""`medtech flowchart`: render the filing and stop-and-report flowcharts generated from the rules.

    medtech flowchart JURISDICTION [--chart filing|incident|training|all] [--format svg|png|pdf|dot|mermaid]
                      [--as-of DATE] [--highlight REQUEST_FILE] [--slides] [-o FILE]
    medtech flowchart --all [-o diagrams/] [--as-of DATE]

Without -o the chart goes to standard output (PNG as bytes). The format defaults to the
extension of -o (.svg .png .pdf .dot .gv .mmd), else svg. `--chart all` writes every chart,
each to -o's name with the chart before the extension (hunan.png -> hunan-filing.png, ...). With --highlight (a decision request in
JSON or YAML, `-` for standard input) the chart is the request's jurisdiction on the request's
day with the case marked, on the chart of the case (an incident's on the incident chart) unless
--chart names one; JURISDICTION may then be left out. --slides writes a 16:9 PDF of slides (an
overview, then a page per stage) instead of the chart. --all writes every jurisdiction
and chart as .dot, .svg, .png and .mmd, on the day fixed in kb/flowcharts.yaml, so the files
are reproducible byte for byte. Exit 0 on success, 2 on a bad argument or invalid request, 4 when
Graphviz (`dot`) is missing (with a Chinese message saying how to install it).
Also runnable as `python -m engine.cli.flowchart`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

EXTENSIONS = {
    ".svg": "svg",
    ".png": "png",
    ".pdf": "pdf",
    ".dot": "dot",
    ".gv": "dot",
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
}
ALL_FORMATS = (("dot", ".dot"), ("svg", ".svg"), ("png", ".png"), ("mermaid", ".mmd"))


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # exit 2 with the usage, as argparse does, but never from inside a library call
        self.print_usage(sys.stderr)
        raise _UsageError(message)


class _UsageError(Exception):
    pass


def _jurisdiction_ids() -> str:
    """The jurisdictions of kb/vocabulary.yaml, for help and error messages."""
    from engine.cli.common import _vocabulary

    return ", ".join(j.id for j in _vocabulary().jurisdictions)


def _parser() -> argparse.ArgumentParser:
    from engine.flowchart.build import chart_names

    p = _Parser(prog="medtech flowchart", description="Flowcharts generated from the knowledge base's rules.")
    p.add_argument("jurisdiction", nargs="?", help=f"{_jurisdiction_ids()} (or a Chinese name)")
    from engine.flowchart.render import FORMATS

    p.add_argument(
        "--chart",
        choices=[*chart_names(), "all"],
        default=None,
        help="which chart (default: filing; with --highlight the case's own, e.g. incident); all: every one (needs -o)",
    )
    p.add_argument(
        "--slides",
        action="store_true",
        help="a 16:9 PDF for a projector: an overview page, then one page per stage (text >= 18 px at 1920x1080)",
    )
    p.add_argument("--format", choices=FORMATS, default=None)
    p.add_argument(
        "--as-of",
        dest="as_of",
        default=None,
        help="YYYY-MM-DD (default: today in China; for --all the day in kb/flowcharts.yaml)",
    )
    p.add_argument(
        "--highlight",
        metavar="REQUEST_FILE",
        default=None,
        help="a decision request (JSON or YAML; - for stdin) to mark on the chart",
    )
    p.add_argument("-o", "--output", default=None, help="output file (for --all: the directory, default diagrams/)")
    p.add_argument("--all", action="store_true", help="regenerate every jurisdiction x chart into a directory")
    return p


def _date(text: str) -> dt.date:
    from engine.inference.request import parse_date

    try:
        return parse_date(text)
    except ValueError as exc:
        raise _UsageError(f"--as-of: {exc}") from None


def write_all(out_dir: str | Path, as_of: dt.date | None = None) -> list[Path]:
    """Render every jurisdiction x chart into out_dir as .dot .svg .png .mmd (and a README.md index)."""
    from engine.flowchart.build import (
        build_graph,
        chart_names,
        default_as_of,
        load_spec,
    )
    from engine.flowchart.render import _pipe, to_dot, to_mermaid, to_png
    from engine.kb.loader import knowledge_base

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    day = as_of or default_as_of()
    written: list[Path] = []
    rows = []
    for j in knowledge_base().vocabulary.jurisdictions:
        for chart in chart_names():
            G = build_graph(j.id, chart, day)
            stem = f"{j.id}-{chart}"
            source = to_dot(G)
            contents = {
                ".dot": source.encode("utf-8"),
                ".svg": _pipe(source, "svg"),
                ".png": to_png(G),
                ".mmd": to_mermaid(G).encode("utf-8"),
            }
            for ext, data in contents.items():
                path = out / f"{stem}{ext}"
                path.write_bytes(data)
                written.append(path)
            rows.append(
                f"| {j.name}（{j.id}） | {load_spec()['charts'][chart]['title']} | "
                + " · ".join(f"[{ext[1:]}]({stem}{ext})" for ext in contents)
                + " |"
            )
    readme = out / "README.md"
    readme.write_text(
        "# 流程图（由规则生成）\n\n"
        "Generated by `medtech flowchart --all -o diagrams/` from `kb/flowcharts.yaml` "
        f"(the skeleton) and `kb/rules/` (the content), on {day.isoformat()}. Do not edit by hand: "
        "`tests/test_diagrams_drift.py` fails when these files differ from a fresh generation.\n\n"
        "| 地区 | 流程 | 文件 |\n|---|---|---|\n" + "\n".join(rows) + "\n",
        encoding="utf-8",
    )
    written.append(readme)
    return written


def _read_request(path: str) -> dict:
    """The --highlight request (JSON or YAML, at most 1 MiB, no YAML aliases: engine.requestio)."""
    from engine.errors import InputTooLarge, MalformedInput
    from engine.render.errors import file_error_text, input_error_text
    from engine.requestio import load_request_text, read_capped

    try:
        if path == "-":
            raw = read_capped(sys.stdin.buffer, "<stdin>")
        else:
            with open(path, "rb") as fh:
                raw = read_capped(fh, path)
        data = load_request_text(raw)
    except (InputTooLarge, MalformedInput) as exc:
        raise _UsageError(f"--highlight: {path}: {input_error_text(str(exc))}") from None
    except OSError as exc:
        raise _UsageError(f"--highlight: {path}: {file_error_text(exc)}") from None
    if not isinstance(data, dict):
        raise _UsageError(f"--highlight: {path}: 应为一个请求对象（JSON 对象或 YAML 映射）")
    return data


def cli_main(argv: list[str]) -> int:
    """Run `medtech flowchart` with these arguments (without the program name); the exit code."""
    from engine.errors import GraphvizMissing, InvalidRequest, NotFound

    argv = list(argv)
    if argv[:1] == ["flowchart"]:
        argv = argv[1:]
    try:
        args = _parser().parse_args(argv)
        as_of = _date(args.as_of) if args.as_of else None
        if args.all:
            if args.jurisdiction or args.highlight:
                raise _UsageError("--all takes neither a jurisdiction nor --highlight")
            paths = write_all(args.output or "diagrams", as_of)
            print(f"wrote {len(paths)} files to {args.output or 'diagrams'}", file=sys.stderr)
            return 0
        if not args.jurisdiction and not args.highlight:
            raise _UsageError(f"give a JURISDICTION ({_jurisdiction_ids()}), --highlight REQUEST_FILE, or --all")
        fmt = args.format or (EXTENSIONS.get(Path(args.output).suffix.lower()) if args.output else None) or "svg"
        if args.slides:
            if args.format not in (None, "pdf"):
                raise _UsageError("--slides writes a PDF: leave out --format or give --format pdf")
            fmt = "pdf"
        chart = args.chart or (None if args.highlight else "filing")
        from engine.flowchart import render_chart
        from engine.flowchart.build import chart_names

        request = _read_request(args.highlight) if args.highlight else None
        if args.chart == "all":
            if not args.output:
                raise _UsageError("--chart all writes one file per chart: give -o FILE")
            out = Path(args.output)
            for name in chart_names():
                result = render_chart(args.jurisdiction, name, fmt, as_of, highlight=request, slides=args.slides)
                data = result.encode("utf-8") if isinstance(result, str) else result
                out.with_name(f"{out.stem}-{name}{out.suffix}").write_bytes(data)
            return 0
        result = render_chart(args.jurisdiction, chart, fmt, as_of, highlight=request, slides=args.slides)
    except _UsageError as exc:
        print(f"medtech flowchart: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except InvalidRequest as exc:
        for e in exc.errors:
            print(f"{e['path'] or '(request)'}: {e['message']}", file=sys.stderr)
        return 2
    except (NotFound, GraphvizMissing) as exc:
        print(f"medtech flowchart: error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"medtech flowchart: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        if type(exc).__name__ != "ExecutableNotFound":  # graphviz's: the `dot` program is not installed
            raise
        print(f"medtech flowchart: error: {GraphvizMissing()}", file=sys.stderr)
        return 2
    data = result.encode("utf-8") if isinstance(result, str) else result
    if args.output:
        Path(args.output).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    return 0


def main() -> None:
    sys.exit(cli_main(sys.argv[1:]))


if __name__ == "__main__":
    main()
