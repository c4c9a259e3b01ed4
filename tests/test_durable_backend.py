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


def test_background_dispatch_is_serialised_with_decisions():
    from durable import lang

    from engine.inference import backends
    from engine.kb.loader import knowledge_base
    backend = backends.durable(knowledge_base())
    ruleset = lang.get_host().get_ruleset(backend.ruleset)
    assert ruleset.dispatch.__name__ == "run" and ruleset.dispatch_timers.__name__ == "run"


def test_each_decision_leaves_no_session_behind():
    from engine.inference import backends
    from engine.kb.loader import knowledge_base
    backend = backends.durable(knowledge_base())
    decide({"as_of": "2025-04-29", "institution": {"jurisdiction": "jilin", "level": 3},
            "technology": {"name": "关节镜诊疗技术", "surgery_grade": 3}})
    assert backend._fired == {}


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="unknown back end"):
        decide({"institution": {"jurisdiction": "hunan"}}, backend="drools")


def test_technology_needs_a_name_or_a_code():
    with pytest.raises(InvalidRequest) as info:
        decide({"institution": {"jurisdiction": "hunan"}, "technology": {"surgery_grade": 3}})
    assert [e["path"] for e in info.value.errors] == ["technology"]
