"""`medtech kb check | coverage | show | search | schemas`."""

from __future__ import annotations

from engine.cli.common import (
    Failure,
    _date,
    _jurisdiction,
    _module,
    _out,
    _positive,
    _vocabulary,
)


def cmd_kb_check(args) -> int:
    import sys

    from engine.checks import check, currency_warnings, warnings
    from engine.errors import KnowledgeBaseError

    for warning in currency_warnings():
        print(f"warning: {warning}", file=sys.stderr)

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
    from engine.kb.loader import knowledge_base

    kb = knowledge_base()
    provisions = sum(len(d.provisions) for d in kb.documents.values())
    from engine.paths import CATALOGS_DIR

    catalogues = len(list((CATALOGS_DIR / "versions").glob("*.yaml")))
    print(
        f"knowledge base OK: {len(kb.documents)} documents, {provisions} provisions, {len(kb.rules)} rules, "
        f"{catalogues} catalogue versions; digest {kb.digest}"
    )
    for w in warnings():
        print(f"warning: {w}")
    return 0


def cmd_kb_coverage(args) -> int:
    text, ok = _module("kb.coverage", "the coverage report").report(strict_only=args.strict)
    _out(text)
    return 0 if ok else 1


def cmd_kb_show(args) -> int:
    from engine.errors import NotFound
    from engine.kb.documents import format_outline, format_provision, get_document
    from engine.kb.search import provision_by_ref

    try:
        doc = get_document(args.document)
        _out(format_provision(doc, provision_by_ref(doc, args.eid)) if args.eid else format_outline(doc, args.as_of))
    except NotFound as exc:
        from engine.render.errors import not_found_text

        raise Failure(not_found_text(exc)) from None
    except ValueError as exc:  # a label naming several provisions: their eIds are listed
        import re

        m = re.fullmatch(r"(.*) names (\d+) provisions of (\S+): (.*); give the eId", str(exc))
        raise Failure(
            f"{m.group(3)} 中有 {m.group(2)} 处条款标为“{m.group(1)}”，请给出条款编号：{m.group(4).replace(', ', '、')}"
            if m
            else str(exc)
        ) from None
    return 0


def cmd_kb_search(args) -> int:
    from engine.cli.common import UsageError
    from engine.kb.search import format_search, search

    documents = None
    if args.document:
        from engine.kb.documents import load_documents

        known = load_documents()
        unknown = [d for d in args.document if d not in known]
        if unknown:
            raise UsageError(f"--document: 没有文件 {'、'.join(unknown)}（可用：{'、'.join(sorted(known))}）")
        documents = args.document
    elif args.jurisdiction:
        documents = list(_vocabulary().jurisdiction(args.jurisdiction).documents)
    try:
        hits = search(args.text, documents)
    except ValueError as exc:
        import re

        m = re.search(r"longer than (\d+) characters", str(exc))
        raise UsageError(f"检索词过长（最多 {m.group(1)} 个字符）" if m else "检索词为空") from None
    if args.format == "json":
        import json

        _out(
            json.dumps(
                {"query": args.text, "total": len(hits), "results": [h.to_dict() for h in hits[: args.limit]]},
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        _out(format_search(args.text, hits[: args.limit], len(hits)))
    return 0 if hits else 1


def cmd_kb_schemas(args) -> int:
    from engine.kb import schema_gen
    from engine.paths import SCHEMA_DIR, relative

    if not args.check:
        for written in schema_gen.write_all():
            print(f"wrote {relative(written)}")
        return 0
    stale = []
    for name in schema_gen.GENERATED:
        path = SCHEMA_DIR / f"{name}.schema.json"
        if not path.exists() or path.read_text(encoding="utf-8") != schema_gen.render(name):
            stale.append(relative(path))
    for file in stale:
        print(f"{file}: out of date with kb/vocabulary.yaml (run `bash scripts/regenerate.sh` or `medtech kb schemas`)")
    if not stale:
        print(f"schemas up to date: {', '.join(schema_gen.GENERATED)}")
    return 1 if stale else 0


def register(sub, juris: str) -> None:
    """Add this group's subcommands to the `medtech` parser."""
    kb = sub.add_parser("kb", help="the knowledge base: check, coverage, show, schemas")
    kbs = kb.add_subparsers(dest="kb_command", metavar="SUBCOMMAND", required=True)
    s = kbs.add_parser("check", help="validate documents, rules, catalogues, calendar and schemas")
    s.set_defaults(func=cmd_kb_check)
    s = kbs.add_parser("coverage", help="which provisions the rules and catalogues account for")
    s.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 unless every leaf provision is cited or marked by itself (not through its parent)",
    )
    s.set_defaults(func=cmd_kb_coverage)
    s = kbs.add_parser("show", help="a document's outline, or one provision's text")
    s.add_argument("document", metavar="DOCUMENT", help="one of: " + ", ".join(_vocabulary().documents))
    s.add_argument(
        "eid",
        nargs="?",
        metavar="EID",
        help="a provision's eId (art_11__para_1, sec_2__subsec_1) or its Chinese label (第十一条第一款, 二、（一）)",
    )
    s.add_argument(
        "--as-of", type=_date, default=None, metavar="DATE", help="date for the document's status (default today)"
    )
    s.set_defaults(func=cmd_kb_show)
    s = kbs.add_parser(
        "search", help="full-text search of the provisions of every document (exit 1 when nothing matches)"
    )
    s.add_argument("text", metavar="TEXT", help="words to find (several words: provisions containing all of them)")
    s.add_argument("--document", action="append", metavar="DOCUMENT", help="only this document (repeatable)")
    s.add_argument(
        "--jurisdiction",
        type=_jurisdiction,
        default=None,
        metavar="J",
        help="only the documents that apply in " + juris,
    )
    s.add_argument("--limit", type=_positive, default=20, metavar="N", help="show at most N provisions (default 20)")
    s.add_argument("--format", choices=("text", "json"), default="text")
    s.set_defaults(func=cmd_kb_search)
    s = kbs.add_parser("schemas", help="regenerate kb/schema/*.schema.json from kb/vocabulary.yaml")
    s.add_argument("--check", action="store_true", help="only report schemas that differ (exit 1)")
    s.set_defaults(func=cmd_kb_schemas)
