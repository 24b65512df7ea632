"""Password reset by email, over GraphQL and REST: link, one use, old tokens dead, throttled."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from django.core import mail
from django.test import Client

from tests.conftest import GraphQLClient, access_token_for
from tests.factories import UserFactory
from tests.users.conftest import AUTH_FIELDS, STRONG_PASSWORD

REQUEST = "mutation($email: String!) { requestPasswordReset(email: $email) { ok } }"
RESET = f"""mutation($uid: String!, $token: String!, $password: String!) {{
  resetPassword(uid: $uid, token: $token, newPassword: $password) {{ {AUTH_FIELDS} }}
}}"""
ME = "{ me { username } }"
LINK = "https://app.example.com/reset?uid={uid}&token={token}"


@pytest.fixture
def member(db: Any, settings: Any) -> Any:
    settings.PASSWORD_RESET_URL = LINK
    return UserFactory(username="neo", email="Neo@Matrix.org")


def _link_params() -> dict[str, str]:
    assert len(mail.outbox) == 1
    url = re.search(r"https://app\.example\.com/reset\?\S+", mail.outbox[0].body).group(0)
    return {key: values[0] for key, values in parse_qs(urlparse(url).query).items()}


def test_graphql_reset_flow(member: Any) -> None:
    old_access = access_token_for(member)
    client = GraphQLClient()
    assert client.data(REQUEST, {"email": "neo@matrix.ORG"}) == {
        "requestPasswordReset": {"ok": True}
    }
    message = mail.outbox[0]
    assert message.to == ["Neo@Matrix.org"]
    assert message.subject == "Reset your movierec password"
    assert "60 minutes" in message.body
    params = _link_params()

    payload = client.data(RESET, {**params, "password": STRONG_PASSWORD})["resetPassword"]
    assert payload["user"]["username"] == "neo"
    member.refresh_from_db()
    assert member.check_password(STRONG_PASSWORD)
    assert GraphQLClient(payload["access"]).data(ME) == {"me": {"username": "neo"}}
    # Every token from before the reset is dead, and the link works once.
    assert GraphQLClient(old_access).raw(ME).status_code == 401
    reused = client.error(RESET, {**params, "password": "another-Strong-pass-42"})
    assert reused["extensions"] == {"code": "BAD_USER_INPUT", "field": "token"}
    assert reused["message"] == "The password reset link is invalid or has expired."


def test_unknown_inactive_or_imported_accounts_get_the_same_answer_and_no_mail(
    member: Any,
) -> None:
    UserFactory(email="gone@matrix.org", is_active=False)
    imported = UserFactory(email="ml_1@movielens.invalid")
    imported.set_unusable_password()
    imported.save()
    client = GraphQLClient()
    for email in ("nobody@matrix.org", "gone@matrix.org", "ml_1@movielens.invalid"):
        assert client.data(REQUEST, {"email": email}) == {"requestPasswordReset": {"ok": True}}
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"token": "1-abc"}, "token"),
        ({"uid": "garbage!"}, "token"),
        ({"password": "123"}, "newPassword"),
    ],
)
def test_bad_links_and_weak_passwords_are_refused(member: Any, change: dict, field: str) -> None:
    GraphQLClient().data(REQUEST, {"email": member.email})
    variables = {**_link_params(), "password": STRONG_PASSWORD, **change}
    error = GraphQLClient().error(RESET, variables)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    member.refresh_from_db()
    assert not member.check_password(STRONG_PASSWORD)


def test_rest_reset_flow(member: Any) -> None:
    client = Client()
    asked = client.post(
        "/api/auth/password/reset/", {"email": "NEO@matrix.org"}, "application/json"
    )
    assert (asked.status_code, asked.json()) == (202, {})
    params = _link_params()
    done = client.post(
        "/api/auth/password/reset/confirm/",
        {**params, "new_password": STRONG_PASSWORD},
        "application/json",
    )
    assert done.status_code == 200
    assert done.json()["user"]["username"] == "neo"
    again = client.post(
        "/api/auth/password/reset/confirm/",
        {**params, "new_password": STRONG_PASSWORD},
        "application/json",
    )
    assert again.status_code == 400
    assert again.json()["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "token"}


def test_reset_requests_are_throttled_per_address(member: Any, settings: Any) -> None:
    settings.RATELIMIT_RATES = {**settings.RATELIMIT_RATES, "password_reset_email": "2/1h"}
    client = GraphQLClient()
    for _ in range(2):
        client.data(REQUEST, {"email": "neo@matrix.org"})
    error = client.error(REQUEST, {"email": " NEO@matrix.org "})
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["retryAfter"] > 0
    assert len(mail.outbox) == 2
    assert client.raw(REQUEST, {"email": "neo@matrix.org"}).status_code == 429
    rest = Client().post(
        "/api/auth/password/reset/", {"email": "neo@matrix.org"}, "application/json"
    )
    assert rest.status_code == 429


def test_reset_requests_are_throttled_per_ip(member: Any, settings: Any) -> None:
    settings.RATELIMIT_RATES = {**settings.RATELIMIT_RATES, "password_reset_ip": "2/1h"}
    client = GraphQLClient()
    for n in range(2):
        client.data(
            REQUEST,
            {"email": f"someone{n}@matrix.org"},
        )
    assert (
        client.error(REQUEST, {"email": "neo@matrix.org"})["extensions"]["code"] == "RATE_LIMITED"
    )
    assert mail.outbox == []


def test_development_prints_mails_to_the_console(monkeypatch: Any) -> None:
    import importlib

    import movierec.settings.local as local

    monkeypatch.delenv("EMAIL_BACKEND", raising=False)
    local = importlib.reload(local)
    assert local.EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend"
