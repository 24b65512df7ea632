"""``extend_type``: apps add fields to types they do not own, never silently override one."""

import graphene
import pytest
from django.core.exceptions import ImproperlyConfigured

from movierec.graphql.extend import extend_type


def _schema_of(type_):
    class Query(graphene.ObjectType):
        thing = graphene.Field(type_)

        @staticmethod
        def resolve_thing(root, info):
            return {"name": "owned"}

    return graphene.Schema(query=Query)


def test_an_extension_field_resolves_with_its_own_resolver():
    class Thing(graphene.ObjectType):
        name = graphene.String()

        @staticmethod
        def resolve_name(root, info):
            return root["name"]

    field = graphene.Int(resolver=lambda root, info: len(root["name"]))
    extend_type(Thing, name_length=field)
    extend_type(Thing, name_length=field)  # a repeated ready(): no-op

    result = _schema_of(Thing).execute("{ thing { name nameLength } }")
    assert result.errors is None
    assert result.data == {"thing": {"name": "owned", "nameLength": 5}}


def test_extending_a_field_the_type_has_is_refused():
    class Thing(graphene.ObjectType):
        name = graphene.String()

    with pytest.raises(ImproperlyConfigured, match="Thing.name is already defined"):
        extend_type(Thing, name=graphene.String())


def test_the_apps_extensions_are_in_the_schema():
    from movierec.schema import schema

    movie = schema.graphql_schema.type_map["Movie"].fields
    user = schema.graphql_schema.type_map["User"].fields
    assert {"myRating", "reviews", "similar", "matchScore"} <= set(movie)
    assert {"ratingCount", "watchlist", "playlists"} <= set(user)
