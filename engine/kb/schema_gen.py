"""Generate the published JSON Schemas (request, response, rules) from kb/vocabulary.yaml.

The schemas are committed under kb/schema/ (the HTTP service publishes them in its OpenAPI
document); `medtech kb schemas` rewrites them and a test fails when they drift.
"""

from __future__ import annotations

import json

from engine.kb.vocabulary import vocabulary
from engine.paths import SCHEMA_DIR
from engine.textsafe import LINE_PATTERN, TEXT_PATTERN

DRAFT = "https://json-schema.org/draft/2020-12/schema"
DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$", "format": "date"}
CITE_REF = {"type": "string", "pattern": r"^[a-z0-9-]+:[a-z0-9_]+$", "description": "document:eid"}


def _digits(lo: int, hi: int) -> str:
    return str(lo) if lo == hi else f"[{lo}-{hi}]"


def year_pattern(first: int, last: int) -> str:
    """A regular expression (no anchors) matching exactly the four-digit years first..last:
    1949..2099 -> `(?:1949|19[5-9][0-9]|20[0-9][0-9])`."""
    parts = []
    y = first
    while y <= last:
        if y % 100 == 0 and y + 99 <= last:  # a whole century
            parts.append(f"{y // 100:02d}[0-9][0-9]")
            y += 100
        elif y % 10 == 0 and y + 9 <= last:  # whole decades up to the century's end
            end = min(last - (last + 1) % 10 if (last + 1) % 10 else last, y - y % 100 + 99)
            d0, d1 = (y % 100) // 10, (end % 100) // 10
            parts.append(f"{y // 100:02d}{_digits(d0, d1)}[0-9]")
            y = y - y % 100 + d1 * 10 + 10
        else:  # the years left in this decade
            end = min(last, y - y % 10 + 9)
            parts.append(f"{y // 10:03d}{_digits(y % 10, end % 10)}")
            y = end + 1
    return "(?:" + "|".join(parts) + ")"


def request_date(description: str) -> dict:
    """A request date: YYYY-MM-DD, a day that exists, inside the supported years (`supported_dates`
    in kb/vocabulary.yaml), described with `description` and the range."""
    first, last = vocabulary().supported_dates()
    years = year_pattern(int(first[:4]), int(last[:4]))
    return {
        "type": "string",
        "pattern": rf"^{years}-\d{{2}}-\d{{2}}$",
        "format": "date",
        "description": f"{description} (YYYY-MM-DD, a day that exists, from {first} to {last})",
    }


def _obj(properties: dict, required: list[str] | None = None, **extra) -> dict:
    out = {"type": "object", "additionalProperties": False, "properties": properties}
    if required:
        out["required"] = required
    out.update(extra)
    return out


def _d(schema: dict, description: str) -> dict:
    """`schema` with a description (a new dict)."""
    return {**schema, "description": description}


def vocab_enum(key: str, what: str, *, nullable: bool = False, null_means: str = "") -> dict:
    """A string enum of a kb/vocabulary.yaml vocabulary: the ids as `enum`, their Chinese meanings in
    `x-enum-descriptions` (same order; what openapi-generator and Redoc show) and in the description."""
    names = vocabulary().names(key)
    meanings = "; ".join(f"`{k}` {v}" for k, v in names.items())
    out: dict = {
        "type": ["string", "null"] if nullable else "string",
        "enum": list(names) + ([None] if nullable else []),
    }
    out["description"] = f"{what}. Values: {meanings}" + (f"; null: {null_means}" if nullable else "")
    out["x-enum-descriptions"] = list(names.values()) + ([null_means] if nullable else [])
    return out


def province_enum() -> dict:
    """The province-level divisions `institution.province` accepts (name or short name), or null."""
    provinces = vocabulary().raw.get("provinces") or []
    spellings = [s for p in provinces for s in (p["name"], p["short"])]
    meanings = [
        p["name"] + (f"（已收录：{p['jurisdiction']}）" if p.get("jurisdiction") else "（未收录，按国家规定作答）")
        for p in provinces
        for _ in (p["name"], p["short"])
    ]
    encoded = "、".join(p["name"] for p in provinces if p.get("jurisdiction"))
    return {
        "type": ["string", "null"],
        "enum": spellings + [None],
        "x-enum-descriptions": meanings + ["不指定"],
        # identifiers for generated code (a Chinese name is no identifier): province_1, province_1_short …
        "x-enum-varnames": [f"province_{i}{suffix}" for i in range(1, len(provinces) + 1) for suffix in ("", "_short")]
        + ["unset"],
        "description": "the 省级 region the institution is in, when jurisdiction is national (e.g. 河南): its own "
        f"rules are not encoded, and the answer says so. Encoded as jurisdictions: {encoded}; with one of them "
        "the province must be that jurisdiction's",
    }


