"""GraphQL documents and helpers shared by the users tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import GraphQLClient
from tests.factories import PASSWORD, UserFactory

STRONG_PASSWORD = "violet-Tapestry-93"

AUTH_FIELDS = "access refresh user { id username email }"
REGISTER = f"""
mutation($username: String!, $email: String!, $password: String!) {{
  register(username: $username, email: $email, password: $password) {{ {AUTH_FIELDS} }}
}}"""
TOKEN_AUTH = f"""
mutation($username: String!, $password: String!) {{
  tokenAuth(username: $username, password: $password) {{ {AUTH_FIELDS} }}
}}"""
REFRESH = f"""
mutation($refresh: String!) {{ refreshToken(refresh: $refresh) {{ {AUTH_FIELDS} }} }}"""
REVOKE = "mutation($refresh: String!) { revokeToken(refresh: $refresh) { ok } }"
VERIFY = "mutation($token: String!) { verifyToken(token: $token) { ok } }"
CHANGE_PASSWORD = f"""
mutation($old: String!, $new: String!) {{
  changePassword(oldPassword: $old, newPassword: $new) {{ {AUTH_FIELDS} }}
}}"""
ME = "{ me { username email ratingCount favoriteGenres { name } } }"


def login(username: str, password: str = PASSWORD) -> dict[str, Any]:
    """Sign in over GraphQL; the ``tokenAuth`` payload."""
    return GraphQLClient().data(TOKEN_AUTH, {"username": username, "password": password})[
        "tokenAuth"
    ]


def error_code(body: dict[str, Any]) -> str:
    assert body.get("errors"), body
    return body["errors"][0]["extensions"]["code"]


@pytest.fixture
def alice(db: Any) -> Any:
    return UserFactory(username="alice", email="alice@example.com")
