"""A bounded schemathesis fuzz run of the GraphQL API against the live server.

Every query and mutation of ``schema.graphql`` gets generated documents and arguments
(hypothesis-graphql through schemathesis), derandomized so a failure reproduces. Whatever is
sent: never a 5xx, and every error carries one of the contract's codes, never ``INTERNAL``.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import access_token_for
from tests.factories import MovieFactory, UserFactory
from tests.hardening.conftest import ROOT, LiveServer

CODES = {
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "BAD_USER_INPUT",
    "RATE_LIMITED",
    "QUERY_TOO_COMPLEX",
    "SERVICE_UNAVAILABLE",
}
EXAMPLES = 200


def _operations() -> list[Any]:
    schema = schemathesis.graphql.from_path(ROOT / "schema.graphql")
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.slow
def test_generated_operations_never_fail_uncoded(server: LiveServer):
    MovieFactory.create_batch(3)
    token = access_token_for(UserFactory())
    operations = _operations()
    assert len(operations) > 30  # every root query and mutation field
    seen: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.sampled_from(operations).flatmap(lambda op: op.as_strategy()))
    def check(case: Any) -> None:
        body = case.body  # the generated document, arguments inlined
        response = server.graphql(body, token=token if len(seen) % 2 else None)
        seen.append(case.operation.label)
        assert response.status_code < 500, (body, response.text[:500])
        payload = response.json()
        for error in payload.get("errors") or []:
            code = (error.get("extensions") or {}).get("code")
            assert code in CODES, (body, error)

    check()
    assert len(seen) >= EXAMPLES // 2
    assert len(set(seen)) > 20  # the run spread over most operations
