"""Request limits of /graphql/: every abuse gets a JSON error with the contract's code, no 500."""

import json

import pytest
from django.test import Client
from graphql import get_introspection_query

from tests.factories import CreditFactory, MovieFactory

pytestmark = pytest.mark.django_db

PAGE_WITH_CREDITS = (
    "movies(first: 100) { edges { node { title credits { name } genres { name } } } }"
)


def _post(body, content_type="application/json"):
    return Client().post("/graphql/", data=body, content_type=content_type)


def _only_error(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert "data" not in body or body["data"] is None
    assert len(body["errors"]) == 1, body
    return body["errors"][0]


def _query(query, variables=None, operation_name=None):
    payload = {"query": query, "variables": variables or {}}
    if operation_name:
        payload["operationName"] = operation_name
    return _post(json.dumps(payload))


def test_depth_over_the_limit_is_too_complex(settings):
    settings.GRAPHQL_MAX_DEPTH = 3
    MovieFactory()
    ok = _query("{ movies { edges { node { title } } } }")
    assert ok.status_code == 200 and "errors" not in ok.json()
    error = _only_error(_query("{ movies { edges { node { genres { name } } } } }"), 400)
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "depth": 4, "maxDepth": 3}


def test_depth_counts_through_fragments_and_unknown_fields():
    inner = "a { " * 12 + "b" + " }" * 12
    error = _only_error(
        _query(f"query {{ movies {{ ...F }} }} fragment F on MovieConnection {{ {inner} }}"), 400
    )
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["depth"] == 13


def test_one_full_page_with_nested_lists_is_allowed():
    movie = MovieFactory()
    CreditFactory(movie=movie)
    response = _query(f"{{ {PAGE_WITH_CREDITS} }}")
    assert response.status_code == 200
    assert response.json()["data"]["movies"]["edges"][0]["node"]["credits"] != []


def test_aliased_full_pages_exceed_the_cost_limit(settings):
    settings.GRAPHQL_MAX_COMPLEXITY = 5000
    query = "{ " + " ".join(f"p{i}: {PAGE_WITH_CREDITS}" for i in range(3)) + " }"
    error = _only_error(_query(query), 400)
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "cost": 6603, "maxCost": 5000}
    assert "exceeds the limit of 5000" in error["message"]


@pytest.mark.parametrize(("first", "too_complex"), [(10, False), (100, True)])
def test_cost_uses_the_variables_of_the_request(first, too_complex, settings):
    settings.GRAPHQL_MAX_COMPLEXITY = 5000
    page = "movies(first: $n) { edges { node { credits { name } genres { name } } } }"
    query = "query($n: Int) { " + " ".join(f"p{i}: {page}" for i in range(3)) + " }"
    response = _query(query, {"n": first})
    if too_complex:
        assert _only_error(response, 400)["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    else:
        assert response.status_code == 200 and "errors" not in response.json()


def test_cost_of_nested_credits_first_is_bounded_by_the_page_cap(settings):
    settings.GRAPHQL_MAX_COMPLEXITY = 100
    query = "{ movies(first: 2) { edges { node { credits(first: 1000) { name } } } } }"
    # 1 + 2 * (1 + 1 + 100 * 1): first counts at most 100 here; the resolver rejects 1000.
    error = _only_error(_query(query), 400)
    assert error["extensions"]["cost"] == 205


def test_too_many_aliases_is_too_complex():
    MovieFactory(tmdb_id=7)
    fields = " ".join(f"t{i}: title" for i in range(31))
    error = _only_error(_query(f"{{ movie(tmdbId: 7) {{ {fields} }} }}"), 400)
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "aliases": 31, "maxAliases": 30}
    fields = " ".join(f"t{i}: title" for i in range(30))
    assert "errors" not in _query(f"{{ movie(tmdbId: 7) {{ {fields} }} }}").json()


def test_too_many_tokens_is_too_complex_before_validation():
    query = "{ movies { edges { node { " + "title " * 2100 + "} } } }"
    error = _only_error(_query(query), 400)
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX"}


