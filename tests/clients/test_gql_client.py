"""The Python gql example of docs/clients.md against a live server."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest
from gql import gql
from gql.transport.exceptions import TransportQueryError

from tests.clients.conftest import CLIENTS, expired_access_for
from tests.factories import PASSWORD, GenreFactory


def _example() -> Any:
    spec = importlib.util.spec_from_file_location("gql_example", CLIENTS / "gql_example.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gql_example_signs_in_queries_and_refreshes(live_server: Any, member: Any) -> None:
    GenreFactory(name="Film-Noir")
    session = _example().Movierec(f"{live_server.url}/graphql/")
    session.sign_in("MORPHEUS", PASSWORD)
    first_refresh = session.tokens["refresh"]
    assert session.execute(gql("{ me { username } genres { name } }")) == {
        "me": {"username": "morpheus"},
        "genres": [{"name": "Film-Noir"}],
    }
    session.tokens["access"] = expired_access_for(member)
    assert session.execute(gql("query($n: Int) { trending(first: $n) { title } }"), n=1) == {
        "trending": []
    }
    assert session.tokens["refresh"] != first_refresh


def test_gql_example_surfaces_other_errors_with_their_code(live_server: Any, member: Any) -> None:
    session = _example().Movierec(f"{live_server.url}/graphql/")
    session.sign_in("morpheus", PASSWORD)
    with pytest.raises(TransportQueryError) as error:
        session.execute(gql('mutation { markNotInterested(movieId: "TW92aWU6MQ==") { ok } }'))
    assert error.value.errors[0]["extensions"]["code"] == "NOT_FOUND"
