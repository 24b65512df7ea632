"""The Apollo Client and urql examples of docs/clients.md, run by Node.js on a live server."""

from __future__ import annotations

from typing import Any

from tests.factories import GenreFactory


def test_apollo_signs_in_refreshes_an_expired_token_and_persists_queries(
    run_node: Any, member: Any
) -> None:
    GenreFactory(name="Film-Noir")
    result = run_node("run_apollo.mjs")
    assert result["me"] == {"__typename": "User", "username": "morpheus"}
    assert result["rotated"] is True  # the refresh token was rotated and kept
    assert result["genres"] == [{"__typename": "Genre", "name": "Film-Noir"}]
    assert result["sameAgain"] is True
    # APQ: each operation is offered as a hash first, then registered once; the refresh is a
    # plain POST. A query known to the server needs its hash alone, by GET.
    assert result["requests"] == [
        {"operation": "SignIn", "method": "POST", "withQuery": False, "persisted": True},
        {"operation": "SignIn", "method": "POST", "withQuery": True, "persisted": True},
        {"operation": "Me", "method": "GET", "withQuery": False, "persisted": True},  # 401
        {"operation": "(refresh)", "method": "POST", "withQuery": True, "persisted": False},
        {"operation": "Me", "method": "GET", "withQuery": False, "persisted": True},
        # Re-sent by the error link's retry, Apollo registers it in the URL of a GET.
        {"operation": "Me", "method": "GET", "withQuery": True, "persisted": True},
        {"operation": "Genres", "method": "GET", "withQuery": False, "persisted": True},
        {"operation": "Genres", "method": "POST", "withQuery": True, "persisted": True},
        {"operation": "Genres", "method": "GET", "withQuery": False, "persisted": True},
    ]
    assert result["secondRequests"] == result["requests"][-1:]


def test_urql_signs_in_and_refreshes_an_expired_token(run_node: Any, member: Any) -> None:
    GenreFactory(name="Film-Noir")
    result = run_node("run_urql.mjs")
    assert result == {
        "me": {"__typename": "User", "username": "morpheus"},
        "rotated": True,
        "genres": [{"__typename": "Genre", "name": "Film-Noir"}],
    }
