"""The Redis proof of a signed-in session (users/auth_state.py) under Redis faults: a
revocation written while Redis is hung still holds once Redis comes back with its old data."""

from __future__ import annotations

import time

from tests.factories import UserFactory
from tests.hardening.conftest import LiveServer, OwnRedis
from tests.hardening.test_faults_redis import ME, PASSWORD, _sign_in


def test_a_revocation_made_while_redis_hung_holds_when_it_resumes(
    server: LiveServer, own_redis: OwnRedis
):
    """Before the owed marker: Redis resumed still vouching for the session (its proof was
    written before the hang), so the revoked token answered 200 for up to
    AUTH_STATE_CACHE_SECONDS."""
    UserFactory(username="hungrevoker", password=PASSWORD)
    tokens = _sign_in(server, "hungrevoker")
    for _ in range(2):  # the second request is answered from the Redis proof
        assert server.graphql(ME, token=tokens["access"]).status_code == 200

    own_redis.hang()
    try:
        revoked = server.graphql(
            "mutation($r: String!) { revokeToken(refresh: $r) { ok } }", {"r": tokens["refresh"]}
        ).json()
        assert revoked["data"]["revokeToken"]["ok"] is True
    finally:
        own_redis.resume()
    time.sleep(1.1)  # past the breaker's open window (REDIS_BREAKER_SECONDS=1 here)

    for _ in range(3):
        response = server.graphql(ME, token=tokens["access"])
        assert response.status_code == 401, response.text
        assert response.json()["errors"][0]["extensions"]["reason"] == "revoked"
