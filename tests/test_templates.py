"""The memo and the templates are exact (issue 24).

An answer's bytes are the same whether the cross-request memo of rule evaluation is on or off
(engine.inference.memo), whether they come from templates (engine.render.templates) or from
`decide()`'s fresh dicts, and on both back ends; in every quotes form and with or without the trace.
The reference is the plain path: the pure evaluator with the memo off, `compact_quotes(decide())`
encoded by the service's `dumps`. Checked over every scenario request and 10,000 generated requests.
"""

from __future__ import annotations

import contextlib
import datetime as dt

import orjson
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.test_differential import requests as generated_requests
from tests.test_exports import SCENARIO_FILES

from engine import InvalidRequest, decide, decide_bytes
from engine.inference import memo
from engine.inference.decision import conclusion
from engine.inference.outcomes import next_act
from engine.render import templates
from engine.render.compact import compact_quotes
from engine.service.errors import dumps

FORMS = [(q, t) for t in (True, False) for q in ("all", "once", "none")]
COMBOS = [(b, m, t) for b in ("durable", "pure") for m in (True, False) for t in (True, False)]


@contextlib.contextmanager
def switched(memo_on: bool, templates_on: bool):
    before = memo.enabled(), templates.enabled()
    memo.set_enabled(memo_on)
    templates.set_enabled(templates_on)
    try:
        yield
    finally:
        memo.set_enabled(before[0])
        templates.set_enabled(before[1])


def reference(request: dict, quotes: str, trace: bool):
    """The plain path's bytes (or the errors of an invalid request)."""
    with switched(False, False):
        try:
            return dumps(compact_quotes(decide(request, backend="pure", trace=trace), quotes))
        except InvalidRequest as exc:
            return ("errors", exc.errors)


def variant(request: dict, quotes: str, trace: bool, backend: str, memo_on: bool, templates_on: bool):
    with switched(memo_on, templates_on):
        try:
            return decide_bytes(request, quotes=quotes, trace=trace, backend=backend)
        except InvalidRequest as exc:
            return ("errors", exc.errors)


def _jsonable(x):
    return orjson.loads(orjson.dumps(x, default=str))


def scenario_requests() -> list[tuple[str, dict]]:
    out = []
    for path in SCENARIO_FILES:
        for sc in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            if isinstance(sc.get("request"), dict):
                out.append((sc["id"], _jsonable(sc["request"])))
    return out


SCENARIOS = scenario_requests()


def test_every_scenario_is_byte_identical_in_every_combination():
    memo.clear()
    checked = 0
    for sid, request in SCENARIOS:
        for quotes, trace in FORMS:
            want = reference(request, quotes, trace)
            for combo in COMBOS:
                got = variant(request, quotes, trace, *combo)
                assert got == want, (sid, quotes, trace, combo)
                checked += 1
    assert checked == len(SCENARIOS) * len(FORMS) * len(COMBOS)
    # the memo was consulted across requests, not only filled
    figures = memo.stats()
    assert figures["firing"]["hits"] > figures["firing"]["misses"] > 0
    assert figures["undecided"]["hits"] > 0


def test_the_memo_hits_across_requests_on_other_days():
    """Two requests that differ only in their days, between the same constants of the rules, share their
    evaluation; one across a constant (the 2022 list, in force from 2022-04-19 in Hunan) does not."""
    request = {
        "institution": {"jurisdiction": "hunan", "level": 3},
        "technology": {"name": "ECMO"},
        "events": [{"type": "first_clinical_use", "date": "2023-03-01"}],
    }
    memo.clear()
    with switched(True, True):
        decide({**request, "as_of": "2023-05-02"})
        after_first = memo.stats()["firing"]["hits"]
        decide({**request, "as_of": "2023-05-09"})
        assert memo.stats()["firing"]["hits"] > after_first
        misses = memo.stats()["firing"]["misses"]
        early = {**request, "as_of": "2022-04-18", "events": [{"type": "first_clinical_use", "date": "2022-04-10"}]}
        decide(early)
        assert memo.stats()["firing"]["misses"] > misses
    # and the answers are those of the plain path
    for as_of in ("2023-05-02", "2023-05-09"):
        assert variant({**request, "as_of": as_of}, "all", True, "durable", True, True) == reference(
            {**request, "as_of": as_of}, "all", True
        )
    assert variant(early, "all", True, "durable", True, True) == reference(early, "all", True)


def test_the_memo_is_bounded():
    m = memo.Memo("test-bounded", limit=3)
    with switched(True, True):
        for i in range(10):
            assert m.get_or_compute(i, lambda i=i: i * i) == i * i
    assert len(m.data) == 3 and list(m.data) == [7, 8, 9]
    assert m.misses == 10 and m.hits == 0


