"""Every ```graphql example in README.md and docs/*.md is valid against the schema, and runs
without errors through the real endpoint against demo-like data (a catalogue synced from the
TMDb dev server, with the real titles the docs name, and the demo account)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    DocumentNode,
    EnumTypeDefinitionNode,
    GraphQLEnumType,
    ListTypeNode,
    NamedTypeNode,
    NonNullTypeNode,
    OperationDefinitionNode,
    parse,
    print_ast,
    validate,
)

from movierec.demo import DEMO_PASSWORD, DEMO_USERNAME
from movierec.schema import schema
from movies import services
from movies.sync import jobs
from tests.conftest import GraphQLClient, access_token_for
from tests.factories import UserFactory
from tests.movies.sync_fixtures import PAGES, _sync_server, sync_catalogue, tmdb_server  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"^(?P<indent>[ \t]*)```graphql\n(?P<body>.*?)^(?P=indent)```", re.M | re.S)


def _operations() -> list[tuple[str, str]]:
    """(``file:line#n``, operation source) for each operation of each graphql block."""
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text()
        for block in BLOCK.finditer(text):
            line = text.count("\n", 0, block.start()) + 1
            document = parse(textwrap.dedent(block["body"]))
            for n, definition in enumerate(document.definitions):
                assert isinstance(definition, OperationDefinitionNode | EnumTypeDefinitionNode)
                if isinstance(definition, OperationDefinitionNode):
                    source = print_ast(DocumentNode(definitions=(definition,)))
                    found.append((f"{path.relative_to(ROOT)}:{line}#{n}", source))
    return found


OPERATIONS = _operations()


def test_the_docs_have_examples_for_the_main_queries():
    sources = "\n".join(source for _, source in OPERATIONS)
    for name in ("tokenAuth", "movies(", "trending(", "recommendations(", "rateMovie("):
        assert name in sources, name
    assert len(OPERATIONS) >= 10


@pytest.mark.parametrize("where,source", OPERATIONS, ids=[w for w, _ in OPERATIONS])
def test_example_is_valid_against_the_schema(where, source):
    errors = validate(schema.graphql_schema, parse(source))
    assert not errors, f"{where}: {[e.message for e in errors]}"


@pytest.fixture
def demo_like(db, tmdb_server) -> dict[str, Any]:  # noqa: F811
    """The dev server's catalogue synced as `make run` does, the demo account, a playlist."""
    client = services.tmdb_client_from_settings()
    jobs.genres_sync(client=client)
    jobs.popular_sync(pages=PAGES, client=client)
    jobs.trending_sync(window="week", client=client)
    user = UserFactory(username=DEMO_USERNAME, password=DEMO_PASSWORD)
    api = GraphQLClient(access_token_for(user))
    godfather = api.data('{ movies(search: "the godfather", first: 1) { edges { node { id } } } }')
    playlist = api.data('mutation { createPlaylist(title: "Docs") { id } }')["createPlaylist"]
    return {
        "api": api,
        "movie": godfather["movies"]["edges"][0]["node"]["id"],
        "playlist": playlist["id"],
    }


def _value(name: str, type_node: Any, demo: dict[str, Any]) -> Any:
    """A plausible value for an example's variable, from its name and type."""
    if isinstance(type_node, NonNullTypeNode):
        return _value(name, type_node.type, demo)
    if isinstance(type_node, ListTypeNode):
        return [_value(name, type_node.type, demo)]
    assert isinstance(type_node, NamedTypeNode)
    kind = type_node.name.value
    if kind == "ID":
        return demo["playlist"] if name in ("p", "playlist", "playlistId") else demo["movie"]
    named = schema.graphql_schema.get_type(kind)
    if isinstance(named, GraphQLEnumType):
        return next(iter(named.values))
    strings = {"username": DEMO_USERNAME, "password": DEMO_PASSWORD, "search": "godfather"}
    scalars = {"Int": 5, "Float": 4.5, "Boolean": True, "String": strings.get(name, "Docs")}
    assert kind in scalars, f"no example value for ${name}: {kind}; add one here"
    return scalars[kind]


def test_every_example_runs_against_demo_like_data(demo_like):
    for where, source in OPERATIONS:
        operation = parse(source).definitions[0]
        variables = {
            v.variable.name.value: _value(v.variable.name.value, v.type, demo_like)
            for v in operation.variable_definitions
        }
        body = demo_like["api"](source, variables)
        assert "errors" not in body, f"{where}: {body['errors']}"
        assert body["data"], where


@pytest.mark.parametrize(
    "typo,title", [("godfater", "The Godfather"), ("the godfahter", "The Godfather"),
                   ("interstelar", "Interstellar")],
)  # fmt: skip
def test_the_search_guides_typo_examples_find_their_movies(demo_like, typo, title):
    guide = (ROOT / "docs" / "search.md").read_text()
    assert f'"{typo}"' in guide and title in guide
    found = demo_like["api"].data(
        "query($q: String) { movies(search: $q, first: 5) { edges { node { title } } } }",
        {"q": typo},
    )
    assert title in [edge["node"]["title"] for edge in found["movies"]["edges"]]


LINK = re.compile(r"\]\((?!https?://|#|mailto:)(?P<target>[^)#\s]+)")


def test_docs_link_only_inside_the_repository():
    """A fresh clone has nothing outside it (docs/api.md once linked ../shared/API.md)."""
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text()
        assert "../shared" not in text, path
        for link in LINK.finditer(text):
            target = (path.parent / link["target"]).resolve()
            assert target.is_relative_to(ROOT), f"{path.name} links {link['target']}"
