"""The request and response shapes as TypedDicts (docs/reference.zh.md describes every field).

Open enums (docs/api-compatibility.md): the answer's vocabularies grow in minor API versions, so their
fields are typed `str`, never a closed Literal, and nothing is checked at run time: a value this client
does not know arrives as it is. The `KNOWN_*` sets say which values this version knew; `is_known`
tells them apart (for a default branch that shows the Chinese text instead).
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

# ---------------------------------------------------------------------------------------------- request


class Institution(TypedDict):
    jurisdiction: str  # an id (national, chongqing, hunan, shanghai, jilin) or its Chinese name
    name: NotRequired[str]
    category: NotRequired[str]
    level: NotRequired[Literal[1, 2, 3] | None]
    tcm: NotRequired[bool]


class Technology(TypedDict, total=False):
    name: str  # a name, or else `code`
    code: str
    surgery_grade: int
    first_in_institution: bool
    first_in_jurisdiction: bool
    major_ethical_risk: bool
    unapproved_product: bool
    prohibited_grounds: list[str]
    in_use_since: str
    radiation: bool


class Event(TypedDict):
    type: str
    date: str  # YYYY-MM-DD
    note: NotRequired[str]


class DecisionRequest(TypedDict):
    institution: Institution
    id: NotRequired[str]  # yours, echoed in the answer
    as_of: NotRequired[str]
    technology: NotRequired[Technology]
    events: NotRequired[list[Event]]


# ---------------------------------------------------------------------------------------------- response


class Citation(TypedDict):
    document: str
    eid: str
    label: str
    quote: NotRequired[str]  # absent with quotes="once" (then in `provisions`) or "none"


class Deadline(TypedDict):
    kind: str  # open enum: KNOWN_DEADLINE_KINDS
    text: str
    days: NotRequired[int]
    months: NotRequired[int]
    event: NotRequired[str]
    date: NotRequired[str | None]
    due: NotRequired[str | None]
    citations: NotRequired[list[Citation]]


class Obligation(TypedDict):
    id: str
    action: str  # open enum: KNOWN_ACTIONS
    actor: str
    addressee: str | None
    summary: str
    due: str | None
    deadline: Deadline | None
    status: str  # open enum: KNOWN_STATUSES
    materials: list[dict[str, Any]]
    citations: list[Citation]
    consequences: list[dict[str, Any]]


class Warning(TypedDict):
    code: str  # open enum: KNOWN_WARNING_CODES
    message: str


class DecisionResponse(TypedDict):
    decision_id: str
    as_of: str
    jurisdiction: dict[str, str]
    knowledge_base: dict[str, Any]
    documents: list[dict[str, Any]]
    technology: dict[str, Any] | None
    obligations: list[Obligation]
    authority_actions: list[Obligation]
    warnings: list[Warning]
    missing_facts: list[dict[str, Any]]
    id: NotRequired[str]
    trace: NotRequired[list[dict[str, Any]]]  # absent with trace=False
    provisions: NotRequired[dict[str, Any]]  # only with quotes="once"
    verdict: NotRequired[dict[str, Any]]


class Problem(TypedDict):
    path: str
    message: str


class ErrorResponse(TypedDict):
    errors: list[Problem]
    id: NotRequired[str]
    available: NotRequired[list[str]]
    knowledge_base: NotRequired[dict[str, str]]


# what API 1.0.0 knew of the open enums (a later server may send more)
KNOWN_ACTIONS = frozenset(
    [
        "do_not_use",
        "file",
        "refile",
        "stop",
        "report",
        "ethics_review",
        "self_assess",
        "demonstrate",
        "third_party_assessment",
        "case_report",
        "disclose",
        "train",
        "file_training_base",
        "publish_training_plan",
        "report_trainees",
        "set_up_organization",
        "establish_rules",
        "request_registration",
        "report_physicians",
        "complete_filing",
        "annotate_license",
        "register_remark_three",
        "report_upward",
        "notify_incomplete",
        "cancel_filing",
        "verify_technology",
        "publish_list",
        "request_physician_review",
    ]
)
KNOWN_STATUSES = frozenset(["pending", "due_today", "overdue", "done", "immediate", "to_confirm"])
KNOWN_CLASSES = frozenset(["prohibited", "restricted", "unlisted", "out_of_scope", "undetermined"])
KNOWN_DEADLINE_KINDS = frozenset(
    [
        "working_days_after",
        "working_days_before",
        "months_after",
        "months_before",
        "immediately",
        "same_day",
        "before_event",
        "on_date",
        "months_after_document",
        "quarter_first_week",
        "half_year_end",
        "none",
    ]
)
KNOWN_WARNING_CODES = frozenset(
    [
        "calendar_provisional",
        "document_not_in_force",
        "document_expired",
        "effective_date_unknown",
        "technology_not_recognized",
        "technology_ambiguous",
        "catalog_superseded",
        "fact_unused",
        "prohibited_elsewhere",
        "event_before_in_force",
    ]
)


def is_known(value: str, known: frozenset[str]) -> bool:
    """Whether this client version knows `value` of an open enum (False: a newer server's value; show its text)."""
    return value in known
