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


# --- Sign-in by the normalised name -----------------------------------------------------------
TOKEN_AUTH = """mutation($u: String!, $p: String!) {
  tokenAuth(username: $u, password: $p) { user { username } } }"""


def sign_in_graphql(url: str, username: str, password: str = STRONG_PASSWORD) -> Any:
    return gql(url, TOKEN_AUTH, {"u": username, "p": password})


def sign_in_rest(url: str, username: str, password: str = STRONG_PASSWORD) -> Any:
    import requests

    return requests.post(
        f"{url}/api/auth/token/", json={"username": username, "password": password}, timeout=30
    )


@pytest.mark.parametrize("typed", ["ALICE", "Alice", "ａｌｉｃｅ", "ＡＬＩＣＥ", " alice "])
def test_case_and_width_variants_sign_in_to_the_account(live_server: Any, typed: str) -> None:
    User.objects.create_user("alice", "alice@example.com", STRONG_PASSWORD)

    graphql = sign_in_graphql(live_server.url, typed)
    rest = sign_in_rest(live_server.url, typed)

    assert graphql.json()["data"]["tokenAuth"]["user"] == {"username": "alice"}, graphql.text
    assert rest.status_code == 200, rest.text


def test_a_fullwidth_account_signs_in_with_plain_letters(live_server: Any) -> None:
    """Names are stored as typed after NFKC, so this one is stored as ``bob``; the fold also
    covers characters NFKC keeps, such as ``ß`` (casefold: ``ss``)."""
    User.objects.create_user("ｂｏｂ", "bob@example.com", STRONG_PASSWORD)
    User.objects.create_user("straße", "s@example.com", STRONG_PASSWORD)

    assert sign_in_rest(live_server.url, "BOB").status_code == 200
    strasse = sign_in_graphql(live_server.url, "STRASSE")
    assert strasse.json()["data"]["tokenAuth"]["user"] == {"username": "straße"}, strasse.text


@pytest.mark.parametrize("typed", ["\u0430lice", "\u0430LICE", "a\u200blice", "al1ce"])
def test_a_look_alike_name_does_not_sign_in_as_the_account(live_server: Any, typed: str) -> None:
    """Same look-alike key as ``alice`` (or close to it), different letters: not ``alice``."""
    User.objects.create_user("alice", "alice@example.com", STRONG_PASSWORD)

    graphql = sign_in_graphql(live_server.url, typed)
    rest = sign_in_rest(live_server.url, typed)

    assert codes(graphql) == ["UNAUTHENTICATED"], graphql.text
    assert rest.status_code == 401, rest.text


def test_accounts_sharing_a_fold_from_before_the_check_sign_in_by_their_exact_name(
    live_server: Any,
) -> None:
    """Rows created before look-alikes were refused may share a fold; the exact name picks
    one, and a third spelling picks none rather than guessing."""
    first = User.objects.create_user("strasse", "a@example.com", STRONG_PASSWORD)
    User.objects.filter(pk=first.pk).update(username="straße")
    User.objects.create_user("STRASSE", "b@example.com", "another-strong-pass-91")

    straße = sign_in_graphql(live_server.url, "straße")
    upper = sign_in_graphql(live_server.url, "STRASSE", "another-strong-pass-91")

    assert straße.json()["data"]["tokenAuth"]["user"] == {"username": "straße"}, straße.text
    assert upper.json()["data"]["tokenAuth"]["user"] == {"username": "STRASSE"}, upper.text
    assert codes(sign_in_graphql(live_server.url, "Strasse")) == ["UNAUTHENTICATED"]


def test_case_variants_share_one_account_limit(live_server: Any, settings: Any) -> None:
    settings.LOGIN_BACKOFF = {**settings.LOGIN_BACKOFF, "client_free": 3, "base": 60}
    User.objects.create_user("alice", "alice@example.com", STRONG_PASSWORD)

    for variant in ["alice", "ALICE", "ａｌｉｃｅ"]:
        assert codes(sign_in_graphql(live_server.url, variant, "guess")) == ["UNAUTHENTICATED"]
    held = sign_in_graphql(live_server.url, "Alice", STRONG_PASSWORD)
    assert held.status_code == 429, held.text
    assert sign_in_rest(live_server.url, "ＡＬＩＣＥ").status_code == 429

    # Unknown names are limited by their fold too.
    for variant in ["nobody", "NOBODY", "ｎｏｂｏｄｙ"]:
        assert codes(sign_in_graphql(live_server.url, variant, "guess")) == ["UNAUTHENTICATED"]
    assert sign_in_graphql(live_server.url, "Nobody", "guess").status_code == 429
