"""Due dates and statuses (engine/deadlines.py). Expected dates worked out by hand from the
State Council holiday arrangements; the event day is not counted."""

import datetime as dt

import pytest

from engine.inference.deadlines import compute_due, status
from engine.kb.documents import load_documents

D = dt.date


@pytest.fixture(scope="module")
def docs():
    return load_documents()


@pytest.mark.parametrize(
    "spec, events, expected",
    [
        # 2025-04-28 (Mon) +15 wd: 4/29, 4/30, [5/1-5/5 May Day], 5/6 … 5/22 is the 15th
        (
            {"kind": "working_days_after", "days": 15, "event": "first_clinical_use"},
            {"first_clinical_use": D(2025, 4, 28)},
            D(2025, 5, 22),
        ),
        # 2026-04-30 (Thu) +3 wd: [5/1-5/5 holiday], 5/6, 5/7, 5/8
        (
            {"kind": "working_days_after", "days": 3, "event": "training_enrollment_announced"},
            {"training_enrollment_announced": D(2026, 4, 30)},
            D(2026, 5, 8),
        ),
        # 2025-10-13 (Mon) -3 wd: 10/12 Sun off, 10/11 Sat make-up working day = 1, 10/10 Fri = 2, 10/9 Thu = 3 (10/1-10/8 holiday)
        (
            {"kind": "working_days_before", "days": 3, "event": "training_enrollment_announced"},
            {"training_enrollment_announced": D(2025, 10, 13)},
            D(2025, 10, 9),
        ),
        (
            {"kind": "months_before", "months": 1, "event": "training_start"},
            {"training_start": D(2025, 3, 31)},
            D(2025, 2, 28),
        ),
        ({"kind": "months_after", "months": 3, "event": "x"}, {"x": D(2018, 11, 1)}, D(2019, 2, 1)),
        ({"kind": "immediately", "event": "serious_incident"}, {"serious_incident": D(2025, 6, 3)}, D(2025, 6, 3)),
        ({"kind": "same_day", "event": "filing_submitted"}, {"filing_submitted": D(2025, 6, 3)}, D(2025, 6, 3)),
        ({"kind": "before_event", "event": "first_clinical_use"}, {"first_clinical_use": D(2025, 6, 3)}, D(2025, 6, 2)),
        # 第1周 = the quarter's first 5 working days (issue 10 §3): 2026 opens with New Year 1/1-1/3, then
        # 1/4 Sun (make-up) 1, 1/5 2, 1/6 3, 1/7 4, 1/8 5 (was calendar day 7, 2026-01-07)
        (
            {"kind": "quarter_first_week", "days": 5, "event": "first_clinical_use"},
            {"first_clinical_use": D(2025, 11, 20)},
            D(2026, 1, 8),
        ),
        # Q3 2025 opens Tue 7/1: 7/1-7/4 1-4, 7/7 5
        (
            {"kind": "quarter_first_week", "days": 5, "event": "first_clinical_use"},
            {"first_clinical_use": D(2025, 4, 1)},
            D(2025, 7, 7),
        ),
        # Q4 2025 opens with the National Day break 10/1-10/8: 10/9 1, 10/10 2, 10/11 Sat (make-up) 3, 10/13 4, 10/14 5
        (
            {"kind": "quarter_first_week", "days": 5, "event": "first_clinical_use"},
            {"first_clinical_use": D(2025, 9, 30)},
            D(2025, 10, 14),
        ),
        ({"kind": "half_year_end", "event": "filing_submitted"}, {"filing_submitted": D(2025, 6, 30)}, D(2025, 6, 30)),
        ({"kind": "half_year_end", "event": "filing_submitted"}, {"filing_submitted": D(2025, 7, 1)}, D(2025, 12, 31)),
        ({"kind": "on_date", "date": "2019-01-31"}, {}, D(2019, 1, 31)),
        ({"kind": "none"}, {"first_clinical_use": D(2025, 1, 1)}, None),
        ({"kind": "working_days_after", "days": 15, "event": "first_clinical_use"}, {}, None),
    ],
)
def test_compute_due(docs, spec, events, expected):
    assert compute_due(spec, events, docs).date == expected


def test_due_from_document_dates(docs):
    # national art. 49: 3 months from 2018-11-01
    spec = {"kind": "months_after_document", "months": 3, "date": {"document": "nhc-2018-1", "date": "in_force_from"}}
    assert compute_due(spec, {}, docs).date == D(2019, 2, 1)
    # Jilin's effective day is blank in the source: no due date can be computed
    spec = {"kind": "months_after_document", "months": 2, "date": {"document": "jl-2021", "date": "in_force_from"}}
    assert compute_due(spec, {}, docs).date is None


def test_provisional_year_is_flagged(docs):
    spec = {"kind": "working_days_after", "days": 15, "event": "first_clinical_use"}
    due = compute_due(spec, {"first_clinical_use": D(2027, 2, 4)}, docs)
    assert due.provisional
    due = compute_due(spec, {"first_clinical_use": D(2025, 2, 4)}, docs)
    assert not due.provisional


@pytest.mark.parametrize(
    "kind, due, as_of, done, expected",
    [
        ("working_days_after", D(2025, 5, 22), D(2025, 5, 21), False, "pending"),
        ("working_days_after", D(2025, 5, 22), D(2025, 5, 22), False, "due_today"),
        ("working_days_after", D(2025, 5, 22), D(2025, 5, 23), False, "overdue"),
        ("working_days_after", D(2025, 5, 22), D(2025, 5, 23), True, "done"),
        ("immediately", D(2025, 5, 22), D(2025, 5, 23), False, "immediate"),
        ("none", None, D(2025, 5, 23), False, "pending"),
    ],
)
def test_status(kind, due, as_of, done, expected):
    assert status(kind, due, as_of, done) == expected


def test_recurring_quarters_stop_when_the_document_no_longer_applies():
    """Shanghai's rules end on 2029-08-14 (issue 20): the last occurrence is the one due inside them - Q2 2029,
    due in the first week of July; the Q3 report would fall due in October 2029, after expiry, so none."""
    from engine.inference.deadlines import recurring

    spec = {"kind": "quarter_first_week", "days": 5, "event": "first_clinical_use"}
    periods = recurring(spec, D(2029, 5, 10), D(2030, 3, 1), lambda day: day <= D(2029, 8, 14))
    assert [p for p, _ in periods] == ["2029-Q2"]
    # near-miss: rules in force through the Q3 report's week (to 2029-10-31) keep Q3
    periods = recurring(spec, D(2029, 5, 10), D(2030, 3, 1), lambda day: day <= D(2029, 10, 31))
    assert [p for p, _ in periods] == ["2029-Q2", "2029-Q3"]


def test_recurring_quarters_end_at_the_next_not_yet_past():
    from engine.inference.deadlines import recurring

    spec = {"kind": "quarter_first_week", "days": 5, "event": "first_clinical_use"}
    # Q2 2025 report due 7/7 (7/1-7/4, 7/7); asked 7/8 the next is Q3's, due 10/14 (after the 10/1-10/8 break)
    periods = recurring(spec, D(2025, 5, 10), D(2025, 7, 8), lambda day: True)
    assert [(p, d.date) for p, d in periods] == [("2025-Q2", D(2025, 7, 7)), ("2025-Q3", D(2025, 10, 14))]
