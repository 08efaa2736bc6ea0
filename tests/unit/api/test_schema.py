"""schemathesis against /openapi.json of the in-process app on a running node: no 5xx, responses match."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance, status_code_conformance

from tradewire.api.app import create_app
from tradewire.api.auth import ApiAuth

TOKEN = "schema-test-token-0123456789abcdef"


def test_openapi_fuzz_no_server_errors(running_node):
    app = create_app(running_node, ApiAuth(token=TOKEN))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    n = 0
    for op in schema.get_all_operations():
        operation = op.ok()

        @settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())
        def run(case):
            nonlocal n
            n += 1
            resp = case.call(headers={"Authorization": f"Bearer {TOKEN}"})
            for check in (not_a_server_error, response_schema_conformance, status_code_conformance):
                try:
                    case.validate_response(resp, checks=(check,))
                except Exception as exc:  # collect every failure, then report them together
                    failures.append(f"{case.method} {case.path}: {type(exc).__name__}: {str(exc)[:300]}")
            unauth = case.call()
            if case.path not in ("/api/auth", "/api/login"):
                assert unauth.status_code == 401, f"{case.method} {case.formatted_path} without token"

        run()
    assert n > 30
    assert not failures, "\n".join(failures[:20])
