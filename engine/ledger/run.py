"""Answer a ledger: every readable row by the same decide() as one case, then each row's class and verdict and
every act across techniques, most urgent first.

Small ledgers are answered in this process; from BATCH_FROM rows on, engine.batch's worker processes answer
them (every core, the same answers in the same order).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from engine.jsonout import dumps_bytes
from engine.ledger.sheet import Ledger, Row
from engine.register.words import words
from engine.render.answer import build_answer
from engine.render.errors import error_text
from engine.render.table import obligation_rows

BATCH_FROM = 2000  # rows from which worker processes answer; below, in process is faster (benchmarks/ledger.py)
PER_TECHNIQUE = ("now", "to_confirm", "upcoming", "ongoing", "done")
INSTITUTION_WIDE = ("institution_wide",)


@dataclass
class Answered:
    """A row with its response and answer model (engine.render.answer), or the problems that kept it unanswered."""

    row: Row
    response: dict | None = None
    answer: dict | None = None
    problems: list[str] = field(default_factory=list)


def verdict_of(response: dict, answer: dict) -> str:
    """A row's headline: the response's own `verdict` where the engine gives one, else the answer model's."""
    verdict = response.get("verdict")
    if isinstance(verdict, dict) and verdict.get("text"):
        return str(verdict["text"])
    return str(answer["verdict"])


def _responses(requests: list[dict], workers: int | None) -> list[dict]:
    if len(requests) < BATCH_FROM:
        from engine import InvalidRequest, decide

        out = []
        for request in requests:
            try:
                out.append(decide(request))
            except InvalidRequest as exc:
                out.append({"errors": exc.errors})
        return out
    from engine.batch import answers

    return [json.loads(line) for line in answers((dumps_bytes(r) for r in requests), workers)]


def answer_ledger(ledger: Ledger, workers: int | None = None) -> list[Answered]:
    """Every row of the ledger answered (or with its problems), in sheet order."""
    readable = [r for r in ledger.rows if r.request is not None]
    responses = iter(_responses([r.request for r in readable if r.request is not None], workers))
    out = []
    for row in ledger.rows:
        if row.request is None:
            out.append(Answered(row, problems=list(row.problems)))
            continue
        response = next(responses)
        if "errors" in response:
            out.append(Answered(row, problems=[error_text(e) for e in response["errors"]]))
            continue
        out.append(Answered(row, response, build_answer(response, request=row.request)))
    return out


def _urgency(row: dict) -> tuple:
    order = words()["ledger"]["urgency"]
    rank = len(order)
    for i, key in enumerate(order):
        if ("action" in key and row["action"] == key["action"]) or ("status" in key and row["status"] == key["status"]):
            rank = i
            break
    return (rank, row["due"] or "9999-99-99", row["request"] if row["request"] != "" else 0)


def acts(answered: list[Answered]) -> list[dict]:
    """Every act of every answered row (engine.render.table rows, `request` = the row's number), most urgent first:
    the verdict's order (do not use, stop, immediate, overdue, to confirm, due today, pending, done), then due date.
    The institution-wide duties, the same for every row, are listed once."""
    out: list[dict] = []
    wide_done = False
    for a in answered:
        if a.answer is None:
            continue
        keep = PER_TECHNIQUE + (() if wide_done else INSTITUTION_WIDE)
        answer = dict(a.answer, sections=[s for s in a.answer["sections"] if s["key"] in keep])
        for r in obligation_rows(answer, request_no=a.row.number):
            if r["section"] == dict((s["key"], s["title"]) for s in a.answer["sections"]).get("institution_wide"):
                r = dict(r, request="", technology="（机构层面）", **{"class": ""})
            out.append(r)
        wide_done = True
    return sorted(out, key=_urgency)


def next_due(answer: dict, as_of: str) -> str:
    """The earliest due date, on or after `as_of`, of the row's acts not yet done ('' when none)."""
    days = [
        i["due"]
        for s in answer["sections"]
        if s["key"] in PER_TECHNIQUE and s["key"] != "done"
        for i in s["items"]
        if i.get("due") and i["due"] >= as_of
    ]
    return min(days) if days else ""


def today() -> dt.date:
    """Today in China (the default day a ledger is answered on)."""
    from engine.inference.request import today_in_china

    return today_in_china()
