"""Automatic persisted queries (Apollo's APQ protocol) and GraphQL-over-HTTP content types."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from django.test import Client

from tests.factories import GenreFactory

QUERY = "{ genres { name } }"
HASH = hashlib.sha256(QUERY.encode()).hexdigest()


def _ext(sha: str = HASH, version: int = 1) -> dict:
    return {"persistedQuery": {"version": version, "sha256Hash": sha}}


def _post(body: dict, **headers: Any) -> Any:
    return Client().post("/graphql/", json.dumps(body), "application/json", **headers)


def _get(**params: Any) -> Any:
    return Client().get(
        "/graphql/",
        {k: json.dumps(v) if isinstance(v, dict) else v for k, v in params.items()},
        HTTP_ACCEPT="application/json",
    )


@pytest.fixture
def noir(db: Any) -> Any:
    return GenreFactory(name="Film-Noir")


def test_hash_first_then_register_then_hash_alone(noir: Any) -> None:
    unknown = _post({"extensions": _ext()})
    assert unknown.status_code == 400
    assert unknown.json() == {
        "errors": [
            {
                "message": "PersistedQueryNotFound",
                "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
            }
        ]
    }
    registered = _post({"query": QUERY, "extensions": _ext()})
    assert registered.json() == {"data": {"genres": [{"name": "Film-Noir"}]}}
    assert _post({"extensions": _ext()}).json() == {"data": {"genres": [{"name": "Film-Noir"}]}}
    # GET with the hash alone: what CDNs cache.
    got = _get(extensions=_ext())
    assert (got.status_code, got.json()) == (200, {"data": {"genres": [{"name": "Film-Noir"}]}})


def test_variables_and_operation_name_travel_with_the_hash(noir: Any) -> None:
    query = "query Named($n: Int) { trending(first: $n) { title } }"
    sha = hashlib.sha256(query.encode()).hexdigest()
    _post({"query": query, "extensions": _ext(sha), "variables": {"n": 1}})
    got = _get(extensions=_ext(sha), variables={"n": 0}, operationName="Named")
    assert got.json() == {"data": {"trending": []}}


def test_a_query_that_does_not_match_its_hash_is_refused_and_not_stored(noir: Any) -> None:
    wrong = _post({"query": "{ me { username } }", "extensions": _ext()})
    assert wrong.status_code == 400
    assert wrong.json()["errors"][0]["extensions"] == {"code": "PERSISTED_QUERY_HASH_MISMATCH"}
    assert _post({"extensions": _ext()}).json()["errors"][0]["extensions"] == {
        "code": "PERSISTED_QUERY_NOT_FOUND"
    }


@pytest.mark.parametrize(
    "extensions",
    [
        _ext(version=2),
        _ext(sha="ABC"),
        {"persistedQuery": "yes"},
        "not json",
        ["persistedQuery"],
    ],
)
def test_malformed_extensions_are_bad_input(db: Any, extensions: Any) -> None:
    response = _post({"query": QUERY, "extensions": extensions})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT"}


def test_a_persisted_mutation_is_refused_over_get(db: Any) -> None:
    mutation = 'mutation { verifyToken(token: "x") { ok } }'
    sha = hashlib.sha256(mutation.encode()).hexdigest()
    _post({"query": mutation, "extensions": _ext(sha)})
    assert _get(extensions=_ext(sha)).status_code == 405


def test_graphql_response_json_is_answered_when_accepted(noir: Any) -> None:
    accept = "application/graphql-response+json, application/json;q=0.9"
    ok = _post({"query": QUERY}, HTTP_ACCEPT=accept)
    assert ok["Content-Type"] == "application/graphql-response+json"
    bad = _post({"query": "{ nope }"}, HTTP_ACCEPT=accept)
    assert (bad.status_code, bad["Content-Type"]) == (400, "application/graphql-response+json")
    unauthenticated = _post({"query": QUERY}, HTTP_ACCEPT=accept, HTTP_AUTHORIZATION="Bearer x")
    assert unauthenticated.status_code == 401
    assert unauthenticated["Content-Type"] == "application/graphql-response+json"
    assert _post({"query": QUERY})["Content-Type"] == "application/json"
