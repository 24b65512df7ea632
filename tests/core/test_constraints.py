"""The database itself refuses bad rows, whatever the Python layer does."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from playlists.models import PlaylistItem
from ratings.models import Rating
from tests.factories import (
    MovieFactory,
    PlaylistFactory,
    PlaylistItemFactory,
    RatingFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("score", ["6.0", "0.3", "0.0", "-1.0", "4.2"])
def test_rating_score_outside_half_star_scale_is_refused(score):
    user, movie = UserFactory(), MovieFactory()
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ratings_rating (user_id, movie_id, score, review, created_at, updated_at)"
            " VALUES (%s, %s, %s, '', now(), now())",
            [user.pk, movie.pk, score],
        )


@pytest.mark.parametrize("score", ["0.5", "3.5", "5.0"])
def test_rating_score_on_half_star_scale_is_accepted(score):
    rating = RatingFactory(score=Decimal(score))
    assert Rating.objects.get(pk=rating.pk).score == Decimal(score)


def test_second_rating_of_same_movie_by_same_user_is_refused():
    rating = RatingFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(user=rating.user, movie=rating.movie, score=Decimal("2.0"))


def test_duplicate_playlist_item_is_refused():
    item = PlaylistItemFactory(position=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        PlaylistItem.objects.create(playlist=item.playlist, movie=item.movie, position=1)


def test_two_items_at_one_position_are_refused_at_commit():
    playlist = PlaylistFactory()
    PlaylistItemFactory(playlist=playlist, position=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        PlaylistItem.objects.create(playlist=playlist, movie=MovieFactory(), position=0)
        # The position constraint is deferred (so moves can shift ranges); check it now.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_usernames_are_unique_regardless_of_case():
    UserFactory(username="Alice")
    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(username="alice")


def test_emails_are_unique_regardless_of_case():
    UserFactory(email="Bob@Example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(email="bob@example.com")


def test_movies_without_tmdb_id_can_coexist_but_tmdb_ids_are_unique():
    MovieFactory(tmdb_id=None)
    MovieFactory(tmdb_id=None)
    MovieFactory(tmdb_id=550)
    with pytest.raises(IntegrityError), transaction.atomic():
        MovieFactory(tmdb_id=550)


def test_only_one_model_version_can_be_active():
    from recs.models import ModelVersion

    ModelVersion.objects.create(status=ModelVersion.Status.ACTIVE)
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersion.objects.create(status=ModelVersion.Status.ACTIVE)


def test_search_vector_is_generated_by_the_database():
    from django.contrib.postgres.search import SearchQuery

    from movies.models import Movie

    MovieFactory(title="The Godfather", overview="A crime family saga.", keywords_text="mafia")
    MovieFactory(title="Paddington", overview="A bear in London.")
    hits = Movie.objects.filter(search_vector=SearchQuery("mafia", config="english"))
    assert [m.title for m in hits] == ["The Godfather"]
