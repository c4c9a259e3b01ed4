"""Property-based fuzzing of the HTTP service from its own OpenAPI document (schemathesis 4, in-process ASGI).

Every operation gets schema-conforming and schema-violating inputs (schemathesis's positive and
negative modes). Whatever arrives, the service must answer without a 5xx, and every documented
response must match its schema (the decision responses: kb/schema/response.schema.json).
Bounded: at most 50 generated examples per operation.
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

from engine.service.app import app  # noqa: E402

schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
def test_no_server_errors_and_conforming_responses(case):
    case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])