def test_the_abstraction_separates_values_on_either_side_of_a_constant():
    from engine.kb.loader import knowledge_base

    a = memo.abstraction(knowledge_base())
    fact, bounds = next((f, b) for f, b in a.bounds.items() if f == "as_of" or f.startswith("events."))
    c = bounds[len(bounds) // 2]
    keys = [a.key({fact: c + d}) for d in (-2, -1, 0, 1)]
    assert keys[0] == keys[1] or c - 1 in bounds  # between two constants: one interval
    assert keys[1] != keys[2] != keys[3]  # below, equal to, above a constant
    assert a.key({fact: True}) != a.key({fact: 1})  # a boolean is not bucketed as an integer


def _same_conclusion(request_: dict) -> bool:
    """conclusion() (what an outcome reads) gives the class and verdict of the whole answer decided without
    outcomes of its own, as an outcome's answer is; False for an invalid request."""
    from engine.inference.decision import decide as decide_inner

    try:
        whole = decide_inner(request_, outcomes=False, trace=False)
    except InvalidRequest:
        with pytest.raises(InvalidRequest):
            conclusion(request_)
        return False
    short = conclusion(request_)
    assert (short["technology"] or {}).get("class") == (whole["technology"] or {}).get("class")
    assert next_act(short) == next_act(whole)
    assert short["verdict"] == whole["verdict"]
    return True


def test_conclusion_reads_what_a_whole_answer_says_for_every_scenario():
    assert sum(_same_conclusion(r) for _, r in SCENARIOS) > 400


@settings(max_examples=2_000, deadline=None, derandomize=True, database=None)
@given(generated_requests, st.integers(-900, 900))
def test_conclusion_reads_what_a_whole_answer_says_for_generated_requests(request_, shift):
    request_ = {k: v for k, v in request_.items() if v is not None}
    request_["as_of"] = (dt.date.fromisoformat(request_["as_of"]) + dt.timedelta(days=shift)).isoformat()
    _same_conclusion(request_)


# 10,000 generated requests (tests/test_differential.py's strategy): every combination against the reference,
# the form (quotes, trace) drawn with the request
@settings(
    max_examples=10_000,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(generated_requests, st.sampled_from(FORMS), st.integers(-900, 900))
def test_generated_requests_are_byte_identical_in_every_combination(request_, form, shift):
    request_ = {k: v for k, v in request_.items() if v is not None}
    # the as_of shifted too, so that the memo meets the same facts on other days
    day = dt.date.fromisoformat(request_["as_of"]) + dt.timedelta(days=shift)
    request_["as_of"] = day.isoformat()
    quotes, trace = form
    want = reference(request_, quotes, trace)
    for combo in COMBOS:
        assert variant(request_, quotes, trace, *combo) == want, combo


def test_the_memos_are_counted_in_metrics():
    """/metrics shows each memo's hits, misses and entries; a second request on another day between the same
    constants is a hit."""
    import re

    from fastapi.testclient import TestClient

    from engine.service.app import app

    def sample(text: str, name: str, which: str) -> float:
        found = re.search(rf'^{name}{{memo="{which}"}} ([0-9.e+]+)$', text, re.M)
        assert found, (name, which)
        return float(found.group(1))

    memo.clear()
    request = {"institution": {"jurisdiction": "jilin", "level": 3}, "technology": {"name": "ECMO"}}
    with TestClient(app) as client, switched(True, True):
        client.post("/v1/decisions", json={**request, "as_of": "2025-03-03"})
        before = client.get("/metrics").text
        client.post("/v1/decisions", json={**request, "as_of": "2025-03-10"})
        after = client.get("/metrics").text
    assert sample(after, "medtech_memo_hits_total", "firing") > sample(before, "medtech_memo_hits_total", "firing")
    assert sample(after, "medtech_memo_misses_total", "firing") >= 1
    assert 1 <= sample(after, "medtech_memo_entries", "firing") <= sample(after, "medtech_memo_limit", "firing")


def test_an_answer_from_a_fixed_set_is_given_to_the_parsed_request_as_parsing_would():
    """Outcomes of the vocabulary's fixed sets (outcome_values) are decided on the request already parsed, with the
    one field changed: the same Request parse_request gives the request with that answer, for every scenario with
    a technique (so the answer is valid wherever the request is)."""
    from engine.inference.outcomes import with_answer
    from engine.inference.request import derived_request, parse_request
    from engine.kb.vocabulary import vocabulary

    fixed = vocabulary().raw["outcome_values"]
    assert fixed and all(path.startswith("technology.") for path in fixed)
    compared = 0
    for _, request_ in SCENARIOS:
        try:
            req = parse_request({"as_of": "2025-06-30", **request_})
        except InvalidRequest:
            continue
        if req.technology is None:
            continue
        for path, values in fixed.items():
            for value in values:
                assert derived_request(req, path, value) == parse_request(with_answer(req.raw, path, value))
                compared += 1
    assert compared > 1000
