"""Read-side queries for movies; GraphQL resolvers and other apps call these."""

from django.db.models import QuerySet

from movies.models import Genre


def genre_list() -> QuerySet[Genre]:
    return Genre.objects.order_by("name")
