"""`medtech`: the command line (docs/guide.zh.md describes every command).

    medtech decide [FILE or -] [--format text|json]
    medtech batch IN.jsonl [-o OUT.jsonl] [--workers N] [--shard K/N] [--resume]
    medtech kb check | coverage | show DOCUMENT [EID or 中文标签] | search TEXT | schemas [--check]
    medtech compare REQUEST [--jurisdictions a,b,…] [--format text|json]
    medtech catalog [JURISDICTION] [--as-of DATE] [--crosswalk] [--format markdown|csv] [--diff OLD NEW]
    medtech tech search QUERY [--jurisdiction J] [--as-of DATE]
    medtech register JURISDICTION [--as-of DATE] [--category C] [--level N] [--tcm] [--format …]
    medtech changes JURISDICTION --from DATE --to DATE [--format …]
    medtech ledger 台账.xlsx --institution 机构.yaml [-o 结果.xlsx] [--format xlsx|csv|acts-csv|ics] | --template
    medtech flowchart JURISDICTION [--format …] [--as-of DATE] [--highlight REQUEST] [-o FILE]
    medtech serve [--host 127.0.0.1] [--port 8000] [--workers N]

Exit codes: 0 success; 1 a failed check, something not found or an unexpected error
(one line on stderr; MEDTECH_DEBUG=1 shows the traceback); 2 invalid input; 3 `serve` cannot
listen (port in use, no permission); 128 + signal number when a batch is stopped by SIGTERM or
SIGINT (its partial output kept for --resume).
One module per command group (decide, kb, catalog, flowchart, serve), each with a
`register(sub, juris)` that adds its subcommands; shared helpers are in common.py.
"""

from __future__ import annotations

import argparse
import os
import sys

from engine.cli import catalog, compare, decide, kb, serve
from engine.cli import ledger as ledger_cli
from engine.cli import register as register_cli
from engine.cli.common import PROG, Failure, UsageError, _vocabulary
from engine.errors import KnowledgeBaseError, UnreadableYaml

__all__ = ["main", "build_parser", "UsageError", "Failure", "PROG"]


def cmd_flowchart(argv: list[str]) -> int:
    from engine.cli.flowchart import cli_main

    return int(cli_main(argv) or 0)


def build_parser() -> argparse.ArgumentParser:
    """The `medtech` argument parser (the flowchart command parses its own options)."""
    jurisdictions = _vocabulary().jurisdictions
    example = next((j.name for j in jurisdictions if j.level == "provincial"), jurisdictions[0].name)
    juris = "one of: " + ", ".join(j.id for j in jurisdictions) + f" (or a Chinese name such as {example})"
    p = argparse.ArgumentParser(
        prog=PROG,
        description="医疗技术临床应用管理: which filings, stops and reports a hospital owes, by when, to whom, on which article.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    decide.register(sub, juris)
    kb.register(sub, juris)
    catalog.register(sub, juris)
    compare.register(sub, juris)
    register_cli.register(sub, juris)
    ledger_cli.register(sub, juris)
    sub.add_parser(
        "flowchart",
        help="draw a jurisdiction's filing and incident flowchart (see `medtech flowchart --help`)",
        add_help=False,
    )

    serve.register(sub, juris)
    return p


def _utf8_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        if (getattr(stream, "encoding", "") or "").lower().replace("-", "") != "utf8" and hasattr(
            stream, "reconfigure"
        ):
            stream.reconfigure(encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns (and, as a console script, exits with) its exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    _utf8_streams()
    try:
        if argv[:1] == ["flowchart"]:  # its options are parsed by engine.cli.flowchart
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
    except (KnowledgeBaseError, UnreadableYaml) as exc:  # a KB file unreadable (the vocabulary builds the parser)
        from engine.checks import problems_zh, unreadable_problem

        problems = exc.problems if isinstance(exc, KnowledgeBaseError) else [unreadable_problem(exc)]
        print(problems_zh(problems), file=sys.stderr)
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
