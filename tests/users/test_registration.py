"""register: Django's password rules, case-insensitive uniqueness, errors naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import GraphQLClient
from tests.users.conftest import REGISTER, STRONG_PASSWORD
from users.models import User
from users.services import user_register


def _register(username: str, email: str, password: str = STRONG_PASSWORD) -> dict:
    return GraphQLClient()(REGISTER, {"username": username, "email": email, "password": password})


@pytest.mark.parametrize(
    ("username", "email", "password", "field", "message"),
    [
        ("ALICE", "new@example.com", STRONG_PASSWORD, "username", "already exists"),
        ("bob", "Alice@EXAMPLE.com", STRONG_PASSWORD, "email", "already exists"),
        ("bob", "not-an-email", STRONG_PASSWORD, "email", "valid email"),
        ("bob", "", STRONG_PASSWORD, "email", "required"),
        ("bad name!", "bob@example.com", STRONG_PASSWORD, "username", "valid username"),
        ("bob@home", "bob@example.com", STRONG_PASSWORD, "username", "'@'"),
        ("", "bob@example.com", STRONG_PASSWORD, "username", "blank"),
        ("bob", "bob@example.com", "short", "password", "too short"),
        ("bob", "bob@example.com", "password123", "password", "too common"),
        ("bob", "bob@example.com", "83920174652", "password", "entirely numeric"),
        ("bobsmith", "bob@example.com", "bobsmith1", "password", "too similar"),
    ],
)
def test_bad_input_names_the_field(
    alice: Any, username: str, email: str, password: str, field: str, message: str
) -> None:
    body = _register(username, email, password)

    error = body["errors"][0]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert message in error["message"]
    assert body["data"] == {"register": None}
    assert User.objects.count() == 1


def test_first_bad_field_wins_in_graphql_and_all_are_reported_by_the_service(alice: Any) -> None:
    body = _register("alice", "nope", "1")
    assert body["errors"][0]["extensions"]["field"] == "username"

    with pytest.raises(Exception) as excinfo:
        user_register(username="alice", email="nope", password="1")
    assert list(excinfo.value.message_dict) == ["username", "email", "password"]


def test_username_and_email_are_unique_in_the_database_whatever_the_case(alice: Any) -> None:
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="Alice", email="other@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="other", email="ALICE@example.com")


def test_registered_user_can_log_in_by_email(db: Any) -> None:
    from tests.users.conftest import login

    _register("Trinity", "trinity@zion.org")
    assert login("TRINITY@zion.org", STRONG_PASSWORD)["user"]["username"] == "Trinity"
