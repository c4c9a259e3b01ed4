"""The web page's form: query parameters <-> a decision request, Chinese messages for bad input,
and which questions matter in which jurisdiction.

The form submits by GET, so the URL carries the whole request and a colleague who opens it
sees the same answer. Parameter names (one per request field, events as paired lists):

    as_of  jurisdiction  province  inst_name  category  level(1|2|3|none)  tcm(yes)
    tech  indication  grade  first_in_institution(yes|no)  first_in_jurisdiction(yes|no)
    major_ethical_risk(yes)  unapproved_product(yes)  radiation(yes)  pg(…, repeated)  in_use_since
    filed(yes|no)  filed_on (备案日期: a filing_submitted event)  approved_before_measures(yes|no)
    ev + ed (event type + date, repeated, paired by position)

Labels, choices and questions come from kb/vocabulary.yaml (`request_fields`, `questions` and
the vocabularies themselves); nothing here is legal content.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from engine.kb.vocabulary import vocabulary

# form field name -> request path
PATHS = {
    "as_of": "as_of",
    "jurisdiction": "institution.jurisdiction",
    "province": "institution.province",
    "inst_name": "institution.name",
    "category": "institution.category",
    "level": "institution.level",
    "tcm": "institution.tcm",
    "tech": "technology.name",
    "grade": "technology.surgery_grade",
    "first_in_institution": "technology.first_in_institution",
    "first_in_jurisdiction": "technology.first_in_jurisdiction",
    "major_ethical_risk": "technology.major_ethical_risk",
    "unapproved_product": "technology.unapproved_product",
    "radiation": "technology.radiation",
    "pg": "technology.prohibited_grounds",
    "in_use_since": "technology.in_use_since",
    "indication": "technology.indication",
    "filed": "technology.filed",
    "approved_before_measures": "technology.approved_before_measures",
}
# 备案日期: given, it is a filing_submitted event (and the technique was filed)
FILED_ON = "filed_on"
FIELD_OF = {path: name for name, path in PATHS.items()} | {"technology.code": "tech"}
# yes/no questions whose absence means "unknown" (kb/vocabulary.yaml unknown_unless_given)
TRISTATE = ("first_in_institution", "first_in_jurisdiction", "filed", "approved_before_measures")
# yes/no questions whose absence means "no"
YES_ONLY = ("major_ethical_risk", "unapproved_product", "radiation")
DATE_FIELDS = ("as_of", "in_use_since", FILED_ON)
LEVELS = {"1": 1, "2": 2, "3": 3, "none": None}
EXTRA_EVENT_ROWS = 1  # blank event rows offered besides the filled ones
MAX_EVENT_ROWS = 101  # one more than a request may have, so the engine says so
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# what the technology field takes for a catalogue code rather than a name: S19, G05, CQ01, hunan:S19
CODE = re.compile(r"^(?:[A-Za-z0-9-]+:)?[A-Za-z]{1,3}\d{1,3}$")


@dataclass
class EventRow:
    type: str = ""
    date: str = ""
    error: str = ""


@dataclass
class Form:
    """What the person entered (for re-rendering), the request built from it, and the problems
    found, by form field name (`ev.2` is the third event row)."""

    values: dict = field(default_factory=dict)
    grounds: list[str] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)
    request: dict | None = None
    errors: dict[str, str] = field(default_factory=dict)
    event_rows: list[int] = field(default_factory=list)  # request event index -> form row

    @property
    def submitted(self) -> bool:
        return self.request is not None or bool(self.errors)


def _clean(value: str | None, limit: int = 1000) -> str:
    """Trimmed; cut far beyond any field's limit (the engine still reports a value that is too long)."""
    return (value or "").strip()[:limit]


def field_label(path: str) -> str:
    """The Chinese name of a request field (`events.0.date` -> 事件日期)."""
    names = vocabulary().raw.get("request_fields", {})
    generic = re.sub(r"\.\d+(?=\.|$)", "", path)
    return names.get(path) or names.get(generic) or path


def parse_query(items: Iterable[tuple[str, str]]) -> Form:
    """A `Form` from the query's (name, value) pairs. An empty query is an unsubmitted form."""
    multi: dict[str, list[str]] = {}
    for k, v in items:
        multi.setdefault(k, []).append(v)
    one = {k: _clean(v[0]) for k, v in multi.items()}
    form = Form(values=one, grounds=[g for g in multi.get("pg", []) if g])
    types, dates = multi.get("ev", []), multi.get("ed", [])
    for i in range(min(max(len(types), len(dates)), MAX_EVENT_ROWS)):
        row = EventRow(_clean(types[i] if i < len(types) else ""), _clean(dates[i] if i < len(dates) else ""))
        form.events.append(row)
    if not any(v for k, v in one.items() if k in PATHS or k == FILED_ON) and not any(
        r.type or r.date for r in form.events
    ):
        return form
    _build(form)
    return form