def jurisdiction_enum(what: str) -> dict:
    """The jurisdiction ids as an enum; the other accepted spellings (Chinese names, short names) are listed in
    `x-aliases` and the description, not as enum members: a request may use them, the service reads them as the id
    (engine.inference.request), and generated clients get one enum member per jurisdiction."""
    v = vocabulary()
    ids = [j.id for j in v.jurisdictions]
    aliases = {s: v.jurisdiction(s).id for s in v.jurisdiction_spellings() if s not in ids}
    named = "; ".join(f"`{j.id}` {j.name}" for j in v.jurisdictions)
    return {
        "type": "string",
        "enum": ids,
        "x-enum-descriptions": [j.name for j in v.jurisdictions],
        "x-aliases": aliases,
        "description": f"{what}. Ids: {named}; the Chinese names and short names ({', '.join(aliases)}) are accepted "
        "too and read as the id",
    }


def _institution() -> dict:
    return _obj(
        {
            "jurisdiction": jurisdiction_enum("where the institution is (whose documents apply)"),
            "name": {
                "type": "string",
                "maxLength": 200,
                "pattern": LINE_PATTERN,
                "description": "the institution's name (shown, not used); no control characters",
            },
            "category": vocab_enum("institution_categories", "kind of institution (default hospital)"),
            "level": {
                "type": ["integer", "null"],
                "enum": [1, 2, 3, None],
                "x-enum-varnames": ["grade_1", "grade_2", "grade_3", "ungraded"],
                "description": "医院等级: 1, 2, 3 (一级, 二级, 三级), or null for ungraded; unknown when left out",
                "x-enum-descriptions": ["一级", "二级", "三级", "未定级"],
            },
            "tcm": {
                "type": "boolean",
                "description": "a traditional Chinese medicine institution (中医医疗机构); default false",
            },
            "province": province_enum(),
        },
        ["jurisdiction"],
        description="the medical institution (医疗机构) asking",
    )


def _technology() -> dict:
    out = _obj(
        {
            "name": {
                "type": "string",
                "minLength": 1,
                "maxLength": 200,
                "pattern": LINE_PATTERN,
                "description": "catalogue name, common name or abbreviation (冠心病介入治疗, PCI, ECMO …)",
            },
            "code": {
                "type": "string",
                "minLength": 1,
                "maxLength": 40,
                "pattern": LINE_PATTERN,
                "description": "catalogue code instead of a name (S19), optionally qualified by catalogue (hunan:S19)",
            },
            "surgery_grade": {
                "type": "integer",
                "minimum": 1,
                "maximum": 4,
                "description": "手术分级 1 to 4 (needed for grade-qualified catalogue entries)",
            },
            "first_in_institution": {
                "type": "boolean",
                "description": "first use of the technique in this institution (本机构首次应用); unknown when left out",
            },
            "first_in_jurisdiction": {
                "type": "boolean",
                "description": "not yet used anywhere in this province or municipality; unknown when left out",
            },
            "major_ethical_risk": {
                "type": "boolean",
                "description": "the technique carries a major ethical risk (存在重大伦理风险); default false",
            },
            "unapproved_product": {
                "type": "boolean",
                "description": "relies on a drug, device or similar product not yet approved for market; default false",
            },
            "prohibited_grounds": {
                "type": "array",
                "uniqueItems": True,
                "description": "grounds on which the technique is prohibited (禁止类), if any",
                "items": {"$ref": "#/$defs/prohibited_ground"},
            },
            "in_use_since": request_date("already in clinical use at the institution since this day"),
            "indication": {
                "type": "string",
                "minLength": 1,
                "maxLength": 200,
                "description": "what the technique is used to treat (阿尔茨海默病, 2型糖尿病 …), free text matched like "
                "names: some prohibited listings ban a technique for one indication only",
            },
            "radiation": {
                "type": "boolean",
                "description": "involves radiological diagnosis or treatment (放射诊疗); default false",
            },
            "filed": {
                "type": ["boolean", "null"],
                "description": "whether the technique was filed (备案): true filed (give the day as a filing_submitted "
                "event), false not filed (a filing past its day is then overdue), null or absent: not said (to confirm)",
            },
            "approved_before_measures": {
                "type": ["boolean", "null"],
                "description": "approved (准入) or filed before the national measures took effect (2018-11-01), as "
                "Chongqing's notice 三、（二）四是 asks; null or absent: not said",
            },
        },
        description="the technique asked about (a name or a code); without it only institution-wide duties are returned",
    )
    # a name, or else a code: `if`/`then` rather than a constraint-only anyOf, which client generators type as
    # `unknown` (the object's own properties stay its type)
    out["if"], out["then"] = {"not": {"required": ["name"]}}, {"required": ["code"]}
    return out


