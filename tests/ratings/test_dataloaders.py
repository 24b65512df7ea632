"""Movie.myRating is one query for a whole list of movies, whoever is looking."""

import graphene
import pytest

from movierec.graphql.dataloaders import DeferredExecutionContext
from movies.graphql.types import Movie as MovieType
from movies.models import Movie
from tests.factories import MovieFactory, RatingFactory, UserFactory
from tests.lists_helpers import count_queries

pytestmark = pytest.mark.django_db


class _Query(graphene.ObjectType):
    movies = graphene.List(graphene.NonNull(MovieType))

    @staticmethod
    def resolve_movies(root, info):
        return list(Movie.objects.order_by("id"))


_schema = graphene.Schema(query=_Query)


class _Context:
    def __init__(self, user):
        self.user = user


@pytest.mark.parametrize("n", [5, 50])
def test_my_rating_for_a_list_of_movies_is_one_query(n):
    viewer, other = UserFactory(), UserFactory()
    movies = [MovieFactory() for _ in range(n)]
    for movie in movies[::2]:
        RatingFactory(user=viewer, movie=movie, score=3)
    for movie in movies:
        RatingFactory(user=other, movie=movie, score=1)
    queries, result = count_queries(
        lambda: _schema.execute(
            "{ movies { title myRating { score } } }",
            context_value=_Context(viewer),
            execution_context_class=DeferredExecutionContext,
        )
    )
    assert result.errors is None
    assert queries == 2  # the movies, then the viewer's ratings of all of them
    expected = [{"score": 3.0} if i % 2 == 0 else None for i in range(n)]
    assert [m["myRating"] for m in result.data["movies"]] == expected


def test_my_rating_is_null_for_anonymous_without_a_query():
    RatingFactory()
    queries, result = count_queries(
        lambda: _schema.execute(
            "{ movies { myRating { score } } }",
            context_value=_Context(None),
            execution_context_class=DeferredExecutionContext,
        )
    )
    assert result.errors is None
    assert result.data == {"movies": [{"myRating": None}]}
    assert queries == 1
