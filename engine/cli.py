"""`medtech`: the command line (../shared/contract.md section 1).

    medtech decide [FILE or -] [--format text|json]
    medtech batch IN.jsonl [-o OUT.jsonl] [--workers N]
    medtech kb check | coverage | show DOCUMENT [EID] | schemas [--check]
    medtech catalog [JURISDICTION] [--as-of DATE] [--crosswalk] [--format markdown|csv]
    medtech tech search QUERY [--jurisdiction J] [--as-of DATE]
    medtech flowchart JURISDICTION [--format …] [--as-of DATE] [--highlight REQUEST] [-o FILE]
    medtech serve [--host 127.0.0.1] [--port 8000] [--workers N]

Exit codes: 0 success; 1 a failed check, something not found or an unexpected error
(one line on stderr; MEDTECH_DEBUG=1 shows the traceback); 2 invalid input.
Modules written by others are imported inside the commands, so one missing part does not
stop the rest of the CLI from working.
"""
from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import sys

PROG = "medtech"
DECIDE_FORMATS = ("text", "json")
CROSSWALK_FORMATS = ("markdown", "csv")


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit 2."""


class Failure(Exception):
    """A command that ran but failed (not found, check failed): printed as one line, exit 1."""


# --------------------------------------------------------------------------- helpers


def _vocabulary():
    from engine.vocabulary import vocabulary
    return vocabulary()


def _jurisdiction(value: str) -> str:
    """argparse type: a jurisdiction id or Chinese name (kb/vocabulary.yaml) -> its id."""
    from engine.errors import NotFound
    try:
        return _vocabulary().jurisdiction(value).id
    except NotFound:
        ids = ", ".join(j.id for j in _vocabulary().jurisdictions)
        raise argparse.ArgumentTypeError(f"{value!r} is not a supported jurisdiction (supported: {ids}, or their Chinese names)")


def _jurisdiction_or_all(value: str) -> str:
    """argparse type for the catalogue commands: a jurisdiction, or `all` for every catalogue."""
    return "all" if value.strip().lower() == "all" else _jurisdiction(value)


def _grade(value: str) -> int:
    if value not in ("1", "2", "3", "4"):
        raise argparse.ArgumentTypeError(f"{value!r} is outside 1 to 4")
    return int(value)


def _date(value: str) -> dt.date:
    """argparse type: an ISO date that exists (2025-02-30 is refused)."""
    try:
        if len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a valid date (expected YYYY-MM-DD, a day that exists)")


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive whole number")
    return n


def _today() -> dt.date:
    from engine.request import today_in_china
    return today_in_china()


def _module(name: str, feature: str):
    """Import engine.<name>, or fail with a clear message naming the feature."""
    try:
        return importlib.import_module(f"engine.{name}")
    except ImportError as exc:
        raise Failure(f"{feature} is not available: cannot import engine.{name} ({exc})") from None


def _out(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _read_request(source: str):
    """One request from a file or standard input, JSON or YAML; UsageError names the file."""
    from engine.yamlio import load_yaml_text
    name = "<stdin>" if source == "-" else source
    try:
        if source == "-":
            raw = sys.stdin.buffer.read()
        else:
            with open(source, "rb") as fh:
                raw = fh.read()
        text = raw.decode("utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{name}: is a directory, not a request file") from None
    except OSError as exc:
        raise UsageError(f"{name}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if not text.strip():
        raise UsageError(f"{name}: empty input: expected one request (JSON or YAML)")
    if text.lstrip()[:1] in "{[":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            json_error = f"{name}: malformed JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        try:  # YAML flow style such as {institution: {jurisdiction: hunan}}
            return load_yaml_text(text)
        except Exception:
            raise UsageError(json_error) from None
    try:
        return load_yaml_text(text)
    except Exception as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise UsageError(f"{name}: malformed YAML: {problem}{where}") from None


# --------------------------------------------------------------------------- commands


def cmd_decide(args) -> int:
    from engine import InvalidRequest, decide
    request = _read_request(args.file)
    try:
        response = decide(request)
    except InvalidRequest as exc:
        for e in exc.errors:
            print(f"{e['path'] or '(request)'}: {e['message']}", file=sys.stderr)
        return 2
    if args.format == "json":
        _out(json.dumps(response, ensure_ascii=False, indent=2, sort_keys=False))
    else:
        from engine.explain import render_text
        _out(render_text(response))
    return 0


def _use_backend(args) -> None:
    """Choose the rule engine for this process and the worker processes it starts."""
    if getattr(args, "backend", None):
        os.environ["MEDTECH_BACKEND"] = args.backend


def cmd_batch(args) -> int:
    _use_backend(args)
    batch = _module("batch", "batch decisions")
    if args.input != "-" and not os.path.isfile(args.input):
        raise UsageError(f"{args.input}: no such file")
    return int(batch.run_batch(args.input, args.output, sys.stderr.isatty(), args.workers) or 0)


def cmd_kb_check(args) -> int:
    from engine.errors import KnowledgeBaseError
    from engine.kb import check
    try:
        problems = check()
    except KnowledgeBaseError as exc:
        problems = exc.problems
    if problems:
        for p in problems:
            print(p)
        files = len({p.file for p in problems})
        print(f"{len(problems)} problem(s) in {files} file(s) of the knowledge base")
        return 1
    from engine.kb import knowledge_base
    kb = knowledge_base()
    provisions = sum(len(d.provisions) for d in kb.documents.values())
    from engine.paths import CATALOGS_DIR
    catalogues = len(list((CATALOGS_DIR / "versions").glob("*.yaml")))
    print(f"knowledge base OK: {len(kb.documents)} documents, {provisions} provisions, {len(kb.rules)} rules, "
          f"{catalogues} catalogue versions; digest {kb.digest}")
    return 0


def cmd_kb_coverage(args) -> int:
    text, ok = _module("coverage", "the coverage report").report()
    _out(text)
    return 0 if ok else 1


def cmd_kb_show(args) -> int:
    from engine.documents import format_outline, format_provision, get_document
    from engine.errors import NotFound
    try:
        doc = get_document(args.document)
        _out(format_provision(doc, args.eid) if args.eid else format_outline(doc, args.as_of))
    except NotFound as exc:
        raise Failure(str(exc)) from None
    return 0


def cmd_kb_schemas(args) -> int:
    from engine import schema_gen
    from engine.paths import SCHEMA_DIR, relative
    if not args.check:
        for path in schema_gen.write_all():
            print(f"wrote {relative(path)}")
        return 0
    stale = []
    for name in schema_gen.GENERATED:
        path = SCHEMA_DIR / f"{name}.schema.json"
        if not path.exists() or path.read_text(encoding="utf-8") != schema_gen.render(name):
            stale.append(relative(path))
    for path in stale:
        print(f"{path}: out of date with kb/vocabulary.yaml (run `medtech kb schemas`)")
    if not stale:
        print(f"schemas up to date: {', '.join(schema_gen.GENERATED)}")
    return 1 if stale else 0


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


def cmd_flowchart(argv: list[str]) -> int:
    try:
        flowchart = importlib.import_module("engine.flowchart")
        entry = flowchart.cli_main
    except (ImportError, AttributeError) as exc:
        raise Failure(f"flowcharts are not available in this installation ({exc})") from None
    return int(entry(argv) or 0)


def cmd_serve(args) -> int:
    _use_backend(args)
    service = _module("service", "the HTTP service")
    service.run(args.host, args.port, args.workers)
    return 0


# --------------------------------------------------------------------------- parser


BACKEND_HELP = ("rule engine: durable (durable_rules, the default) or pure (the pure-Python evaluator of the "
                "same compiled rules; identical answers, proven by the differential tests, about twice as fast)")


def _backends() -> tuple[str, ...]:
    from engine.decision import BACKENDS
    return BACKENDS


def build_parser() -> argparse.ArgumentParser:
    juris = "one of: " + ", ".join(j.id for j in _vocabulary().jurisdictions) + " (or a Chinese name such as 湖南省)"
    p = argparse.ArgumentParser(prog=PROG, description="医疗技术临床应用管理: which filings, stops and reports a hospital owes, by when, to whom, on which article.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    s = sub.add_parser("decide", help="answer one decision request (JSON or YAML)")
    s.add_argument("file", nargs="?", default="-", metavar="FILE", help="request file; - or nothing for standard input")
    s.add_argument("--format", choices=DECIDE_FORMATS, default="text", help="text (Chinese, default) or json")
    s.set_defaults(func=cmd_decide)

    s = sub.add_parser("batch", help="one request a line in, one response a line out")
    s.add_argument("input", metavar="IN.jsonl")
    s.add_argument("-o", "--output", metavar="OUT.jsonl", default=None, help="default: standard output")
    s.add_argument("--workers", type=_positive, default=None, metavar="N")
    s.add_argument("--backend", choices=_backends(), default=None, help=BACKEND_HELP)
    s.set_defaults(func=cmd_batch)

    kb = sub.add_parser("kb", help="the knowledge base: check, coverage, show, schemas")
    kbs = kb.add_subparsers(dest="kb_command", metavar="SUBCOMMAND", required=True)
    s = kbs.add_parser("check", help="validate documents, rules, catalogues, calendar and schemas")
    s.set_defaults(func=cmd_kb_check)
    s = kbs.add_parser("coverage", help="which provisions the rules and catalogues account for")
    s.set_defaults(func=cmd_kb_coverage)
    s = kbs.add_parser("show", help="a document's outline, or one provision's text")
    s.add_argument("document", metavar="DOCUMENT", help="e.g. nhc-2018-1")
    s.add_argument("eid", nargs="?", metavar="EID", help="e.g. art_25__para_3")
    s.add_argument("--as-of", type=_date, default=None, metavar="DATE", help="date for the document's status (default today)")
    s.set_defaults(func=cmd_kb_show)
    s = kbs.add_parser("schemas", help="regenerate kb/schema/*.schema.json from kb/vocabulary.yaml")
    s.add_argument("--check", action="store_true", help="only report schemas that differ (exit 1)")
    s.set_defaults(func=cmd_kb_schemas)

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

    sub.add_parser("flowchart", help="draw a jurisdiction's filing and incident flowchart (see `medtech flowchart --help`)", add_help=False)

    s = sub.add_parser("serve", help="start the HTTP service")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=_positive, default=1, metavar="N", help="worker processes (default 1)")
    s.add_argument("--backend", choices=_backends(), default=None, help=BACKEND_HELP)
    s.set_defaults(func=cmd_serve)
    return p


def _utf8_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        if (getattr(stream, "encoding", "") or "").lower().replace("-", "") != "utf8" and hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns (and, as a console script, exits with) its exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    _utf8_streams()
    try:
        if argv[:1] == ["flowchart"]:  # its options belong to engine.flowchart
            code = cmd_flowchart(argv[1:])
        else:
            args = build_parser().parse_args(argv)
            code = args.func(args)
    except UsageError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        code = 2
    except Failure as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:  # e.g. `medtech kb show nhc-2018-1 | head`: the reader went away
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:
        if os.environ.get("MEDTECH_DEBUG") == "1":
            raise
        message = " ".join(str(exc).split()) or "(no message)"
        print(f"{PROG}: error: {type(exc).__name__}: {message} (set MEDTECH_DEBUG=1 for details)", file=sys.stderr)
        code = 1
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