def _event() -> dict:
    return _obj(
        {
            "type": vocab_enum("event_types", "what happened"),
            "date": request_date("the day it happened or will happen"),
            "note": {
                "type": "string",
                "maxLength": 500,
                "pattern": TEXT_PATTERN,
                "description": "free text (shown, not used); a tab but no other control character",
            },
        },
        ["type", "date"],
        description="one event",
    )


def request_schema() -> dict:
    """The request schema; institution, technology and event are named `$defs` (named types in generated clients)."""
    return {
        "$schema": DRAFT,
        "$id": "https://medtech-rules.example/schema/request.schema.json",
        "title": "Decision request",
        "description": "A question about one institution and (optionally) one technology, with what has happened.",
        "$defs": {
            "institution": _institution(),
            "technology": _technology(),
            "event": _event(),
            "prohibited_ground": vocab_enum("prohibited_grounds", "a ground for prohibition"),
        },
        **_obj(
            {
                "id": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 128,
                    "description": "your id for this request (a row or case number): echoed as `id` in its answer, "
                    "so that the answers of a batch can be matched by it; not part of the decision",
                },
                "as_of": request_date("the day the question is asked; default today in Asia/Shanghai"),
                "institution": {"$ref": "#/$defs/institution"},
                "technology": {"$ref": "#/$defs/technology"},
                "events": {
                    "type": "array",
                    "maxItems": 100,
                    "description": "what has happened or is planned, each with its day",
                    "items": {"$ref": "#/$defs/event"},
                },
            },
            ["institution"],
        ),
    }


NULLABLE_STRING = {"type": ["string", "null"]}
NULLABLE_DATE = {"type": ["string", "null"], "format": "date"}


# a catalogue listing's scope and grades, shared with the service's own catalogue endpoints
LISTING_SCOPE = {
    "type": "string",
    "enum": ["national", "provincial"],
    "x-enum-descriptions": ["国家目录", "省级目录"],
    "description": "`national` 国家限制类技术目录 or `provincial` 省级增补目录",
}


def listing_grades(description: str) -> dict:
    """The `grades` of a catalogue entry: the surgery grades it is limited to, or null for every grade."""
    return {"type": ["array", "null"], "items": {"type": "integer"}, "description": description}


def _citation() -> dict:
    return _obj(
        {
            "document": {
                "type": "string",
                "description": f"document id ({', '.join(vocabulary().documents)})",
            },
            "eid": {
                "type": "string",
                "description": "provision id after Akoma Ntoso (art_11__para_1, sec_2__subsec_2, att_1)",
            },
            "label": {"type": "string", "description": "the provision's Chinese label (第十一条第一款, 二、（二）)"},
            "quote": {
                "type": "string",
                "description": "the provision's verbatim text; left out with ?quotes=once (then in `provisions`) or ?quotes=none",
            },
        },
        ["document", "eid", "label"],
        description="a provision relied on, quoted",
    )


