"""The shared loader batches per request: one query for any number of parents."""

import graphene
import pytest
from graphql_sync_dataloaders import DeferredExecutionContext

from tests.factories import GenreFactory, UserFactory
from users.graphql.types import User as UserType
from users.models import User

pytestmark = pytest.mark.django_db


class _Query(graphene.ObjectType):
    users = graphene.List(graphene.NonNull(UserType))

    @staticmethod
    def resolve_users(root, info):
        return list(User.objects.order_by("id"))


_schema = graphene.Schema(query=_Query)


class _Context:
    user = None


def _run():
    return _schema.execute(
        "{ users { username favoriteGenres { name } } }",
        context_value=_Context(),
        execution_context_class=DeferredExecutionContext,
    )


@pytest.mark.parametrize("n_users", [2, 20])
def test_favorite_genres_load_in_one_query_for_any_number_of_users(
    n_users, django_assert_num_queries
):
    genres = [GenreFactory(name=f"G{i}") for i in range(3)]
    for _ in range(n_users):
        UserFactory().favorite_genres.set(genres[:2])
    with django_assert_num_queries(2):  # users, then all their genres at once
        result = _run()
    assert result.errors is None
    assert len(result.data["users"]) == n_users
    assert all(
        [g["name"] for g in u["favoriteGenres"]] == ["G0", "G1"] for u in result.data["users"]
    )
