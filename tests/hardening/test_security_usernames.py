"""Look-alike usernames (issue 11, item 13) over a live server, plus the admin rename path."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.hardening.test_security_input import codes, gql
from tests.users.conftest import STRONG_PASSWORD
from users.models import User
from users.usernames import username_key

pytestmark = pytest.mark.django_db(transaction=True)

REGISTER = """mutation($u: String!, $e: String!, $p: String!) {
  register(username: $u, email: $e, password: $p) { user { username } } }"""


def register(url: str, username: str, n: int) -> Any:
    return gql(url, REGISTER, {"u": username, "e": f"u{n}@example.com", "p": STRONG_PASSWORD})


LOOK_ALIKES = [
    ("alice", "\u0430lice"),  # Cyrillic а
    ("straße", "STRASSE"),
    ("alice", "ａｌｉｃｅ"),  # fullwidth
    ("paypal", "paypa1"),  # digit one for l
    ("scott", "\u0455cott"),  # Cyrillic ѕ
    ("Oscar", "oscar"),
]


def test_look_alike_usernames_are_refused(live_server: Any) -> None:
    for first, second in LOOK_ALIKES:
        User.objects.all().delete()
        assert "errors" not in register(live_server.url, first, 1).json()

        response = register(live_server.url, second, 2)

        assert codes(response) == ["BAD_USER_INPUT"], (second, response.text)
        assert response.json()["errors"][0]["extensions"]["field"] == "username"
        assert User.objects.count() == 1


def test_distinct_names_still_register(live_server: Any) -> None:
    for n, name in enumerate(["alice", "alicia", "bob", "bobby", "straßen", "müller"]):
        assert "errors" not in register(live_server.url, name, n).json()
    assert User.objects.count() == 6


def test_rest_registration_refuses_look_alikes(live_server: Any) -> None:
    import requests

    assert "errors" not in register(live_server.url, "alice", 1).json()
    response = requests.post(
        f"{live_server.url}/api/auth/register/",
        json={"username": "\u0430lice", "email": "c@example.com", "password": STRONG_PASSWORD},
        timeout=30,
    )
    assert response.status_code == 400
    assert codes(response) == ["BAD_USER_INPUT"]


def test_admin_rename_to_a_look_alike_is_refused(live_server: Any) -> None:
    User.objects.create_superuser("root", "root@example.com", STRONG_PASSWORD)
    alice = User.objects.create_user("alice", "alice@example.com", STRONG_PASSWORD)
    bob = User.objects.create_user("bob", "bob@example.com", STRONG_PASSWORD)
    client = Client()
    client.login(username="root", password=STRONG_PASSWORD)
    page = client.get(f"/admin/users/user/{bob.pk}/change/")
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, list)}
    data.update(
        {
            "username": "\u0430lice",
            "date_joined_0": bob.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": bob.date_joined.strftime("%H:%M:%S"),
            "favorite_genres": [],
            "groups": [],
            "user_permissions": [],
        }
    )
    data.pop("date_joined", None)
    data.pop("last_login", None)
    data.pop("password", None)

    response = client.post(f"/admin/users/user/{bob.pk}/change/", data)

    assert response.status_code == 200  # the form again, with the error
    assert "looks the same" in response.content.decode()
    bob.refresh_from_db()
    assert bob.username == "bob"
    assert username_key(alice.username) == alice.username_key