def _deadline() -> dict:
    base = {
        "kind": vocab_enum("deadline_kinds", "how the due day is computed"),
        "days": {"type": "integer", "description": "number of (working) days, for the *_days_* kinds"},
        "months": {"type": "integer", "description": "number of months, for the months_* kinds"},
        "event": {
            "type": "string",
            "description": "the event type the period counts from (see the request's events.type)",
        },
        "date": _d(NULLABLE_DATE, "the day the period counts from, or the fixed day (on_date); null when unknown"),
        "text": {
            "type": "string",
            "description": "the deadline in the provision's words (开展首例临床应用之日起15个工作日内)",
        },
        "due": _d(NULLABLE_DATE, "the due day this wording gives (YYYY-MM-DD), or null when none can be computed"),
        "provisional": {
            "type": "boolean",
            "description": "true when counted on a provisional holiday calendar (see warning calendar_provisional)",
        },
        "earliest": _d(
            NULLABLE_DATE, "when `due` is null but bounded (a date known only to its year): the first day it can be"
        ),
        "latest": _d(
            NULLABLE_DATE,
            "when `due` is null but bounded: the last day it can be; past it the duty is never pending",
        ),
        "citations": {
            "type": "array",
            "items": _def("citation"),
            "description": "the provisions that set this deadline",
        },
        "occurrences": {
            "type": "array",
            "description": "a duty owed per occurrence (each discharged patient) or per period (每季度第1周): every occurrence "
            "up to the next one not yet past; the obligation's due and status are that next one's",
            "items": _obj(
                {
                    "event_date": _d(DATE, "the day of the event this occurrence counts from"),
                    "period": {"type": "string", "description": "the period reported on, e.g. 2025-Q3"},
                    "due": _d(NULLABLE_DATE, "the day this occurrence is due, or null"),
                    "status": vocab_enum("statuses", "this occurrence's status on as_of"),
                },
                ["due", "status"],
            ),
        },
    }
    alt = _obj(dict(base), ["kind", "text"], description="another applicable provision's deadline for the same act")
    return _obj(
        {
            **base,
            "alternatives": {
                "type": "array",
                "items": alt,
                "description": "the other applicable deadlines for the same act (the strictest is `due`)",
            },
        },
        ["kind", "text"],
        description="when the act is due, and why",
    )


def _def(name: str) -> dict:
    return {"$ref": f"#/$defs/{name}"}


OPEN_ENUM = (
    "open: a minor API version may add values (docs/api-compatibility.md); a client must accept a value it does not "
    "know"
)


