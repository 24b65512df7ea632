"""The demo data behind `make run`: a catalogue, demo users with real taste, a first model.

Idempotent: a second start finds everything in place and returns at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TextIO

from django.db import transaction

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password-123"

# A small real catalogue, used until the TMDb dev-server sync provides a large one.
_SEED_MOVIES = [
    (238, "The Godfather", date(1972, 3, 14), ["Drama", "Crime"]),
    (680, "Pulp Fiction", date(1994, 9, 10), ["Thriller", "Crime"]),
    (155, "The Dark Knight", date(2008, 7, 16), ["Drama", "Action", "Crime", "Thriller"]),
    (550, "Fight Club", date(1999, 10, 15), ["Drama"]),
    (13, "Forrest Gump", date(1994, 6, 23), ["Comedy", "Drama", "Romance"]),
    (603, "The Matrix", date(1999, 3, 30), ["Action", "Science Fiction"]),
    (27205, "Inception", date(2010, 7, 15), ["Action", "Science Fiction", "Adventure"]),
    (157336, "Interstellar", date(2014, 11, 5), ["Adventure", "Drama", "Science Fiction"]),
    (
        122,
        "The Lord of the Rings: The Return of the King",
        date(2003, 12, 1),
        ["Adventure", "Fantasy", "Action"],
    ),
    (949, "Heat", date(1995, 12, 15), ["Crime", "Drama", "Action"]),
]


@dataclass
class DemoSummary:
    created: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return "demo data: " + (", ".join(self.created) if self.created else "already in place")


@transaction.atomic
def demo_catalogue_seed() -> int:
    from movies.models import Genre, Movie

    created = 0
    for tmdb_id, title, released, genre_names in _SEED_MOVIES:
        movie, was_created = Movie.objects.get_or_create(
            tmdb_id=tmdb_id,
            defaults={"title": title, "original_title": title, "release_date": released,
                      "year": released.year, "popularity": 100.0 - created},
        )  # fmt: skip
        genres = [Genre.objects.get_or_create(name=name)[0] for name in genre_names]
        movie.genres.set(genres)
        created += was_created
    return created


@transaction.atomic
def demo_user_ensure() -> bool:
    from movies.models import Movie
    from ratings.models import Rating
    from users.models import User

    user, created = User.objects.get_or_create(
        username=DEMO_USERNAME, defaults={"email": "demo@movierec.local"}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        for movie in Movie.objects.filter(tmdb_id__in=[238, 949, 680]):
            Rating.objects.get_or_create(user=user, movie=movie, defaults={"score": Decimal("5.0")})
    return created


def demo_ensure(out: TextIO | None = None) -> DemoSummary:
    from movies.models import Movie

    summary = DemoSummary()
    if not Movie.objects.exists():
        summary.created.append(f"{demo_catalogue_seed()} movies")
    if demo_user_ensure():
        summary.created.append(f"user {DEMO_USERNAME}")
    from recs.demo import demo_model_ensure, demo_users_seed

    if seeded := demo_users_seed():
        summary.created.append(f"{seeded} demo users with ratings")
    if version := demo_model_ensure():
        summary.created.append(
            f"model v{version.pk} ({version.metrics.get('ndcg@10', 0):.3f} ndcg@10)"
        )
    return summary
