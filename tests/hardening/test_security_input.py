"""Abuse of the GraphQL and REST input paths, over real HTTP against a live server.

Each test is a red-team reproduction of issue 11 (cost bypass, ``%`` in messages, NUL bytes and
lone surrogates, deeply nested JSON, null enum arguments, introspection and suggestions).
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
import requests

from tests.factories import GenreFactory
from tests.users.conftest import STRONG_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def post(url: str, body: Any, token: str | None = None, path: str = "/graphql/") -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return requests.post(f"{url}{path}", data=data, headers=headers, timeout=30)


def gql(url: str, query: str, variables: Any = None, token: str | None = None) -> Any:
    return post(url, {"query": query, "variables": variables or {}}, token)


def codes(response: Any) -> list[str]:
    return [e["extensions"]["code"] for e in response.json().get("errors", [])]


def register(url: str, username: str = "mallory") -> str:
    query = """mutation($u: String!, $e: String!, $p: String!) {
      register(username: $u, email: $e, password: $p) { access } }"""
    response = gql(
        url, query, {"u": username, "e": f"{username}@example.com", "p": STRONG_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]["register"]["access"]


NESTED = """query($n: Int%s) { movies(first: $n) { edges { node { id
  similar(first: $n) { id similar(first: $n) { id title } } } } } }"""


# --- 1. cost limit through variable defaults ---------------------------------------------------
def test_variable_defaults_count_towards_the_cost_limit(live_server: Any) -> None:
    attempts = [
        (NESTED % " = 50", {}),  # the default is the value (answered 200, 6.9 MB, before)
        (NESTED % " = 50", {"n": 50}),  # sent explicitly (was already refused)
        (NESTED % "", {"n": "fifty"}),  # not coercible: assume the page cap
        (NESTED % "", {"n": None}),  # null: unknown, assume the page cap
    ]
    for query, variables in attempts:
        response = gql(live_server.url, query, variables)

        assert response.status_code == 400, (variables, response.text)
        assert codes(response) == ["QUERY_TOO_COMPLEX"]
        assert response.json()["errors"][0]["extensions"]["cost"] > 20000

    # A small default is costed small and runs.
    small = gql(live_server.url, NESTED % " = 2", {})
    assert small.status_code == 200
    assert "errors" not in small.json(), small.text


# --- 2. '%' in user input ---------------------------------------------------------------------
def test_percent_signs_in_input_give_bad_user_input_verbatim(live_server: Any) -> None:
    GenreFactory(name="Drama")
    token = register(live_server.url)
    for text in ["50%, off", "%s", "%d", "%(x)s", "100%"]:
        _assert_percent_text_refused(live_server.url, token, text)


def _assert_percent_text_refused(url: str, token: str, text: str) -> None:
    attempts = [
        gql(url, "query($g: [String!]) { movies(genres: $g) { totalCount } }", {"g": [text]}),
        gql(
            url,
            "mutation($g: [String!]!) { setFavoriteGenres(genres: $g) { id } }",
            {"g": [text]},
            token,
        ),
        gql(
            url,
            "query($g: String) { recommendations(genre: $g) { score } }",
            {"g": text},
        ),
    ]
    for response in attempts:
        assert response.status_code == 200, response.text
        errors = response.json()["errors"]
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT", errors
        assert text in errors[0]["message"], errors


# --- 8. NUL bytes and lone surrogates ---------------------------------------------------------
BAD_TEXT = ["a\x00b", "a\ud800b", "\udfff"]
TEXT_INPUTS = [
    ("query($s: String) { movies(search: $s) { totalCount } }", "s", False),
    ("query($s: String) { movies(language: $s) { totalCount } }", "s", False),
    ("query($s: String!) { user(username: $s) { username } }", "s", False),
    (
        'mutation($s: String!) { register(username: $s, email: "x@example.com", '
        'password: "violet-Tapestry-93") { access } }',
        "s",
        False,
    ),
    ('mutation($s: String!) { tokenAuth(username: $s, password: "x") { access } }', "s", False),
    ('mutation($s: String!) { tokenAuth(username: "x", password: $s) { access } }', "s", False),
    ("mutation($s: String!) { createPlaylist(title: $s) { id } }", "s", True),
    (
        "mutation($s: String!) { changePassword(oldPassword: $s, newPassword: $s) { access } }",
        "s",
        True,
    ),
    ("mutation($s: String!) { deleteAccount(password: $s) { ok } }", "s", True),
]


def test_nul_and_surrogates_are_bad_user_input_in_every_text_input(live_server: Any) -> None:
    token = register(live_server.url)
    for bad, (query, name, signed_in) in itertools.product(BAD_TEXT, TEXT_INPUTS):
        response = gql(live_server.url, query, {name: bad}, token if signed_in else None)
        assert response.status_code in (200, 400), (query, response.text)
        assert codes(response) == ["BAD_USER_INPUT"], (query, response.text)


def test_nul_and_surrogates_in_query_literals_are_bad_user_input(live_server: Any) -> None:
    for literal in ['"a\\u0000b"', '"a\\ud800b"', '"""a\x00b"""']:
        response = gql(live_server.url, f"{{ movies(search: {literal}) {{ totalCount }} }}")

        assert codes(response) == ["BAD_USER_INPUT"], (literal, response.text)


def test_nul_in_a_review_and_a_note_is_bad_user_input(live_server: Any) -> None:
    from tests.factories import MovieFactory

    movie = MovieFactory()
    token = register(live_server.url)
    movie_id = gql(live_server.url, "{ movies(first: 1) { edges { node { id } } } }").json()[
        "data"
    ]["movies"]["edges"][0]["node"]["id"]
    assert movie is not None
    review = gql(
        live_server.url,
        "mutation($m: ID!, $r: String) { rateMovie(movieId: $m, score: 4, review: $r) { id } }",
        {"m": movie_id, "r": "ok\x00"},
        token,
    )
    playlist = gql(
        live_server.url, 'mutation { createPlaylist(title: "p") { id } }', None, token
    ).json()["data"]["createPlaylist"]["id"]
    note = gql(
        live_server.url,
        "mutation($p: ID!, $m: ID!, $n: String) "
        "{ addToPlaylist(playlistId: $p, movieId: $m, note: $n) { id } }",
        {"p": playlist, "m": movie_id, "n": "\ud83d"},
        token,
    )
    assert codes(review) == ["BAD_USER_INPUT"], review.text
    assert codes(note) == ["BAD_USER_INPUT"], note.text


def test_rest_sign_in_refuses_unstorable_text_as_bad_user_input(live_server: Any) -> None:
    for bad in BAD_TEXT:
        body = {"username": bad, "password": "x"}
        response = post(live_server.url, body, path="/api/auth/token/")

        assert response.status_code == 400, response.text
        assert codes(response) == ["BAD_USER_INPUT"]


# --- 9. deeply nested JSON --------------------------------------------------------------------
def test_deeply_nested_json_is_a_json_400(live_server: Any) -> None:
    paths = ["/graphql/", "/api/auth/token/", "/api/auth/register/"]
    for path, depth in itertools.product(paths, [1000, 100000]):
        nested = "[" * depth + "]" * depth
        body = '{"query": "{ __typename }", "variables": {"x": ' + nested + "}}"

        response = post(live_server.url, body, path=path)

        assert response.status_code == 400, (path, depth, response.text[:200])
        assert response.headers["Content-Type"].startswith("application/json")
        assert codes(response) == ["BAD_USER_INPUT"]


def test_deeply_nested_variables_as_a_string_or_in_a_get_are_a_400(live_server: Any) -> None:
    import requests

    deep = "[" * 100000 + "]" * 100000
    as_string = post(live_server.url, {"query": "{ __typename }", "variables": deep})
    as_get = requests.get(
        f"{live_server.url}/graphql/",
        params={"query": "{ __typename }", "variables": "[" * 5000 + "]" * 5000},
        headers={"Accept": "application/json"},
        timeout=30,
    )

    for response in (as_string, as_get):
        assert response.status_code == 400, response.text[:200]
        assert codes(response) == ["BAD_USER_INPUT"]


def test_nested_but_acceptable_variables_do_not_crash(live_server: Any) -> None:
    nested: Any = "x"
    for _ in range(400):
        nested = [nested]
    response = gql(
        live_server.url,
        "query($s: String) { movies(search: $s) { totalCount } }",
        {"s": "x", "extra": nested},
    )

    assert response.status_code == 200
    assert "errors" not in response.json(), response.text


# --- 10. null for an argument with a default --------------------------------------------------
def test_null_for_a_defaulted_argument_means_the_default(live_server: Any) -> None:
    for query in [
        "{ trending(window: null) { id } }",
        "query($w: TrendWindow) { trending(window: $w) { id } }",
        "{ trending(first: null) { id } }",
    ]:
        response = gql(live_server.url, query, {"w": None})

        assert response.status_code == 200
        assert response.json() == {"data": {"trending": []}}, (query, response.text)
