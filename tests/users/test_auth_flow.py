"""The whole sign-in lifecycle through real requests to /graphql/."""

from __future__ import annotations

from typing import Any

from tests.conftest import GraphQLClient
from tests.factories import PASSWORD
from tests.users.conftest import (
    CHANGE_PASSWORD,
    ME,
    REFRESH,
    REGISTER,
    REVOKE,
    STRONG_PASSWORD,
    TOKEN_AUTH,
    VERIFY,
    error_code,
    login,
)
from users.models import RevokedSession, User


def test_register_signs_the_new_user_in(db: Any) -> None:
    payload = GraphQLClient().data(
        REGISTER, {"username": "Neo", "email": "Neo@Matrix.io", "password": STRONG_PASSWORD}
    )["register"]

    user = User.objects.get(username="Neo")
    assert payload["user"]["username"] == "Neo"
    assert payload["user"]["email"] == "Neo@matrix.io"  # domain part normalised
    assert user.check_password(STRONG_PASSWORD)
    me = GraphQLClient(payload["access"]).data(ME)["me"]
    assert me == {
        "username": "Neo",
        "email": "Neo@matrix.io",
        "ratingCount": 0,
        "favoriteGenres": [],
    }


def test_login_by_username_or_email_in_any_case(alice: Any) -> None:
    for identifier in ("alice", "ALICE", "alice@example.com", "Alice@Example.COM"):
        payload = login(identifier)
        assert payload["user"]["username"] == "alice"
        assert GraphQLClient(payload["access"]).data(ME)["me"]["username"] == "alice"


def test_login_updates_last_login(alice: Any) -> None:
    assert alice.last_login is None
    login("alice")
    alice.refresh_from_db()
    assert alice.last_login is not None


def test_wrong_password_and_unknown_user_look_the_same(alice: Any) -> None:
    wrong = GraphQLClient()(TOKEN_AUTH, {"username": "alice", "password": "nope"})
    unknown = GraphQLClient()(TOKEN_AUTH, {"username": "nobody", "password": "nope"})
    assert wrong["errors"][0]["message"] == unknown["errors"][0]["message"]
    assert error_code(wrong) == error_code(unknown) == "UNAUTHENTICATED"
    assert wrong["data"] == unknown["data"] == {"tokenAuth": None}


def test_inactive_user_cannot_log_in(alice: Any) -> None:
    User.objects.filter(pk=alice.pk).update(is_active=False)
    body = GraphQLClient()(TOKEN_AUTH, {"username": "alice", "password": PASSWORD})
    assert error_code(body) == "UNAUTHENTICATED"


def test_refresh_rotates_and_the_old_refresh_token_is_refused(alice: Any) -> None:
    first = login("alice")

    second = GraphQLClient().data(REFRESH, {"refresh": first["refresh"]})["refreshToken"]
    assert second["refresh"] != first["refresh"]
    assert second["user"]["username"] == "alice"
    assert GraphQLClient(second["access"]).data(ME)["me"]["username"] == "alice"

    reused = GraphQLClient()(REFRESH, {"refresh": first["refresh"]})
    assert error_code(reused) == "UNAUTHENTICATED"
    assert reused["errors"][0]["extensions"]["reason"] == "blacklisted"
    # Reuse detection (issue 11): the replay ends the whole session, its successor included.
    successor = GraphQLClient()(REFRESH, {"refresh": second["refresh"]})
    assert successor["errors"][0]["extensions"]["reason"] == "revoked"
    assert GraphQLClient(second["access"])(ME)["errors"][0]["extensions"]["code"] == (
        "UNAUTHENTICATED"
    )


def test_an_access_token_is_not_a_refresh_token(alice: Any) -> None:
    tokens = login("alice")
    body = GraphQLClient()(REFRESH, {"refresh": tokens["access"]})
    assert error_code(body) == "UNAUTHENTICATED"


def test_revoke_ends_the_session_refresh_and_access(alice: Any) -> None:
    tokens = login("alice")
    other_session = login("alice")

    assert GraphQLClient().data(REVOKE, {"refresh": tokens["refresh"]}) == {
        "revokeToken": {"ok": True}
    }

    assert error_code(GraphQLClient()(REFRESH, {"refresh": tokens["refresh"]})) == (
        "UNAUTHENTICATED"
    )
    response = GraphQLClient(tokens["access"]).raw(ME)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"] == {
        "code": "UNAUTHENTICATED",
        "reason": "revoked",
    }
    # Other sessions of the same user are untouched.
    assert GraphQLClient(other_session["access"]).data(ME)["me"]["username"] == "alice"
    assert RevokedSession.objects.filter(user=alice, reason="LOGOUT").count() == 1


