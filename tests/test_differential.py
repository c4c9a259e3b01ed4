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
NAMES = ["关节镜诊疗技术", "冠心病介入治疗", "PCI", "ECMO", "血液透析", "血液净化技术", "消化内镜诊疗技术",
         "人工髋关节置换", "同种异体皮肤移植技术", "性别重置技术", "射频消融", "人体器官移植", "克隆治疗技术",
         "造血干细胞移植技术", "自体造血干细胞移植", "神经血管介入诊疗技术", "肿瘤消融治疗技术", "不存在的技术"]
CODES = ["S19", "hunan:S19", "G05", "CQ04", "SH10", "jilin:S11"]

dates = st.dates(min_value=__import__("datetime").date(2018, 6, 1), max_value=__import__("datetime").date(2028, 12, 31)).map(str)
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
            "in_use_since": dates,
        },
    ),
    st.fixed_dictionaries({"code": st.sampled_from(CODES)}),
)
institution = st.fixed_dictionaries(
    {"jurisdiction": st.sampled_from(VOCAB.jurisdiction_spellings())},
    optional={"level": st.sampled_from([1, 2, 3, None]), "category": st.sampled_from(VOCAB.ids("institution_categories")), "tcm": st.booleans()},
)
requests = st.fixed_dictionaries({"as_of": dates, "institution": institution, "events": events}, optional={"technology": technology})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests)
def test_backends_agree(request):
    request = {k: v for k, v in request.items() if v is not None}
    a = decide(request, backend="durable")
    b = decide(request, backend="pure")
    assert json.dumps(a, ensure_ascii=False) == json.dumps(b, ensure_ascii=False)


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