def _build(form: Form) -> None:
    v = form.values
    req: dict = {}
    if v.get("as_of"):
        req["as_of"] = v["as_of"]
    inst: dict = {}
    _province(v)
    if v.get("jurisdiction"):
        inst["jurisdiction"] = v["jurisdiction"]
    else:
        form.errors["jurisdiction"] = message("institution.jurisdiction", "")
    if v.get("province"):
        inst["province"] = v["province"]
    if v.get("inst_name"):
        inst["name"] = v["inst_name"]
    if v.get("category"):
        inst["category"] = v["category"]
    if v.get("level"):
        if v["level"] in LEVELS:
            inst["level"] = LEVELS[v["level"]]
        else:
            form.errors["level"] = message("institution.level", v["level"])
    if v.get("tcm") == "yes":
        inst["tcm"] = True
    req["institution"] = inst

    tech: dict = {}
    if v.get("tech"):
        tech["code" if CODE.match(v["tech"]) else "name"] = v["tech"]
    if v.get("grade"):
        if v["grade"] in ("1", "2", "3", "4"):
            tech["surgery_grade"] = int(v["grade"])
        else:
            form.errors["grade"] = message("technology.surgery_grade", v["grade"])
    for name in TRISTATE:
        if v.get(name) in ("yes", "no"):
            tech[name] = v[name] == "yes"
    for name in YES_ONLY:
        if v.get(name) == "yes":
            tech[name] = True
    if form.grounds:
        tech["prohibited_grounds"] = list(dict.fromkeys(form.grounds))
    if v.get("in_use_since"):
        tech["in_use_since"] = v["in_use_since"]
    if v.get("indication"):
        tech["indication"] = v["indication"]
    filed_on = v.get(FILED_ON)
    if filed_on:
        from engine.inference.request import parse_date

        try:
            parse_date(filed_on)
            tech["filed"] = True
        except ValueError:
            form.errors[FILED_ON] = message("events.date", filed_on)
    if tech:
        if "name" not in tech and "code" not in tech:
            form.errors["tech"] = "请填写技术名称或目录编号（或清空本栏下的各项技术情况）"
        req["technology"] = tech

    events = []
    for i, row in enumerate(form.events):
        if not row.type and not row.date:
            continue
        if not row.type:
            row.error = "请选择事件类型"
        elif not row.date:
            row.error = "请填写事件日期"
        else:
            form.event_rows.append(i)
            events.append({"type": row.type, "date": row.date})
    if filed_on and FILED_ON not in form.errors:
        events.append({"type": "filing_submitted", "date": filed_on})  # after the rows: their indexes hold
    if events:
        req["events"] = events
    for i, row in enumerate(form.events):
        if row.error:
            form.errors[f"ev.{i}"] = row.error
    if not form.errors:
        form.request = req


def _province(v: dict) -> None:
    """A province picked on the form decides the jurisdiction where none (or 全国) is chosen: an encoded
    province's own jurisdiction, any other the national floor (whose answer then warns that the province's
    rules are not encoded). A province that disagrees with a chosen province is left to the engine."""
    name = v.get("province")
    if not name:
        return
    entry = next((p for p in vocabulary().raw.get("provinces") or [] if name in (p["name"], p["short"])), None)
    national = next((j.id for j in vocabulary().jurisdictions if j.level == "national"), None)
    if entry is None or v.get("jurisdiction") not in (None, "", national):
        return
    v["jurisdiction"] = entry.get("jurisdiction") or national or ""


def message(path: str, value) -> str:
    """A Chinese message for a bad value at request path `path` (never a Python value such as None)."""
    generic = re.sub(r"\.\d+(?=\.|$)", "", path)
    shown = "" if value is None else str(value)
    if generic == "institution.jurisdiction" or generic == "institution":
        names = "、".join(j.name for j in vocabulary().jurisdictions)
        return f"请选择所在地区（{names}）" if not shown else f"“{shown}”不是支持的地区（支持：{names}）"
    if generic in ("as_of", "technology.in_use_since", "events.date"):
        if shown and _DATE.match(shown):
            return f"{shown} 不是存在的日期，请核对年、月、日"
        return f"“{shown}”不是有效日期，请按 年-月-日 填写（如 2025-03-03）" if shown else "请填写日期（年-月-日）"
    if generic == "technology.surgery_grade":
        return "手术分级须为 1 至 4 级"
    if generic == "institution.level":
        return "机构级别须为一级、二级、三级或未定级"
    if generic == "technology":
        return "请填写技术名称或目录编号"
    if generic == "events":
        from engine.kb.schemas import load_schema

        most = load_schema("request")["properties"]["events"].get("maxItems")
        return f"事件最多 {most} 项" if most else "事件填写有误"
    if generic in ("institution.category", "events.type", "technology.prohibited_grounds"):
        return f"{field_label(generic)}须从列表中选择"
    if generic in ("technology.name", "technology.code", "institution.name", "events.note"):
        return f"{field_label(generic)}过长或为空"
    return f"{field_label(generic)}填写有误"


