"""Regression tests for durable_rules' weaknesses that the back end works around."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engine import InvalidRequest, decide

ROOT = Path(__file__).resolve().parent.parent


def test_decisions_that_match_no_rule_do_not_crash_a_fresh_process():
    # before 2018-11-01 no document is in force: nothing but the sentinel rules can match;
    # an unhandled message used to corrupt durable_rules' heap (segfault / invalid pointer)
    code = textwrap.dedent("""
        from engine import decide
        req = {"as_of": "2018-06-01", "institution": {"jurisdiction": "national"}}
        for i in range(300):
            assert decide(req, backend="durable")["obligations"] == []
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"


def test_no_background_dispatch_calls_into_the_engine():
    # durable_rules' default host dispatches every ruleset from timer threads, unlocked; ours runs none
    import threading
    import time

    from durable import lang

    from engine.inference import backends
    from engine.inference.durable_backend import _host
    from engine.kb.loader import knowledge_base

    backend = backends.durable(knowledge_base())
    host = _host()
    assert not hasattr(host, "_d_timer") and not hasattr(host, "_t_timer")
    for part in backend.rulesets.values():
        assert host.get_ruleset(part.name).get_definition()
        assert part.name not in lang._rulesets  # not left for lang's default host either
    before = threading.active_count()
    decide({"as_of": "2025-04-29", "institution": {"jurisdiction": "hunan"}}, backend="durable")
    time.sleep(0.5)  # the default host would have started a dispatch round by now
    assert threading.active_count() <= before


def test_each_decision_leaves_no_session_behind():
    import durable_rules_engine

    from engine.inference import backends
    from engine.kb.loader import knowledge_base

    backend = backends.durable(knowledge_base())
    decide(
        {
            "as_of": "2025-04-29",
            "institution": {"jurisdiction": "jilin", "level": 3},
            "technology": {"name": "关节镜诊疗技术", "surgery_grade": 3},
        },
        backend="durable",
    )
    sid = backend.last_sid
    assert sid is not None
    for part in backend.rulesets.values():
        with pytest.raises(durable_rules_engine.error, match="Could not get state"):
            durable_rules_engine.get_state(part.handle, sid)


def test_fired_rules_are_read_from_the_engine_action_queue():
    # the facts are asserted once; every rule that fired is taken from durable_rules' queue of actions
    from engine.inference import backends
    from engine.kb.loader import knowledge_base

    kb = knowledge_base()
    backend = backends.durable(kb)
    docs = tuple(kb.vocabulary.jurisdictions[1].documents)
    part = backend.rulesets[("classified", docs)]
    assert part.rule_named('{"r_0":{"m":{"kind":"classified"}}}') is None  # the sentinel
    expected = [r.id for r in kb.rules if r.document in docs and r.stage != "classify"]
    assert [part.rule_named('{"r_' + str(i) + '":{"m":{}}}') for i in range(1, len(expected) + 1)] == expected
    assert part.rule_named('{ "r_1" : {"m": {}}}') == expected[0]  # any spacing


def test_one_ruleset_per_stage_group_and_set_of_documents_in_force():
    # a session is opened in the ruleset of exactly the documents that apply (its cost grows with
    # the ruleset); rules of other documents cannot fire, as each requires its document to apply
    from engine.inference import backends
    from engine.kb.loader import knowledge_base

    kb = knowledge_base()
    backend = backends.durable(kb)
    jurisdictions = kb.vocabulary.jurisdictions
    for j in jurisdictions:
        for kind in ("case", "classified"):
            assert (kind, tuple(j.documents)) in backend.rulesets
    # others (a day when only some of a jurisdiction's documents apply) are built when first needed
    for kind, docs in backend.rulesets:
        assert kind in ("case", "classified")
        assert any(set(docs) <= set(j.documents) for j in jurisdictions)
    # before the national measures took effect (2018-11-01) no document applies: a ruleset of no rules
    decide({"as_of": "2018-06-01", "institution": {"jurisdiction": "national"}}, backend="durable")
    empty = backend.rulesets[("classified", ())]
    assert list(empty.rule_of.values()) == [None]


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="unknown back end"):
        decide({"institution": {"jurisdiction": "hunan"}}, backend="drools")


def test_technology_needs_a_name_or_a_code():
    with pytest.raises(InvalidRequest) as info:
        decide({"institution": {"jurisdiction": "hunan"}, "technology": {"surgery_grade": 3}})
    assert [e["path"] for e in info.value.errors] == ["technology"]
