from decimal import Decimal

from django.conf import settings
from django.db import models

#: The half-star scale: 0.5, 1.0, ... 5.0. Enforced by a CHECK constraint in the database.
SCORES = tuple(Decimal(n) / 2 for n in range(1, 11))


class Rating(models.Model):
    # No single-column FK indexes: (user, movie) and (user, -updated_at, id) lead with user_id,
    # (movie, -updated_at, id) leads with movie_id, and every lookup by either uses those.
    # Two fewer indexes to maintain on each write (and on a 25M-row import).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ratings", db_index=False
    )
    movie = models.ForeignKey(
        "movies.Movie", on_delete=models.CASCADE, related_name="ratings", db_index=False
    )
    score = models.DecimalField(max_digits=2, decimal_places=1)
    review = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "movie"], name="rating_unique_user_movie"),
            models.CheckConstraint(
                condition=models.Q(score__in=SCORES), name="rating_score_half_steps"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-updated_at", "id"], name="rating_user_recent_idx"),
            models.Index(fields=["movie", "-updated_at", "id"], name="rating_movie_recent_idx"),
            models.Index(fields=["-updated_at"], name="rating_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} rated {self.movie_id}: {self.score}"


class WatchlistEntry(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watchlist"
    )
    movie = models.ForeignKey("movies.Movie", on_delete=models.CASCADE, related_name="watchlisted")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "watchlist entries"
        constraints = [
            models.UniqueConstraint(fields=["user", "movie"], name="watchlist_unique_user_movie")
        ]
        indexes = [
            models.Index(fields=["user", "-added_at", "id"], name="watchlist_user_recent_idx")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} wants to watch {self.movie_id}"


class Favorite(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favorites"
    )
    movie = models.ForeignKey("movies.Movie", on_delete=models.CASCADE, related_name="favorited")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "movie"], name="favorite_unique_user_movie")
        ]
        indexes = [
            models.Index(fields=["user", "-added_at", "id"], name="favorite_user_recent_idx")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} loves {self.movie_id}"