def test_revoking_a_rotated_refresh_token_still_ends_its_session(alice: Any) -> None:
    first = login("alice")
    second = GraphQLClient().data(REFRESH, {"refresh": first["refresh"]})["refreshToken"]

    assert GraphQLClient().data(REVOKE, {"refresh": first["refresh"]})["revokeToken"]["ok"]

    assert error_code(GraphQLClient()(REFRESH, {"refresh": second["refresh"]})) == (
        "UNAUTHENTICATED"
    )
    assert GraphQLClient(second["access"]).raw(ME).status_code == 401


def test_verify_token(alice: Any) -> None:
    tokens = login("alice")
    client = GraphQLClient()
    assert client.data(VERIFY, {"token": tokens["access"]}) == {"verifyToken": {"ok": True}}
    assert client.data(VERIFY, {"token": tokens["refresh"]}) == {"verifyToken": {"ok": True}}

    client.data(REFRESH, {"refresh": tokens["refresh"]})
    blacklisted = client(VERIFY, {"token": tokens["refresh"]})
    assert error_code(blacklisted) == "UNAUTHENTICATED"
    assert error_code(client(VERIFY, {"token": "not-a-token"})) == "UNAUTHENTICATED"


def test_change_password_kills_old_tokens_and_returns_fresh_ones(alice: Any) -> None:
    old = login("alice")
    other_device = login("alice")

    fresh = GraphQLClient(old["access"]).data(
        CHANGE_PASSWORD, {"old": PASSWORD, "new": STRONG_PASSWORD}
    )["changePassword"]

    for stale in (old["access"], other_device["access"]):
        response = GraphQLClient(stale).raw(ME)
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["reason"] == "outdated"
    assert error_code(GraphQLClient()(REFRESH, {"refresh": other_device["refresh"]})) == (
        "UNAUTHENTICATED"
    )
    assert GraphQLClient(fresh["access"]).data(ME)["me"]["username"] == "alice"
    assert GraphQLClient().data(REFRESH, {"refresh": fresh["refresh"]})["refreshToken"]
    assert error_code(GraphQLClient()(TOKEN_AUTH, {"username": "alice", "password": PASSWORD}))
    assert login("alice", STRONG_PASSWORD)["user"]["username"] == "alice"


def test_change_password_checks_the_old_one_and_the_rules(alice: Any) -> None:
    client = GraphQLClient(login("alice")["access"])

    wrong = client.error(CHANGE_PASSWORD, {"old": "guess", "new": STRONG_PASSWORD})
    weak = client.error(CHANGE_PASSWORD, {"old": PASSWORD, "new": "123"})

    assert wrong["extensions"] == {"code": "BAD_USER_INPUT", "field": "oldPassword"}
    assert weak["extensions"] == {"code": "BAD_USER_INPUT", "field": "newPassword"}
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
    assert alice.token_version == 0


def test_change_password_requires_login(db: Any) -> None:
    body = GraphQLClient()(CHANGE_PASSWORD, {"old": PASSWORD, "new": STRONG_PASSWORD})
    assert error_code(body) == "UNAUTHENTICATED"


def test_deactivation_kills_tokens_even_after_reactivation(alice: Any) -> None:
    from users.services import user_deactivate

    tokens = login("alice")
    user_deactivate(user=alice)
    assert GraphQLClient(tokens["access"]).raw(ME).status_code == 401
    assert error_code(GraphQLClient()(REFRESH, {"refresh": tokens["refresh"]})) == (
        "UNAUTHENTICATED"
    )

    User.objects.filter(pk=alice.pk).update(is_active=True)
    response = GraphQLClient(tokens["access"]).raw(ME)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["reason"] == "outdated"
    assert error_code(GraphQLClient()(REFRESH, {"refresh": tokens["refresh"]})) == (
        "UNAUTHENTICATED"
    )


def test_admin_password_change_and_deactivation_sign_the_user_out(alice: Any) -> None:
    from django.contrib.admin.sites import site
    from django.test import RequestFactory

    from users.admin import PasswordChangeSignsOutForm

    tokens = login("alice")
    form = PasswordChangeSignsOutForm(
        alice, {"password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD}
    )
    assert form.is_valid(), form.errors
    form.save()
    assert GraphQLClient(tokens["access"]).raw(ME).status_code == 401

    tokens = login("alice", STRONG_PASSWORD)
    alice.refresh_from_db()
    alice.is_active = False

    class _Form:
        changed_data = ["is_active"]

    site._registry[User].save_model(RequestFactory().post("/"), alice, _Form(), change=True)
    User.objects.filter(pk=alice.pk).update(is_active=True)
    assert GraphQLClient(tokens["access"]).raw(ME).status_code == 401
