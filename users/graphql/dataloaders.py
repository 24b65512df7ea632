from __future__ import annotations

from typing import TYPE_CHECKING

from movierec.graphql.dataloaders import BaseLoader, group_by
from users import selectors
from users.models import User

if TYPE_CHECKING:
    from movies.models import Genre


class FavoriteGenresByUserLoader(BaseLoader[int, list["Genre"]]):
    context_key = "favorite_genres_by_user"

    def batch_load(self, keys: list[int]) -> list[list[Genre]]:
        through = User.favorite_genres.through
        rows = (
            through.objects.filter(user_id__in=keys).select_related("genre").order_by("genre__name")
        )
        grouped = group_by(rows, "user_id")
        return [[row.genre for row in grouped.get(key, [])] for key in keys]


class UserByIdLoader(BaseLoader[int, User | None]):
    """User edges of other apps' types: ``Rating.user`` and ``Playlist.owner``."""

    context_key = "users.user_by_id"

    def batch_load(self, keys: list[int]) -> list[User | None]:
        users = selectors.users_by_ids(user_ids=keys)
        return [users.get(key) for key in keys]
