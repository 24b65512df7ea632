from django.db.models import Count

from movierec.graphql.dataloaders import BaseLoader, group_by
from movies.models import Genre
from ratings.models import Rating
from users.models import User


class FavoriteGenresByUserLoader(BaseLoader[int, list[Genre]]):
    context_key = "favorite_genres_by_user"

    def batch_load(self, keys: list[int]) -> list[list[Genre]]:
        through = User.favorite_genres.through
        rows = (
            through.objects.filter(user_id__in=keys).select_related("genre").order_by("genre__name")
        )
        grouped = group_by(rows, "user_id")
        return [[row.genre for row in grouped.get(key, [])] for key in keys]


class RatingCountByUserLoader(BaseLoader[int, int]):
    """How many movies each user rated: one GROUP BY for every user on the page."""

    context_key = "rating_count_by_user"

    def batch_load(self, keys: list[int]) -> list[int]:
        counts = dict(
            Rating.objects.filter(user_id__in=keys)
            .order_by()
            .values("user_id")
            .annotate(n=Count("id"))
            .values_list("user_id", "n")
        )
        return [counts.get(key, 0) for key in keys]
