"""Every format one decision can be exported in, for the CLI (`medtech decide --format`), HTTP content
negotiation (`Accept` on POST /v1/decisions) and the web page's download buttons.

`render_export(response, fmt, request=None) -> (bytes, media_type, filename)`; `EXPORTS` maps each format
to its media type and file extension; `format_for_accept(header)` picks the format an Accept header asks
for (None when it accepts none of them).
"""

from __future__ import annotations

from typing import NamedTuple

from engine.jsonout import dumps_text
from engine.textsafe import download_name, printable_tree


class Export(NamedTuple):
    media_type: str
    extension: str
    binary: bool
    description: str


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

EXPORTS: dict[str, Export] = {
    "json": Export("application/json", "json", False, "the response object (contract section 4)"),
    "text": Export("text/plain; charset=utf-8", "txt", False, "the short Chinese answer"),
    "md": Export("text/markdown; charset=utf-8", "md", False, "合规意见 memo (Markdown)"),
    "docx": Export(DOCX, "docx", True, "合规意见 memo (Word)"),
    "csv": Export("text/csv; charset=utf-8", "csv", False, "one row per obligation"),
    "ics": Export("text/calendar; charset=utf-8", "ics", False, "calendar reminders for dated obligations"),
}
DECIDE_FORMATS = tuple(EXPORTS)  # the choices of `medtech decide --format`
BATCH_FORMATS = ("jsonl", "csv", "xlsx")  # the choices of `medtech batch --format`


def _answer(response: dict, request: dict | None, full: bool = False) -> dict:
    from engine.render.answer import build_answer

    # user text is data: no control character or noncharacter reaches a format that would choke on it
    response = printable_tree(response, lines=True)
    request = printable_tree(request) if request is not None else None
    return build_answer(response, request=request, full=full)


def render_export(
    response: dict, fmt: str, *, request: dict | None = None, full: bool = False
) -> tuple[bytes, str, str]:
    """One decision in format `fmt` (a key of EXPORTS): (content, media type, suggested file name).
    `request` supplies the institution's name and category, which the response does not repeat;
    `full` adds quotes, consequences and the reasoning to the text format."""
    if fmt not in EXPORTS:
        raise ValueError(f"unknown export format {fmt!r} (one of {', '.join(EXPORTS)})")
    spec = EXPORTS[fmt]
    if fmt == "json":
        body = dumps_text(response).encode("utf-8")
    elif fmt == "text":
        from engine.render.text import render_answer_text

        body = render_answer_text(_answer(response, request, full), full=full).encode("utf-8")
    elif fmt == "md":
        from engine.render.memo import render_markdown

        body = render_markdown(_answer(response, request)).encode("utf-8")
    elif fmt == "docx":
        from engine.render.memo import render_docx

        body = render_docx(_answer(response, request))
    elif fmt == "csv":
        from engine.render.table import obligation_rows, render_csv

        body = render_csv(obligation_rows(_answer(response, request))).encode("utf-8")
    else:
        from engine.render.calendar import render_ics

        body = render_ics(_answer(response, request), verdict=verdict_text(response), response=response)
    return body, spec.media_type, filename(response, request, spec.extension)


def verdict_text(response: dict) -> str | None:
    """The response's own one-line verdict (`verdict.text`) when it has one, else None (the answer's)."""
    verdict = response.get("verdict")
    if isinstance(verdict, dict):
        return verdict.get("text") or None
    return verdict if isinstance(verdict, str) and verdict else None


def filename(response: dict, request: dict | None, extension: str) -> str:
    """合规意见-<技术>-<查询日期>.<ext>: a name people recognise in a download folder."""
    tech = response.get("technology") or {}
    name = tech.get("name") or tech.get("query") or "机构义务"
    safe = download_name(str(name), "机构义务")[:40]
    return download_name(f"合规意见-{safe}-{response.get('as_of') or ''}.{extension}")


def _media(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def format_for_accept(accept: str | None) -> str | None:
    """The export format an HTTP Accept header prefers: "json" when it is absent, `*/*` or JSON first;
    None when it accepts none of the formats. Quality values are honoured; ties go to the order given."""
    if not accept or not accept.strip():
        return "json"
    ranges = []
    for pos, part in enumerate(accept.split(",")):
        bits = [b.strip() for b in part.split(";")]
        media = bits[0].lower()
        q = 1.0
        for b in bits[1:]:
            if b.startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        if media and q > 0:
            ranges.append((-q, pos, media))
    by_media = {_media(e.media_type): f for f, e in EXPORTS.items()}
    for _, _, media in sorted(ranges):
        if media in by_media:
            return by_media[media]
        if media in ("*/*", "application/*"):
            return "json"
        if media == "text/*":
            return "text"
    return None
