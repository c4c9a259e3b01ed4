"""How repeated events count (issue 10 §3): 首例/首次 the earliest, per-occurrence types each, others the latest."""

import datetime as dt

from engine.inference.occurrences import EACH, EARLIEST, LATEST, counted, counting, occurrences
from engine.inference.request import parse_request
from engine.kb.vocabulary import vocabulary

D = dt.date


def _req(events, **tech):
    return parse_request(
        {
            "as_of": "2025-03-10",
            "institution": {"jurisdiction": "hunan"},
            "technology": {"name": "冠心病介入治疗", **tech},
            "events": events,
        }
    )


def test_counting_read_from_the_vocabulary():
    v = vocabulary()
    assert counting(v, "first_clinical_use") == EARLIEST
    assert counting(v, "training_enrollment_announced") == EARLIEST
    assert counting(v, "patient_discharged") == EACH
    assert counting(v, "serious_incident") == LATEST


def test_first_case_is_the_earliest_and_incidents_the_latest():
    v = vocabulary()
    req = _req(
        [
            {"type": "first_clinical_use", "date": "2025-03-03"},
            {"type": "first_clinical_use", "date": "2025-02-03"},
            {"type": "serious_incident", "date": "2025-01-05"},
            {"type": "serious_incident", "date": "2025-02-05"},
        ]
    )
    occ = occurrences(req, v)
    assert occ["first_clinical_use"] == [D(2025, 2, 3), D(2025, 3, 3)]
    assert counted(occ, v) == {"first_clinical_use": D(2025, 2, 3), "serious_incident": D(2025, 2, 5)}


def test_in_use_since_is_an_occurrence_of_the_first_case():
    v = vocabulary()
    occ = occurrences(_req([{"type": "first_clinical_use", "date": "2025-03-03"}], in_use_since="2017-05-01"), v)
    assert occ["first_clinical_use"] == [D(2017, 5, 1), D(2025, 3, 3)]
    assert counted(occ, v)["first_clinical_use"] == D(2017, 5, 1)