@pytest.mark.parametrize("first", [101, -1])
def test_first_out_of_range_is_bad_input(first):
    response = _query(f"{{ movies(first: {first}) {{ totalCount }} }}")
    error = _only_error(response, 200)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "first"}


def test_oversized_body_is_a_json_error(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    query = "{ genres { name } }" + " " * 2000
    error = _only_error(_query(query), 413)
    assert error == {
        "message": "Request body exceeds 1024 bytes.",
        "extensions": {"code": "BAD_USER_INPUT"},
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"query": "{ genres { name } }"', "POST body sent invalid JSON."),
        (b"\xff\xfe", "POST body sent invalid JSON."),
        ("5", 'The body must be a JSON object {"query": ..., "variables": ...}.'),
        (
            '[{"query": "{ genres { name } }"}]',
            "Batched operations are not supported; send one operation per request.",
        ),
        ('{"query": 5}', "`query` must be a string."),
        (
            '{"query": "{ genres { name } }", "variables": [1]}',
            "`variables` must be a JSON object.",
        ),
        (
            '{"query": "{ genres { name } }", "operationName": 3}',
            "`operationName` must be a string.",
        ),
        ("{}", "Must provide query string."),
    ],
)
def test_malformed_requests_are_bad_input(body, message):
    error = _only_error(_post(body), 400)
    assert error == {"message": message, "extensions": {"code": "BAD_USER_INPUT"}}


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ movies { nope } }", "GRAPHQL_VALIDATION_FAILED"),
        ('{ movies(first: "ten") { totalCount } }', "GRAPHQL_VALIDATION_FAILED"),
        ("{ movies {", "GRAPHQL_PARSE_FAILED"),
        ("query { movies { ...Missing } }", "GRAPHQL_VALIDATION_FAILED"),
        (
            "query { movies { ...A } } fragment A on MovieConnection { ...B } "
            "fragment B on MovieConnection { ...A }",
            "GRAPHQL_VALIDATION_FAILED",
        ),
    ],
)
def test_invalid_documents_are_refused_with_400_and_a_document_code(query, code):
    response = _query(query)
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert body["errors"]
    assert {e["extensions"]["code"] for e in body["errors"]} == {code}


def test_unknown_field_names_the_field_and_suggests():
    body = _query("{ genres { nmae } }").json()
    assert body["errors"] == [
        {
            "message": "Cannot query field 'nmae' on type 'Genre'. Did you mean 'name'?",
            "locations": [{"line": 1, "column": 12}],
            "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
        }
    ]


def test_operation_name_selects_one_operation():
    MovieFactory(title="Heat")
    doc = "query A { genres { name } } query B { movies { edges { node { title } } } }"
    body = _query(doc, operation_name="B").json()
    assert body == {"data": {"movies": {"edges": [{"node": {"title": "Heat"}}]}}}


def test_full_introspection_passes_the_limits():
    response = _query(get_introspection_query(descriptions=True))
    assert response.status_code == 200
    assert "errors" not in response.json()
    assert response.json()["data"]["__schema"]["queryType"]["name"] == "Query"


def test_a_variable_free_document_is_checked_once_per_limits_and_a_variable_one_each_time(
    settings,
):
    """Limits of a document without variables are cached with the limits they were checked
    against; with variables they are costed against each request's values."""
    MovieFactory()
    deep = "{ movies { edges { node { genres { name } } } } }"
    assert "errors" not in _query(deep).json()
    assert "errors" not in _query(deep).json()  # answered from the cached check
    settings.GRAPHQL_MAX_DEPTH = 3  # new limits: checked again, not served stale
    assert _only_error(_query(deep), 400)["extensions"]["depth"] == 4
    settings.GRAPHQL_MAX_DEPTH = 30
    paged = "query($n: Int) { movies(first: $n) { edges { node { credits { name } } } } }"
    assert "errors" not in _query(paged, {"n": 5}).json()
    settings.GRAPHQL_MAX_COMPLEXITY = 50
    assert "errors" not in _query(paged, {"n": 1}).json()
    error = _only_error(_query(paged, {"n": 100}), 400)
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX" and error["extensions"]["cost"] > 50
