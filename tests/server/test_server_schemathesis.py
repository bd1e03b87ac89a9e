"""Schemathesis explores every operation of the OpenAPI document against the app (ASGI, in process).

Two checks: no answer is a server error (5xx), and every status answered is one the document lists
for that operation (so the OpenAPI lists every status a route returns). Examples are bounded per
operation so the whole run stays well under a minute; each example is sent anonymously and with a
planner's token. The siting API is left to its own tests (each example is a full review).
Operations are walked one by one with Hypothesis (schemathesis's pytest fixture loader does not
run under pytest 9).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, status_code_conformance
# imported with the module, not lazily inside the test: pytest rewrites it there (ast.parse), and
# CPython 3.11's AST validator races with other threads parsing meanwhile (the background threads of
# earlier tests' apps): "SystemError: AST constructor recursion depth mismatch"
from schemathesis.specs.openapi import schemas as _openapi_schemas  # noqa: F401

from server.app import create_app
from server.settings import Settings
from server_common import PLANNER, TOKENS

EXAMPLES = 10


@pytest.mark.slow
def test_no_server_error_and_no_undocumented_status(store_path):
    # rate limits off: schemathesis sends hundreds of requests from one address in seconds
    app = create_app(store_path, Settings(tokens=TOKENS, rate_limit_per_minute=0, login_attempts_per_minute=0,
                                          max_limit=50, default_limit=10))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [r.ok() for r in schema.get_all_operations()]
    tested = []
    for operation in operations:
        if operation.path.startswith("/api/siting"):
            continue

        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())
        def explore(case):
            for headers in (None, PLANNER):
                case.call_and_validate(headers=headers, checks=[not_a_server_error, status_code_conformance])

        explore()
        tested.append(f"{operation.method.upper()} {operation.path}")
    assert len(tested) >= 20, tested  # features, queryables, tiles (XYZ and OGC), packages, pages