def open_enums(node):
    """`node` (a response schema) with every string enum marked `x-extensible-enum: true`, its description saying
    so: the answer's vocabularies grow in minor API versions, and clients must accept values they do not know."""
    if isinstance(node, list):
        return [open_enums(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: open_enums(v) for k, v in node.items()}
    if "enum" in out and any(isinstance(v, str) for v in out["enum"]):
        out["x-extensible-enum"] = True
        if out.get("description") and OPEN_ENUM not in out["description"]:
            out["description"] += f" ({OPEN_ENUM})"
    return out


def response_schema() -> dict:
    """The response schema; citation, deadline, obligation and listing are named `$defs` (named types in generated
    clients); its enums are open (`open_enums`)."""
    return open_enums(_response_schema())


def _response_schema() -> dict:
    citation = _def("citation")
    cites = lambda what: {"type": "array", "items": citation, "description": what}  # noqa: E731
    obligation = _obj(
        {
            "id": {
                "type": "string",
                "description": "stable id of the act (file-restricted-technology); one act may combine several rules",
            },
            "action": vocab_enum("actions", "what has to be done"),
            "actor": vocab_enum("actors", "who has to do it"),
            "addressee": vocab_enum(
                "addressees", "to whom (or where) it is done", nullable=True, null_means="无特定对象"
            ),
            "summary": {
                "type": "string",
                "description": "the act in Chinese, in the most specific applicable provision's words",
            },
            "due": _d(NULLABLE_DATE, "the day it is due (YYYY-MM-DD), or null when no date can be computed"),
            "deadline": {
                "anyOf": [_def("deadline"), {"type": "null"}],
                "description": "the deadline and the provisions that set it; null when none applies",
            },
            "status": vocab_enum("statuses", "where it stands on as_of"),
            "materials": {
                "type": "array",
                "description": "what has to be submitted, where the provisions list it",
                "items": _obj(
                    {
                        "id": {"type": "string", "description": "stable id of the material"},
                        "text": {"type": "string", "description": "the material in the provision's words"},
                        "citations": cites("the provisions that list it"),
                    },
                    ["id", "text"],
                    description="one material",
                ),
            },
            "citations": {
                "type": "array",
                "minItems": 1,
                "items": citation,
                "description": "every applicable provision that creates the duty",
            },
            "consequences": {
                "type": "array",
                "description": "what the provisions attach to not doing it (法律责任)",
                "items": _obj(
                    {
                        "citations": cites("the provisions attaching it"),
                        "text": {"type": "string", "description": "the consequence in Chinese"},
                    },
                    ["citations", "text"],
                    description="one consequence",
                ),
            },
            "rules": {"type": "array", "items": {"type": "string"}, "description": "ids of the rules behind the act"},
            "done_late_days": {
                "type": "integer",
                "description": "only for a done act done after its day: how many days late (已完成（逾期 N 天）)",
            },
            "if_not_done": _obj(
                {
                    "overdue_days": {
                        "type": ["integer", "null"],
                        "description": "days overdue (from `due`, or from deadline.latest) if it was not done",
                    },
                    "what_now": {"type": "string", "description": "what to do now if it was not done, in Chinese"},
                    "citations": cites("the provisions attaching consequences to not doing it (or creating it)"),
                    "consequences": {
                        "type": "array",
                        "description": "what the provisions attach to not doing it",
                        "items": _obj(
                            {
                                "citations": cites("the provisions attaching it"),
                                "text": {"type": "string", "description": "the consequence in Chinese"},
                            },
                            ["citations", "text"],
                        ),
                    },
                },
                ["overdue_days", "what_now", "citations"],
                description="only with status to_confirm past its day: what holds if it was not done",
            ),
        },
        [
            "id",
            "action",
            "actor",
            "addressee",
            "summary",
            "due",
            "deadline",
            "status",
            "materials",
            "citations",
            "consequences",
        ],
        description="one duty: what, who, to whom, by when, on which provisions",
    )
    listing = _obj(
        {
            "catalog": {"type": "string", "description": "catalogue version id (national-2022, hunan-2018 …)"},
            "code": {"type": "string", "description": "the entry's code in that catalogue"},
            "name": {"type": "string", "description": "the entry's name in that catalogue"},
            "scope": LISTING_SCOPE,
            "grades": listing_grades("the surgery grades the entry is limited to; null: every grade"),
            "citation": {
                "anyOf": [citation, {"type": "null"}],
                "description": "the provision that prints the entry, or null",
            },
        },
        ["catalog", "code", "name", "scope"],
        description="a catalogue entry that lists the technique",
    )
    return {
        "$schema": DRAFT,
        "$id": "https://medtech-rules.example/schema/response.schema.json",
        "title": "Decision response",
        "description": "The answer: which documents apply, how the technique is classed, what the institution and the authorities have to do.",
        "$defs": {"citation": _citation(), "deadline": _deadline(), "obligation": obligation, "listing": listing},
        **_obj(
            {
                "id": {"type": "string", "description": "the request's `id`, echoed; absent when it had none"},
                "decision_id": {
                    "type": "string",
                    "pattern": "^dec_[0-9a-f]{32}$",
                    "description": "a deterministic id of this decision: a hash of the canonical request and the "
                    "knowledge-base digest (the same request and digest give the same id and the same answer); quote it "
                    "in audit records",
                },
                "as_of": {**DATE, "description": "the day the question was asked (YYYY-MM-DD)"},
                "jurisdiction": _obj(
                    {
                        "id": {
                            "type": "string",
                            "description": f"jurisdiction id ({', '.join(j.id for j in vocabulary().jurisdictions)})",
                        },
                        "name": {"type": "string", "description": "its Chinese name"},
                    },
                    ["id", "name"],
                    description="the jurisdiction answered for",
                ),
                "knowledge_base": _obj(
                    {
                        "version": {"type": "string", "description": "knowledge-base version"},
                        "digest": {
                            "type": "string",
                            "description": "sha256 digest of the encoding: same request + same digest = same answer",
                        },
                        "current_to": {
                            "type": "string",
                            "format": "date",
                            "description": "the latest day the encoded documents were checked against the published "
                            "law (kb/version.yaml): later notices are not in the answer",
                        },
                        "national_notices": {
                            "type": "array",
                            "description": "the national notices issued under the measures that the knowledge base "
                            "includes (whether or not in force on the day asked)",
                            "items": _obj(
                                {
                                    "id": {"type": "string", "description": "document id"},
                                    "title": {"type": "string", "description": "its title"},
                                    "in_force_from": {
                                        "type": ["string", "null"],
                                        "description": "the day it applies from (ISO date; null when unknown)",
                                    },
                                },
                                ["id", "title", "in_force_from"],
                                description="one national notice",
                            ),
                        },
                    },
                    ["version", "digest", "current_to", "national_notices"],
                    description="which encoding answered, and how current it is",
                ),
                "documents": {
                    "type": "array",
                    "description": "every document considered, with its status on as_of",
                    "items": _obj(
                        {
                            "id": {"type": "string", "description": "document id"},
                            "title": {"type": "string", "description": "the document's Chinese title"},
                            "status": vocab_enum("document_statuses", "the document's status on as_of"),
                        },
                        ["id", "status"],
                        description="one document",
                    ),
                },
                "technology": {
                    "anyOf": [
                        {"type": "null"},
                        _obj(
                            {
                                "query": _d(NULLABLE_STRING, "the name or code asked about"),
                                "id": _d(NULLABLE_STRING, "canonical technology id, or null when not recognised"),
                                "name": _d(NULLABLE_STRING, "canonical Chinese name, or null when not recognised"),
                                "class": vocab_enum("technology_classes", "how the technique is classed"),
                                "listings": {
                                    "type": "array",
                                    "items": _def("listing"),
                                    "description": "the catalogue entries in force that list it",
                                },
                                "candidates": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "description": "a candidate technology ({id, name, …})",
                                    },
                                    "description": "the techniques an ambiguous name may mean",
                                },
                                "citations": cites("the provisions behind the class"),
                            },
                            ["query", "id", "name", "class", "listings"],
                        ),
                    ],
                    "description": "the technique and its class; null when the request names none",
                },
                "obligations": {
                    "type": "array",
                    "items": _def("obligation"),
                    "description": "the institution's duties (actor institution or physician)",
                },
                "authority_actions": {
                    "type": "array",
                    "items": _def("obligation"),
                    "description": "what the authorities have to do (e.g. complete the filing)",
                },
                "warnings": {
                    "type": "array",
                    "description": "what the caller should know about this answer",
                    "items": _obj(
                        {
                            "code": vocab_enum("warning_codes", "the kind of warning"),
                            "message": {"type": "string", "description": "the warning in words"},
                        },
                        ["code", "message"],
                        description="one warning",
                    ),
                },
                "missing_facts": {
                    "type": "array",
                    "description": "facts the answer depends on that the request did not give",
                    "items": _obj(
                        {
                            "path": {
                                "type": "string",
                                "description": "the request field to give (technology.surgery_grade)",
                            },
                            "question": {"type": "string", "description": "the question to ask, in Chinese"},
                            "why": {"type": "string", "description": "what depends on it"},
                            "outcomes": {
                                "type": "array",
                                "description": "for a small closed set of answers: what each answer would mean",
                                "items": _obj(
                                    {
                                        "value": {"description": "one answer (a grade, true or false, a name, a code)"},
                                        "label": {
                                            "type": "string",
                                            "description": "what the answer means, where the value does not say it "
                                            "(a qualified code's technique)",
                                        },
                                        "class": vocab_enum("technology_classes", "the class this answer gives"),
                                        "next": {
                                            "anyOf": [
                                                _obj(
                                                    {
                                                        "action": vocab_enum("actions", "the next act"),
                                                        "due": _d(NULLABLE_DATE, "its due day, or null"),
                                                        "status": vocab_enum("statuses", "its status on as_of"),
                                                        "text": {"type": "string", "description": "the verdict then"},
                                                    },
                                                    ["action", "due"],
                                                ),
                                                {"type": "null"},
                                            ],
                                            "description": "the next act this answer gives (its verdict), or null",
                                        },
                                    },
                                    ["value", "class", "next"],
                                    description="one answer and what it would mean",
                                ),
                            },
                        },
                        ["path", "question", "why"],
                        description="one missing fact",
                    ),
                },
                "verdict": _obj(
                    {
                        "text": {"type": "string", "description": "the one line every surface leads with, in Chinese"},
                        "action": {
                            "anyOf": [vocab_enum("actions", "the act it speaks of"), {"type": "null"}],
                            "description": "the act the verdict speaks of; null when nothing is owed",
                        },
                        "due": _d(NULLABLE_DATE, "that act's due day, or null"),
                        "status": {
                            "anyOf": [vocab_enum("statuses", "that act's status"), {"type": "null"}],
                            "description": "that act's status on as_of; null when nothing is owed",
                        },
                    },
                    ["text", "action", "due", "status"],
                    description="the verdict, chosen in the order: do not use, stop, immediate reports, overdue or "
                    "to confirm with if_not_done, the earliest dated act, nothing owed",
                ),
                "trace": {
                    "type": "array",
                    "description": "the rules that fired, in order, with the facts they matched; left out with "
                    "?trace=false",
                    "items": _obj(
                        {
                            "rule": {"type": "string", "description": "rule id"},
                            "stage": {"type": "string", "description": "classify, obligation or authority"},
                            "facts": {"type": "object", "description": "the facts the rule matched"},
                            "citations": cites("the provisions the rule encodes"),
                        },
                        ["rule", "facts", "citations"],
                        description="one rule that fired",
                    ),
                },
                "provisions": {
                    "type": "object",
                    "description": "only with ?quotes=once: every cited provision once, keyed document:eid, with its quote",
                    "additionalProperties": _obj(
                        {
                            "document": {"type": "string", "description": "document id"},
                            "eid": {"type": "string", "description": "provision id"},
                            "label": {"type": "string", "description": "Chinese label"},
                            "quote": {"type": "string", "description": "verbatim text"},
                        },
                        ["document", "eid", "label", "quote"],
                        description="one provision",
                    ),
                },
            },
            [
                "decision_id",
                "as_of",
                "jurisdiction",
                "knowledge_base",
                "documents",
                "technology",
                "obligations",
                "authority_actions",
                "warnings",
                "missing_facts",
                "verdict",
            ],
        ),
    }


