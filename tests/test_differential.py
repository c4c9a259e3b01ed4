"""durable_rules and the pure evaluator must give identical responses (issue 4, item 3).

Every scenario already runs through both back ends (tests/conftest.py); this adds
hypothesis-generated requests across jurisdictions, techniques, grades, flags and events.
"""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import decide
from engine.kb.vocabulary import vocabulary

VOCAB = vocabulary()
NAMES = [
    "关节镜诊疗技术",
    "起搏器治疗技术",
    "胰腺癌根治技术",
    "医用高压氧",
    "放射性粒子植入治疗技术",
    "冠心病介入治疗",
    "PCI",
    "ECMO",
    "血液透析",
    "血液净化技术",
    "消化内镜诊疗技术",
    "人工髋关节置换",
    "同种异体皮肤移植技术",
    "性别重置技术",
    "射频消融",
    "人体器官移植",
    "克隆治疗技术",
    "造血干细胞移植技术",
    "自体造血干细胞移植",
    "神经血管介入诊疗技术",
    "肿瘤消融治疗技术",
    "不存在的技术",
    # issue 10: family names, techniques another document prohibits, surrogacy (out of scope), unknown names
    "肿瘤热疗",
    "CRRT",
    "角膜放射状切开术",
    "代孕",
    "某新型脑机接口植入术",
]
CODES = ["S19", "hunan:S19", "G05", "CQ04", "SH10", "jilin:S11"]

dates = st.dates(
    min_value=__import__("datetime").date(2018, 6, 1), max_value=__import__("datetime").date(2028, 12, 31)
).map(str)
# in_use_since reaches back before every document (2014), so the law-at-the-event selection and the
# transition provisions (issue 10 §2) run through both back ends too
old_dates = st.dates(
    min_value=__import__("datetime").date(2014, 1, 1), max_value=__import__("datetime").date(2026, 12, 31)
).map(str)
events = st.lists(st.fixed_dictionaries({"type": st.sampled_from(VOCAB.ids("event_types")), "date": dates}), max_size=4)
technology = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {"name": st.sampled_from(NAMES)},
        optional={
            "surgery_grade": st.integers(1, 4),
            "first_in_institution": st.booleans(),
            "first_in_jurisdiction": st.booleans(),
            "major_ethical_risk": st.booleans(),
            "unapproved_product": st.booleans(),
            "prohibited_grounds": st.lists(st.sampled_from(VOCAB.ids("prohibited_grounds")), unique=True, max_size=2),
            "in_use_since": old_dates,
            # issue 20: what the request says of the filing and of a pre-2018 approval (null: not said)
            "filed": st.sampled_from([True, False, None]),
            "approved_before_measures": st.sampled_from([True, False, None]),
        },
    ),
    st.fixed_dictionaries({"code": st.sampled_from(CODES)}),
)
institution = st.fixed_dictionaries(
    {"jurisdiction": st.sampled_from(VOCAB.jurisdiction_spellings())},
    optional={
        "level": st.sampled_from([1, 2, 3, None]),
        "category": st.sampled_from(VOCAB.ids("institution_categories")),
        "tcm": st.booleans(),
    },
)
requests = st.fixed_dictionaries(
    {"as_of": dates, "institution": institution, "events": events}, optional={"technology": technology}
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests)
def test_backends_agree(request):
    request = {k: v for k, v in request.items() if v is not None}
    a = decide(request, backend="durable")
    b = decide(request, backend="pure")
    assert json.dumps(a, ensure_ascii=False) == json.dumps(b, ensure_ascii=False)


# issue 10: facts decide whatever the name; steps before a past event are to_confirm
facts_only = st.fixed_dictionaries(
    {"name": st.sampled_from(["某新型脑机接口植入术", "克隆治疗技术", "血液净化技术", "冠心病介入治疗"])},
    optional={
        "first_in_institution": st.booleans(),
        "first_in_jurisdiction": st.booleans(),
        "major_ethical_risk": st.booleans(),
        "unapproved_product": st.booleans(),
        "radiation": st.booleans(),
        "prohibited_grounds": st.lists(st.sampled_from(VOCAB.ids("prohibited_grounds")), unique=True, max_size=2),
    },
)
recent = st.dates(
    min_value=__import__("datetime").date(2024, 9, 1), max_value=__import__("datetime").date(2026, 6, 30)
).map(str)
fact_requests = st.fixed_dictionaries(
    {
        "as_of": recent,
        "institution": st.fixed_dictionaries(
            {"jurisdiction": st.sampled_from([j.id for j in VOCAB.jurisdictions]), "level": st.just(3)},
            optional={"tcm": st.booleans()},
        ),
        "technology": facts_only,
        "events": st.lists(
            st.fixed_dictionaries({"type": st.sampled_from(VOCAB.ids("event_types")), "date": recent}), max_size=3
        ),
    }
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fact_requests)
def test_backends_agree_on_stated_facts(request):
    a = decide(request, backend="durable")
    b = decide(request, backend="pure")
    assert json.dumps(a, ensure_ascii=False) == json.dumps(b, ensure_ascii=False)
    # a step that had to precede an event that has happened is never overdue
    for o in a["obligations"]:
        if (o["deadline"] or {}).get("kind") == "before_event" and o["due"] and o["due"] < request["as_of"]:
            assert o["status"] in ("to_confirm", "done"), o
    # an authority's step is never overdue for the hospital
    assert all(o["status"] != "overdue" for o in a["authority_actions"])


