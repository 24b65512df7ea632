"""Playlist item positions stay 0..n-1 through any sequence of edits, also concurrently."""

import random
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from playlists import services
from playlists.models import Playlist, PlaylistItem
from tests.factories import MovieFactory, PlaylistFactory, UserFactory

pytestmark = pytest.mark.django_db


def _order(playlist):
    """Movie ids in position order, after checking positions are exactly 0..n-1."""
    rows = list(
        PlaylistItem.objects.filter(playlist=playlist)
        .order_by("position")
        .values_list("position", "movie_id")
    )
    assert [p for p, _ in rows] == list(range(len(rows)))
    return [m for _, m in rows]


@pytest.fixture
def owner():
    return UserFactory()


@pytest.fixture
def playlist(owner):
    return PlaylistFactory(owner=owner)


def _add(playlist, movie, position=None):
    return services.playlist_movie_add(
        playlist_id=playlist.pk, actor=playlist.owner, movie=movie, position=position
    )


def test_add_appends_by_default_inserts_at_position_and_clamps(playlist):
    a, b, c, d = (MovieFactory() for _ in range(4))
    _add(playlist, a)
    _add(playlist, b)
    _add(playlist, c, position=0)
    _add(playlist, d, position=99)
    assert _order(playlist) == [c.pk, a.pk, b.pk, d.pk]


def test_add_negative_position_or_twice_is_rejected(playlist):
    movie = MovieFactory()
    with pytest.raises(ValidationError) as exc:
        _add(playlist, movie, position=-1)
    assert list(exc.value.error_dict) == ["position"]
    _add(playlist, movie)
    with pytest.raises(ValidationError) as exc:
        _add(playlist, movie)
    assert list(exc.value.error_dict) == ["movie_id"]
    assert _order(playlist) == [movie.pk]


def test_remove_closes_the_gap_and_move_shifts_the_range(playlist):
    movies = [MovieFactory() for _ in range(5)]
    for movie in movies:
        _add(playlist, movie)
    ids = [m.pk for m in movies]
    services.playlist_movie_remove(playlist_id=playlist.pk, actor=playlist.owner, movie=movies[1])
    assert _order(playlist) == [ids[0], ids[2], ids[3], ids[4]]
    services.playlist_movie_move(
        playlist_id=playlist.pk, actor=playlist.owner, movie=movies[4], position=0
    )
    assert _order(playlist) == [ids[4], ids[0], ids[2], ids[3]]
    services.playlist_movie_move(
        playlist_id=playlist.pk, actor=playlist.owner, movie=movies[4], position=2
    )
    assert _order(playlist) == [ids[0], ids[2], ids[4], ids[3]]
    services.playlist_movie_move(
        playlist_id=playlist.pk, actor=playlist.owner, movie=movies[0], position=50
    )
    assert _order(playlist) == [ids[2], ids[4], ids[3], ids[0]]
    with pytest.raises(PlaylistItem.DoesNotExist):
        services.playlist_movie_remove(
            playlist_id=playlist.pk, actor=playlist.owner, movie=movies[1]
        )


def test_edits_touch_updated_at(playlist):
    before = Playlist.objects.get(pk=playlist.pk).updated_at
    _add(playlist, MovieFactory())
    assert Playlist.objects.get(pk=playlist.pk).updated_at > before


@pytest.mark.parametrize("seed", range(4))
def test_random_sequences_keep_positions_dense_and_match_a_list_model(playlist, seed):
    rng = random.Random(seed)
    pool = [MovieFactory() for _ in range(12)]
    model: list[int] = []
    for _ in range(60):
        op = rng.choice(["add", "add", "remove", "move"])
        absent = [m for m in pool if m.pk not in model]
        if op == "add" and absent:
            movie = rng.choice(absent)
            position = rng.choice([None, rng.randint(0, len(model) + 3)])
            _add(playlist, movie, position)
            at = len(model) if position is None else min(position, len(model))
            model.insert(at, movie.pk)
        elif op == "remove" and model:
            movie_id = rng.choice(model)
            services.playlist_movie_remove(
                playlist_id=playlist.pk,
                actor=playlist.owner,
                movie=next(m for m in pool if m.pk == movie_id),
            )
            model.remove(movie_id)
        elif op == "move" and model:
            movie_id = rng.choice(model)
            position = rng.randint(0, len(model) + 2)
            services.playlist_movie_move(
                playlist_id=playlist.pk,
                actor=playlist.owner,
                movie=next(m for m in pool if m.pk == movie_id),
                position=position,
            )
            model.remove(movie_id)
            model.insert(min(position, len(model)), movie_id)
        assert _order(playlist) == model


@pytest.mark.parametrize("visibility", list(Playlist.Visibility))
def test_only_the_owner_may_edit(visibility):
    playlist = PlaylistFactory(visibility=visibility)
    stranger = UserFactory(is_staff=True)
    expected = (
        Playlist.DoesNotExist if visibility == Playlist.Visibility.PRIVATE else PermissionDenied
    )
    with pytest.raises(expected):
        services.playlist_update(playlist_id=playlist.pk, actor=stranger, title="Mine now")
    with pytest.raises(expected):
        services.playlist_movie_add(playlist_id=playlist.pk, actor=stranger, movie=MovieFactory())
    with pytest.raises(expected):
        services.playlist_delete(playlist_id=playlist.pk, actor=stranger)
    assert Playlist.objects.get(pk=playlist.pk).title == playlist.title


@pytest.mark.django_db(transaction=True)
def test_concurrent_adds_and_moves_from_separate_connections_keep_positions_dense():
    owner = UserFactory()
    playlist = PlaylistFactory(owner=owner)
    movies = [MovieFactory() for _ in range(24)]
    barrier = threading.Barrier(4)
    errors = []

    def worker(chunk):
        try:
            barrier.wait()
            for i, movie in enumerate(chunk):
                services.playlist_movie_add(
                    playlist_id=playlist.pk,
                    actor=owner,
                    movie=movie,
                    position=0 if i % 2 else None,
                )
                services.playlist_movie_move(
                    playlist_id=playlist.pk, actor=owner, movie=movie, position=i % 3
                )
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(movies[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(_order(playlist)) == sorted(m.pk for m in movies)
