"""Every unacceptable Authorization header is UNAUTHENTICATED (401), never anonymous."""

from __future__ import annotations

import base64
import json
import warnings
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jwt
import pytest
from django.conf import settings

from tests.conftest import GraphQLClient, access_token_for
from users.models import User
from users.tokens import RefreshToken

ME = "{ me { username } }"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _payload(user: User) -> dict[str, Any]:
    return dict(RefreshToken.for_user(user).access_token.payload)


def _alg_none(user: User) -> str:
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_payload(user))}."


def _forged(user: User) -> str:
    return jwt.encode(
        _payload(user), "not-our-signing-key-but-long-enough-for-hs256", algorithm="HS256"
    )


def _hs512_with_our_key(user: User) -> str:
    # Only HS256 is accepted: a token in any other algorithm is refused even with our key.
    header = {"alg": "HS512", "typ": "JWT"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        return jwt.encode(
            _payload(user), settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS512", headers=header
        )


def _tampered(user: User) -> str:
    header, _, signature = str(RefreshToken.for_user(user).access_token).split(".")
    return f"{header}.{_b64({**_payload(user), 'user_id': '999999'})}.{signature}"


def _expired(user: User) -> str:
    access = RefreshToken.for_user(user).access_token
    access.set_exp(lifetime=timedelta(seconds=-5))
    return str(access)


def _refresh_as_bearer(user: User) -> str:
    return str(RefreshToken.for_user(user))


def _deleted_user(user: User) -> str:
    token = access_token_for(user)
    User.objects.filter(pk=user.pk).delete()
    return token


def _inactive_user(user: User) -> str:
    token = access_token_for(user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    return token


BEARER_CASES: dict[str, Callable[[User], str]] = {
    "garbage": lambda user: "not.a.jwt",
    "alg_none": _alg_none,
    "forged_signature": _forged,
    "other_algorithm": _hs512_with_our_key,
    "tampered_payload": _tampered,
    "expired": _expired,
    "refresh_token": _refresh_as_bearer,
    "deleted_user": _deleted_user,
    "inactive_user": _inactive_user,
}


@pytest.mark.parametrize("case", sorted(BEARER_CASES))
def test_bad_bearer_tokens_are_unauthenticated(user: User, case: str) -> None:
    token = BEARER_CASES[case](user)

    response = GraphQLClient(token).raw(ME)

    assert response.status_code == 401
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_expired_token_says_so(user: User) -> None:
    body = GraphQLClient(_expired(user)).raw(ME).json()
    assert body["errors"][0]["message"] == "Token is expired."
    assert body["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED", "reason": "expired"}


@pytest.mark.parametrize(
    "header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "Token abc", "bearer"]
)
def test_malformed_authorization_headers_are_unauthenticated(db: Any, header: str) -> None:
    response = GraphQLClient().raw(ME, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_no_header_is_anonymous(db: Any) -> None:
    assert GraphQLClient().data(ME) == {"me": None}


def test_a_valid_token_without_claims_of_ours_still_works_at_version_zero(user: User) -> None:
    """Tokens minted by plain simplejwt (tests, older clients) count as token_version 0."""
    assert GraphQLClient(access_token_for(user)).data(ME) == {"me": {"username": user.username}}
    User.objects.filter(pk=user.pk).update(token_version=1)
    assert GraphQLClient(access_token_for(user)).raw(ME).status_code == 401
