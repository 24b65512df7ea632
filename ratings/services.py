"""Writes for ratings, the watchlist and favorites.

Every rating change keeps ``Movie.rating_count`` / ``rating_sum`` exact with F() updates in the
same transaction as the rating row (never a recount), and fires ``user_feedback_changed``
(``movierec.events``) after the transaction commits, as do watchlist and favorite changes.
"""

from __future__ import annotations

import math
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from movierec.events import feedback_changed
from movies.models import Movie
from ratings.models import SCORES, Favorite, Rating, WatchlistEntry
from users.models import User

REVIEW_MAX_LENGTH = 5000


def _validate_score(score: float | Decimal) -> Decimal:
    message = "Score must be between 0.5 and 5.0 in steps of 0.5."
    if isinstance(score, bool) or not math.isfinite(float(score)):
        raise ValidationError({"score": message})
    value = Decimal(str(score))
    if value not in SCORES:
        raise ValidationError({"score": message})
    return value.quantize(Decimal("0.1"))


def _validate_review(review: str | None) -> str:
    review = (review or "").strip()
    if len(review) > REVIEW_MAX_LENGTH:
        raise ValidationError(
            {"review": f"Review may be at most {REVIEW_MAX_LENGTH} characters long."}
        )
    return review


@transaction.atomic
def rating_set(
    *, user: User, movie: Movie, score: float | Decimal, review: str | None = None
) -> Rating:
    """Create or update ``user``'s rating of ``movie``; the community rating moves by the delta.

    ``review=None`` keeps an existing review, ``""`` clears it. The rating row is locked
    (``SELECT ... FOR UPDATE``) before its old score is read, so concurrent re-ratings of the
    same movie by the same user serialize and each applies the delta against the score it
    replaced. Two concurrent first ratings race on the unique constraint: the loser retries
    as an update. ``full_clean`` skips constraint checks: the score is validated above and a
    pre-check of uniqueness would be a race that the constraint resolves anyway.
    """
    value = _validate_score(score)
    new_review = None if review is None else _validate_review(review)
    rating = Rating.objects.select_for_update().filter(user=user, movie=movie).first()
    if rating is None:
        rating = Rating(user=user, movie=movie, score=value, review=new_review or "")
        rating.full_clean(validate_unique=False, validate_constraints=False)
        try:
            with transaction.atomic():
                rating.save(force_insert=True)
        except IntegrityError:
            rating = Rating.objects.select_for_update().get(user=user, movie=movie)
        else:
            Movie.objects.filter(pk=movie.pk).update(
                rating_count=F("rating_count") + 1, rating_sum=F("rating_sum") + value
            )
            feedback_changed(user_id=user.pk, movie_id=movie.pk)
            return rating
    delta = value - rating.score
    rating.score = value
    if new_review is not None:
        rating.review = new_review
    rating.full_clean(validate_unique=False, validate_constraints=False)
    rating.save(update_fields=["score", "review", "updated_at"])
    if delta:
        Movie.objects.filter(pk=movie.pk).update(rating_sum=F("rating_sum") + delta)
    feedback_changed(user_id=user.pk, movie_id=movie.pk)
    return rating


@transaction.atomic
def rating_delete(*, user: User, movie: Movie) -> None:
    """Delete ``user``'s rating of ``movie``; raises ``Rating.DoesNotExist`` if unrated."""
    rating = Rating.objects.select_for_update().get(user=user, movie=movie)
    score = rating.score
    rating.delete()
    Movie.objects.filter(pk=movie.pk).update(
        rating_count=F("rating_count") - 1, rating_sum=F("rating_sum") - score
    )
    feedback_changed(user_id=user.pk, movie_id=movie.pk)


@transaction.atomic
def rating_delete_all_for_user(*, user: User) -> int:
    """Delete every rating of ``user`` (account deletion), taking each out of its movie's
    community rating in one set-based UPDATE rather than a cascade that would leave the
    counts stale. Returns how many ratings were deleted."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE movies_movie AS m
               SET rating_count = m.rating_count - 1, rating_sum = m.rating_sum - r.score
              FROM ratings_rating AS r
             WHERE r.movie_id = m.id AND r.user_id = %s
            """,
            [user.pk],
        )
    deleted, _ = Rating.objects.filter(user=user).delete()
    return deleted


def watchlist_add(*, user: User, movie: Movie) -> WatchlistEntry:
    """Put ``movie`` on ``user``'s watchlist; adding it again keeps the original entry."""
    entry, created = WatchlistEntry.objects.get_or_create(user=user, movie=movie)
    if created:
        feedback_changed(user_id=user.pk, movie_id=movie.pk)
    return entry


def watchlist_remove(*, user: User, movie: Movie) -> bool:
    """Take ``movie`` off the watchlist; True when it was there (removing again is fine)."""
    deleted, _ = WatchlistEntry.objects.filter(user=user, movie=movie).delete()
    if deleted:
        feedback_changed(user_id=user.pk, movie_id=movie.pk)
    return bool(deleted)


def favorite_add(*, user: User, movie: Movie) -> Favorite:
    """Mark ``movie`` as a favorite of ``user``; idempotent."""
    favorite, created = Favorite.objects.get_or_create(user=user, movie=movie)
    if created:
        feedback_changed(user_id=user.pk, movie_id=movie.pk)
    return favorite


def favorite_remove(*, user: User, movie: Movie) -> bool:
    """Unmark a favorite; True when it was marked."""
    deleted, _ = Favorite.objects.filter(user=user, movie=movie).delete()
    if deleted:
        feedback_changed(user_id=user.pk, movie_id=movie.pk)
    return bool(deleted)