# issue 20: the verdict, if_not_done, bounds and outcomes - grade-qualified and family names, Jilin's
# bounded transition, past first cases with and without a stated filing
issue20_tech = st.fixed_dictionaries(
    {
        "name": st.sampled_from(
            ["消化内镜诊疗技术", "关节镜诊疗技术", "ECMO", "人工关节置换技术", "血液净化技术", "起搏器治疗技术"]
        )
    },
    optional={
        "filed": st.sampled_from([True, False, None]),
        "in_use_since": old_dates,
        "approved_before_measures": st.sampled_from([True, False, None]),
    },
)
issue20_requests = st.fixed_dictionaries(
    {
        "as_of": dates,
        "institution": st.fixed_dictionaries(
            {"jurisdiction": st.sampled_from([j.id for j in VOCAB.jurisdictions]), "level": st.just(3)}
        ),
        "technology": issue20_tech,
        "events": st.lists(
            st.fixed_dictionaries({"type": st.sampled_from(VOCAB.ids("event_types")), "date": dates}), max_size=3
        ),
    }
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(issue20_requests)
def test_backends_agree_on_verdict_bounds_and_outcomes(request):
    a = decide(request, backend="durable")
    b = decide(request, backend="pure")
    for key in ("verdict", "obligations", "missing_facts", "warnings"):
        assert json.dumps(a[key], ensure_ascii=False) == json.dumps(b[key], ensure_ascii=False), key
    # overdue only when the request says not filed; a duty past its latest day is never pending
    for o in a["obligations"]:
        if o["status"] == "overdue":
            assert request["technology"].get("filed") is False and o["action"] in ("file", "refile"), o
        latest = (o["deadline"] or {}).get("latest")
        if latest and latest < request["as_of"]:
            assert o["status"] != "pending", o
        if o.get("if_not_done"):
            assert o["status"] == "to_confirm"


@settings(max_examples=100, deadline=None)
@given(requests)
def test_same_request_same_bytes(request):
    request = {k: v for k, v in request.items() if v is not None}
    assert json.dumps(decide(request), ensure_ascii=False) == json.dumps(decide(request), ensure_ascii=False)


@settings(max_examples=150, deadline=None)
@given(requests)
def test_every_response_validates_and_cites(request):
    from jsonschema import Draft202012Validator

    from engine.kb.schemas import load_schema

    request = {k: v for k, v in request.items() if v is not None}
    response = decide(request)
    errors = list(Draft202012Validator(load_schema("response")).iter_errors(response))
    assert not errors, errors[0].message
    for item in response["obligations"] + response["authority_actions"]:
        assert item["citations"], item["id"]


# Issue 10 §2: the law taken on each event's day. Events and in_use_since on either side of every
# document's and catalogue's dates, so both back ends go through the same day-by-day selection.
EDGE_DAYS = [
    "2015-05-01",
    "2018-08-12",
    "2018-08-13",
    "2018-09-15",
    "2018-10-31",
    "2018-11-01",
    "2018-11-18",
    "2018-11-19",
    "2019-12-20",
    "2020-01-10",
    "2021-06-01",
    "2022-04-19",
    "2022-04-20",
    "2024-08-14",
    "2024-08-15",
    "2029-08-10",
    "2029-08-14",
    "2029-08-15",
]
edge_requests = st.fixed_dictionaries(
    {
        "as_of": st.sampled_from(["2018-12-01", "2019-02-05", "2020-02-05", "2021-06-10", "2025-03-10", "2029-08-20"]),
        "institution": st.fixed_dictionaries(
            {"jurisdiction": st.sampled_from([j.id for j in VOCAB.jurisdictions]), "level": st.just(3)}
        ),
        "technology": st.fixed_dictionaries(
            {
                "name": st.sampled_from(
                    [
                        "ECMO",
                        "起搏器治疗技术",
                        "肿瘤消融治疗技术",
                        "冠心病介入治疗",
                        "胰腺癌根治技术",
                        "医用高压氧",
                        "性别重置技术",
                    ]
                )
            },
            optional={"in_use_since": st.sampled_from(EDGE_DAYS)},
        ),
        "events": st.lists(
            st.fixed_dictionaries(
                {
                    "type": st.sampled_from(["first_clinical_use", "patient_discharged", "filing_submitted"]),
                    "date": st.sampled_from(EDGE_DAYS),
                }
            ),
            max_size=3,
        ),
    }
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edge_requests)
def test_backends_agree_around_document_dates(request):
    a = decide(request, backend="durable")
    b = decide(request, backend="pure")
    assert json.dumps(a, ensure_ascii=False) == json.dumps(b, ensure_ascii=False)
