"""Responses share nothing mutable with the engine's memos (catalogue resolutions, citations):
a caller that edits one answer cannot change a later one."""

import copy
import json

import pytest

from engine import decide

REQUESTS = [
    {
        "as_of": "2025-04-29",
        "institution": {"jurisdiction": "jilin", "level": 3},
        "technology": {"name": "关节镜诊疗技术", "surgery_grade": 3},
        "events": [
            {"type": "first_clinical_use", "date": "2025-04-21"},
            {"type": "filing_submitted", "date": "2025-04-28"},
        ],
    },
    {"as_of": "2025-05-23", "institution": {"jurisdiction": "national", "level": 3}, "technology": {"code": "G09"}},
    {"as_of": "2025-03-20", "institution": {"jurisdiction": "shanghai", "level": 3}},
    # candidates (an ambiguous name) and a listing's grades come from the catalogue memo
    {
        "as_of": "2025-04-29",
        "institution": {"jurisdiction": "shanghai", "level": 3},
        "technology": {"name": "射频消融"},
    },
    {
        "as_of": "2025-04-29",
        "institution": {"jurisdiction": "shanghai", "level": 3},
        "technology": {"name": "消化内镜诊疗技术", "surgery_grade": 4},
        "events": [{"type": "first_clinical_use", "date": "2025-04-21"}],
    },
]


def _vandalise(value) -> None:
    """Empty every dict and list reachable from `value`, strings in dicts replaced first."""
    if isinstance(value, dict):
        for k, v in list(value.items()):
            _vandalise(v)
            value[k] = "x"
        value["vandalised"] = True
    elif isinstance(value, list):
        for v in value:
            _vandalise(v)
        value.append("vandalised")


@pytest.mark.parametrize("backend", ["durable", "pure"])
@pytest.mark.parametrize("request_", REQUESTS)
def test_editing_a_response_does_not_change_the_next(request_, backend):
    first = decide(copy.deepcopy(request_), backend=backend)
    expected = json.dumps(first, ensure_ascii=False, sort_keys=True)
    assert first["trace"] or first["obligations"] or first["technology"]  # something to vandalise
    _vandalise(first)
    again = decide(copy.deepcopy(request_), backend=backend)
    assert json.dumps(again, ensure_ascii=False, sort_keys=True) == expected