def _engine_message(error: dict, value) -> str:
    """The Chinese message for one of the engine's {path, message}: the form's own wording for the
    fields it knows, else engine.render.errors (never the English message)."""
    generic = re.sub(r"\.\d+(?=\.|$)", "", error.get("path") or "")
    if generic in _OWN_MESSAGES:
        return message(error.get("path") or "", value)
    from engine.render.errors import error_text

    return error_text(error)


_OWN_MESSAGES = {
    "institution",
    "institution.jurisdiction",
    "as_of",
    "technology.in_use_since",
    "events.date",
    "technology.surgery_grade",
    "institution.level",
    "technology",
    "institution.category",
    "events.type",
    "events",
    "technology.prohibited_grounds",
    "technology.name",
    "technology.code",
    "institution.name",
    "events.note",
}


def engine_errors(form: Form, errors: list[dict]) -> None:
    """Attach the engine's InvalidRequest problems to the form fields they concern (in Chinese)."""
    req = form.request or {}
    for e in errors:
        path = e.get("path") or ""
        value = _value_at(req, path)
        parts = path.split(".")
        if parts[0] == "events" and len(parts) > 1 and parts[1].isdigit():
            idx = int(parts[1])
            row = form.event_rows[idx] if idx < len(form.event_rows) else 0
            key = f"ev.{row}"
            if row < len(form.events):
                form.events[row].error = _engine_message(e, value)
        elif path in FIELD_OF:
            key = FIELD_OF[path]
        elif path.startswith("technology.prohibited_grounds"):
            key = "pg"
        elif path == "institution":
            key = "jurisdiction"
        elif path.startswith("technology"):
            key = "tech"
        else:
            key = "_form"
        form.errors.setdefault(key, _engine_message(e, value))
    form.request = None


def _value_at(data, path: str):
    cur = data
    for p in path.split(".") if path else []:
        if isinstance(cur, list) and p.isdigit() and int(p) < len(cur):
            cur = cur[int(p)]
        elif isinstance(cur, dict) and p in cur:
            cur = cur[p]
        else:
            return None
    return cur


# --------------------------------------------------------------------------- what the form asks


@functools.lru_cache(maxsize=1)
def relevance() -> dict[str, frozenset[str]]:
    """For each request field (and `events.TYPE`), the jurisdictions whose applicable rules use it.

    A question is asked only where it matters; the technology's name and grade always matter
    (the catalogues use them), so they are not listed here.
    """
    from engine.kb.loader import knowledge_base

    kb = knowledge_base()
    by_doc: dict[str, set[str]] = {}
    for rule in kb.rules:
        used = by_doc.setdefault(rule.document, set())
        for fact in rule.facts_used:
            if fact.startswith("technology.ground.") or fact == "technology.any_prohibited_ground":
                used.add("technology.prohibited_grounds")
            elif fact.startswith(("technology.", "institution.", "events.")):
                used.add(fact)
    out: dict[str, set[str]] = {}
    for j in kb.vocabulary.jurisdictions:
        for doc in j.documents:
            for fact in by_doc.get(doc, ()):
                out.setdefault(fact, set()).add(j.id)
    return {k: frozenset(v) for k, v in out.items()}


def matters(path: str, jurisdiction: str | None) -> bool:
    """Whether the question for `path` is worth asking in `jurisdiction` (all of them when None)."""
    where = relevance().get(path)
    if where is None:
        return False
    return jurisdiction is None or jurisdiction in where


def jurisdiction_id(spelling: str | None) -> str | None:
    """The jurisdiction id for an id or Chinese name, None when empty or unknown."""
    if not spelling:
        return None
    for j in vocabulary().jurisdictions:
        if spelling == j.id or spelling == j.name or spelling in j.aliases:
            return j.id
    return None


def today() -> dt.date:
    from engine.inference.request import today_in_china

    return today_in_china()