def _condition_defs() -> dict:
    leaf_ops = {
        "eq": {},
        "ne": {},
        "in": {"type": "array"},
        "not_in": {"type": "array"},
        "gte": {"type": "number"},
        "lte": {"type": "number"},
        "gt": {"type": "number"},
        "lt": {"type": "number"},
        "present": {"type": "boolean"},
        "before": {"$ref": "#/$defs/dateref"},
        "on_or_after": {"$ref": "#/$defs/dateref"},
    }
    leaf = _obj(
        {"fact": {"type": "string", "pattern": r"^[a-z_]+(\.[a-z_]+)*$"}, **leaf_ops},
        ["fact"],
        minProperties=2,
        maxProperties=2,
    )
    return {
        "condition": {
            "oneOf": [
                leaf,
                _obj({"all": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/condition"}}}, ["all"]),
                _obj({"any": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/condition"}}}, ["any"]),
                _obj({"not": {"$ref": "#/$defs/condition"}}, ["not"]),
            ]
        },
        "dateref": {
            "oneOf": [
                DATE,
                _obj(
                    {
                        "document": {"type": "string"},
                        "date": {"enum": ["published", "in_force_from", "in_force_until"]},
                    },
                    ["document", "date"],
                ),
            ]
        },
    }


def rules_schema() -> dict:
    v = vocabulary()
    deadline = _obj(
        {
            "kind": {"enum": v.ids("deadline_kinds")},
            "days": {"type": "integer", "minimum": 0},
            "months": {"type": "integer", "minimum": 0},
            "event": {"type": "string", "enum": v.ids("event_types")},
            "date": {"$ref": "#/$defs/dateref"},
            "text": {"type": "string", "minLength": 1},
            "cite": {"type": "array", "items": CITE_REF},
            # a stricter reading of an imprecise period (每季度第1周 as the quarter's first calendar days),
            # shown as an alternative with its earlier due day; the rule's own reading stays `due`
            "stricter": _obj(
                {"calendar_days": {"type": "integer", "minimum": 1}, "text": {"type": "string", "minLength": 1}},
                ["calendar_days", "text"],
            ),
        },
        ["kind", "text"],
    )
    material = _obj(
        {"id": {"type": "string"}, "text": {"type": "string", "minLength": 1}, "cite": CITE_REF}, ["id", "text", "cite"]
    )
    rule = _obj(
        {
            "id": {"type": "string", "pattern": r"^[a-z]+\.[a-z0-9-]+$"},
            "stage": {"enum": ["classify", "obligation", "authority"]},
            "summary": {"type": "string", "minLength": 1},
            "when": {"$ref": "#/$defs/condition"},
            "class": {"type": "string", "enum": v.ids("technology_classes")},
            "act": {"type": "string", "pattern": r"^[a-z0-9-]+$"},
            "action": {"type": "string", "enum": v.ids("actions")},
            "actor": {"type": "string", "enum": v.ids("actors")},
            "addressee": {"type": ["string", "null"], "enum": v.ids("addressees") + [None]},
            "deadline": deadline,
            "done_by": {"type": "string", "enum": v.ids("event_types")},
            # whose law decides the rule: "as_of" (an ongoing duty), or the day a transition provision
            # speaks ({document, date}); without it, the day of the deadline's event (contract §5)
            "governed_by": {
                "oneOf": [
                    {"const": "as_of"},
                    _obj(
                        {
                            "document": {"type": "string"},
                            "date": {"enum": ["published", "in_force_from", "in_force_until"]},
                        },
                        ["document", "date"],
                    ),
                ]
            },
            "materials": {"type": "array", "items": material},
            "replaces_materials_of": {"type": "array", "items": {"type": "string"}},
            # a provincial rule that takes the place of a national one for the same act (the latter is dropped)
            "displaces": {"type": "array", "items": {"type": "string"}},
            # facts the rule's content (materials) depends on beyond its condition (for `fact_unused`)
            "uses": {"type": "array", "items": {"type": "string"}},
            "citations": {"type": "array", "minItems": 1, "items": CITE_REF},
            "consequences": {
                "type": "array",
                "items": _obj(
                    {
                        "cite": {"type": "array", "minItems": 1, "items": CITE_REF},
                        "text": {"type": "string", "minLength": 1},
                    },
                    ["cite", "text"],
                ),
            },
            "relation": _obj(
                {
                    "kind": {"enum": ["twin", "adds_to", "narrows", "overrides", "sets_deadline", "broadens"]},
                    "rule": {"type": "string"},
                    "note": {"type": "string"},
                },
                ["kind", "rule"],
            ),
            "flow": _obj(
                {
                    "chart": {"enum": ["filing", "incident"]},
                    "step": {"type": "string"},
                    "after": {"type": "array", "items": {"type": "string"}},
                },
                ["chart", "step"],
            ),
            "note": {"type": "string"},
        },
        ["id", "stage", "summary", "when", "citations"],
        allOf=[
            {"if": {"properties": {"stage": {"const": "classify"}}}, "then": {"required": ["class"]}},
            {
                "if": {"properties": {"stage": {"enum": ["obligation", "authority"]}}},
                "then": {"required": ["act", "action", "actor", "addressee", "deadline"]},
            },
        ],
    )
    # a leaf provision that creates no duty: why (kb/vocabulary.yaml not_duty_reasons) and a sentence saying so
    unencoded = _obj(
        {
            "eid": {"type": "string"},
            "reason": {"type": "string", "enum": v.ids("not_duty_reasons")},
            "note": {"type": "string", "minLength": 3},
        },
        ["eid", "reason", "note"],
    )
    return {
        "$schema": DRAFT,
        "$id": "https://medtech-rules.example/schema/rules.schema.json",
        "title": "Rules encoding one source document",
        "$defs": _condition_defs(),
        **_obj(
            {
                "document": {"type": "string"},
                "rules": {"type": "array", "items": rule},
                "not_duties": {"type": "array", "items": unencoded},
            },
            ["document", "rules"],
            patternProperties={"^x-": {"description": "YAML anchors shared by the rules (e.g. liability texts)"}},
        ),
    }


GENERATED = {"request": request_schema, "response": response_schema, "rules": rules_schema}


def render(name: str) -> str:
    """The text of one generated schema file."""
    return json.dumps(GENERATED[name](), ensure_ascii=False, indent=2) + "\n"


def write_all() -> list[str]:
    """Rewrite every generated schema under kb/schema/; returns the files written."""
    written = []
    for name in GENERATED:
        path = SCHEMA_DIR / f"{name}.schema.json"
        path.write_text(render(name), encoding="utf-8")
        written.append(str(path))
    return written
