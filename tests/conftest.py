"""Collects YAML scenario files (tests/scenarios/*.yaml).

Scenarios use the format described in docs/scenarios.md, checked by tests/scenario_checker.py,
plus a few extensions handled in tests/scenario_extras.py. Every scenario runs through both back ends (durable_rules and the pure
evaluator) and the two responses must be identical.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture
def fast_path_reads(monkeypatch) -> list[str]:
    """The paths of the requests the service's fast path reads itself (engine.service.fastpath.read_json),
    in order, from here to the end of the test."""
    from engine.service import fastpath

    taken: list[str] = []
    real = fastpath.read_json

    async def spy(request):
        taken.append(request.url.path)
        return await real(request)

    monkeypatch.setattr(fastpath, "read_json", spy)
    return taken


def pytest_collect_file(parent, file_path: Path):
    if (
        file_path.suffix == ".yaml"
        and file_path.parent.name == "scenarios"
        and file_path.parent.parent == ROOT / "tests"
    ):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


def pytest_collection_modifyitems(session, config, items):
    pass


class ScenarioFile(pytest.File):
    def collect(self):
        from engine.yamlio import load_yaml

        scenarios = load_yaml(self.path) or []
        for s in scenarios:
            yield ScenarioItem.from_parent(self, name=s["id"], scenario=s)


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario, **kw):
        super().__init__(**kw)
        self.scenario = scenario

    def runtest(self):
        import scenario_checker as checker
        from engine import decide
        from scenario_extras import check_extras

        s = self.scenario
        request = checker.jsonable(s["request"])
        exp = s["expect"]
        if "error_paths" in exp:
            with pytest.raises(ValueError) as info:
                decide(request)
            got = [checker.norm_path(e["path"]) for e in info.value.errors]
            missing = [p for p in exp["error_paths"] if p not in got]
            assert not missing, f"no error at {missing}; got {got}"
            return
        durable = decide(request, backend="durable")
        pure = decide(request, backend="pure")
        assert json.dumps(durable, ensure_ascii=False) == json.dumps(pure, ensure_ascii=False), "back ends disagree"
        errors = checker.check(checker.jsonable(durable), exp) + check_extras(durable, exp)
        assert not errors, " || ".join(errors)

    def repr_failure(self, excinfo):
        return f"{self.scenario['id']} ({self.scenario.get('about', '')}): {excinfo.value}"

    def reportinfo(self):
        return self.path, 0, f"scenario: {self.name}"
