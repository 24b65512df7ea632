from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from movies.models import TrendingEntry
from ratings.models import Rating, WatchlistEntry
from recs import selectors
from recs.selectors import RecSource
from tests.factories import KeywordFactory, MovieFactory, RatingFactory, UserFactory
from tests.recs.conftest import GENRES, activate_new_model, rate

pytestmark = pytest.mark.django_db


def _sources(recs):
    return [r.source for r in recs]


# ------------------------------------------------------------------ cold start


def test_cold_start_user_with_favorite_genres_gets_genre_picks(planted, active_model, user):
    user.favorite_genres.set([planted.genres["Drama"]])
    recs = selectors.recommendations_for_user(user, n=10)
    assert _sources(recs) == [RecSource.GENRE] * 10
    assert [r.movie.pk for r in recs] == [m.pk for m in planted.movies["Drama"][:10]]
    assert recs[0].reason == "Popular in Drama, one of your favourite genres"
    assert all(r.because == [] for r in recs)
    assert recs[0].score == 1.0 and all(0 < r.score <= 1 for r in recs)


def test_films_in_several_favorite_genres_rank_first(planted, user):
    drama, horror = planted.genres["Drama"], planted.genres["Horror"]
    both = MovieFactory(title="Drama Horror", popularity=700.0, genres=[drama, horror])
    user.favorite_genres.set([drama, horror])
    recs = selectors.recommendations_for_user(user, n=3)
    assert recs[0].movie == both
    assert recs[0].reason == "Popular in Drama and Horror, among your favourite genres"


def test_genre_picks_are_filled_from_trending_and_popular(planted, user):
    tiny = planted.genres["Drama"]
    user.favorite_genres.set([tiny])
    recs = selectors.recommendations_for_user(user, n=50)
    assert len(recs) == 50
    assert _sources(recs)[:40] == [RecSource.GENRE] * 40
    assert set(_sources(recs)[40:]) <= {RecSource.TRENDING, RecSource.POPULAR}
    assert len({r.movie.pk for r in recs}) == 50


def test_no_feedback_and_no_genres_gets_trending_then_popular(db, user):
    hot, warm = MovieFactory(popularity=1.0), MovieFactory(popularity=2.0)
    popular = [MovieFactory(popularity=900.0 - i) for i in range(3)]
    now = timezone.now()
    TrendingEntry.objects.create(window="week", movie=hot, rank=1, synced_at=now)
    TrendingEntry.objects.create(window="week", movie=warm, rank=2, synced_at=now)
    recs = selectors.recommendations_for_user(user, n=4)
    assert [r.movie for r in recs] == [hot, warm, popular[0], popular[1]]
    assert _sources(recs) == [RecSource.TRENDING] * 2 + [RecSource.POPULAR] * 2
    assert recs[0].reason == "Trending this week"
    assert recs[2].reason == "One of the most popular movies"


def test_anonymous_gets_the_fallback_list(planted):
    recs = selectors.recommendations_for_user(None, n=10)
    assert len(recs) == 10
    assert set(_sources(recs)) <= {RecSource.TRENDING, RecSource.POPULAR}


def test_empty_catalogue_gives_an_empty_list(db, user):
    assert selectors.recommendations_for_user(user, n=10) == []
    assert selectors.trending_movies(n=10) == []


def test_too_little_feedback_is_not_personalized(planted, active_model, user, settings):
    settings.RECS_MIN_FEEDBACK = 5
    rate(user, planted.movies["Crime"][:4])
    recs = selectors.recommendations_for_user(user, n=10)
    assert RecSource.PERSONALIZED not in _sources(recs)
    assert not {r.movie.pk for r in recs} & {m.pk for m in planted.movies["Crime"][:4]}


def test_without_a_model_feedback_users_get_fallbacks(planted, user):
    rate(user, planted.movies["Crime"][:8])
    recs = selectors.recommendations_for_user(user, n=10)
    assert len(recs) == 10 and RecSource.PERSONALIZED not in _sources(recs)


# ---------------------------------------------------------------- personalized


def test_enough_feedback_gives_recommendations_from_the_taste_cluster(planted, active_model, user):
    liked = planted.movies["Crime"][5:12]
    rate(user, liked)
    recs = selectors.recommendations_for_user(user, n=10)
    assert _sources(recs) == [RecSource.PERSONALIZED] * 10
    assert {r.movie.pk for r in recs} <= planted.ids("Crime") - {m.pk for m in liked}
    scores = [r.score for r in recs]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)


def test_personalized_list_is_filled_up_to_n_without_duplicates(planted, active_model, user):
    rate(user, planted.movies["Horror"][:6])
    recs = selectors.recommendations_for_user(user, n=100)
    assert len(recs) == 100
    assert len({r.movie.pk for r in recs}) == 100
    assert not {r.movie.pk for r in recs} & {m.pk for m in planted.movies["Horror"][:6]}


def test_rated_movies_are_excluded_even_when_disliked(planted, active_model, user):
    rate(user, planted.movies["Crime"][2:9])
    rate(user, planted.movies["Crime"][:2], score="1.0")
    recs = selectors.recommendations_for_user(user, n=20)
    assert not {r.movie.pk for r in recs} & {m.pk for m in planted.movies["Crime"][:9]}


@pytest.mark.parametrize("exclude", [True, False])
def test_watchlist_exclusion_follows_the_setting(planted, active_model, user, settings, exclude):
    settings.RECS_EXCLUDE_WATCHLIST = exclude
    rate(user, planted.movies["Crime"][3:10])
    wanted = planted.movies["Crime"][0]
    WatchlistEntry.objects.create(user=user, movie=wanted)
    recs = selectors.recommendations_for_user(user, n=10)
    assert (wanted.pk in {r.movie.pk for r in recs}) is not exclude


def test_genre_filter_restricts_every_source(planted, active_model, user):
    rate(user, planted.movies["Crime"][3:10])
    recs = selectors.recommendations_for_user(user, n=45, genre="comedy")
    assert len(recs) == 40  # the whole Comedy catalogue, nothing else
    assert {r.movie.pk for r in recs} == planted.ids("Comedy")
    assert recs[0].source == RecSource.PERSONALIZED


def test_unknown_genre_is_a_validation_error_on_genre(planted, user):
    with pytest.raises(ValidationError) as info:
        selectors.recommendations_for_user(user, n=10, genre="Nope")
    assert list(info.value.error_dict) == ["genre"]


def test_a_new_rating_changes_the_next_list_at_once(planted, active_model, user):
    rate(user, planted.movies["Crime"][5:12])
    before = selectors.recommendations_for_user(user, n=10)
    assert {r.movie.pk for r in before} <= planted.ids("Crime")
    top = before[0].movie
    # The user's taste turns to Comedy; no retrain happens in between.
    rate(user, [top])
    rate(user, planted.movies["Crime"][5:12], score="1.0")
    rate(user, planted.movies["Comedy"][5:15])
    after = selectors.recommendations_for_user(user, n=10)
    assert top.pk not in {r.movie.pk for r in after}
    assert {r.movie.pk for r in after} <= planted.ids("Comedy")


def test_explanations_name_the_users_own_movies(planted, active_model, user):
    liked = planted.movies["Drama"][4:11]
    rate(user, liked)
    for rec in selectors.recommendations_for_user(user, n=10):
        assert len(rec.because) in range(1, 3 + 1)
        assert {m.pk for m in rec.because} <= {m.pk for m in liked}
        assert rec.reason.startswith("Because you liked ")
        assert rec.because[0].title in rec.reason


def test_single_explanation_says_how_the_user_rated_it(planted, active_model, user, settings):
    settings.RECS_MIN_FEEDBACK = 1
    heat = planted.movies["Crime"][3]
    rate(user, [heat], score="4.5")
    recs = selectors.recommendations_for_user(user, n=3)
    assert recs[0].source == RecSource.PERSONALIZED
    assert recs[0].because == [heat]
    assert recs[0].reason == f"Because you rated {heat.title} 4.5 stars"


# ------------------------------------------------------------------- similar


def test_similar_movies_come_from_item_factors(planted, active_model):
    similar = selectors.movie_similar_list(planted.movies["Horror"][0], n=8)
    assert len(similar) == 8
    assert {m.pk for m in similar} <= planted.ids("Horror") - {planted.movies["Horror"][0].pk}


def test_similar_falls_back_to_shared_keywords_and_genres(planted, active_model):
    heist = KeywordFactory(name="heist")
    crime = planted.genres["Crime"]
    new = MovieFactory(title="New heist", genres=[crime])  # unknown to the model
    twin = MovieFactory(title="Old heist", popularity=1.0, genres=[crime])
    new.keywords.set([heist])
    twin.keywords.set([heist])
    similar = selectors.movie_similar_list(new, n=5)
    assert similar[0] == twin  # keyword + genre beats genre only
    assert {m.pk for m in similar[1:]} == {m.pk for m in planted.movies["Crime"][:4]}


def test_similar_without_a_model_uses_content(planted):
    similar = selectors.movie_similar_list(planted.movies["Comedy"][10], n=3)
    assert [m.pk for m in similar] == [m.pk for m in planted.movies["Comedy"][:3]]


# --------------------------------------------------------------- match score


def test_match_scores_are_calibrated_and_follow_taste(planted, active_model, user):
    rate(user, planted.movies["Crime"][3:10])
    crime, comedy = planted.movies["Crime"][0], planted.movies["Comedy"][0]
    unknown = MovieFactory()
    scores = selectors.match_scores_for_user(user, [crime.pk, comedy.pk, unknown.pk])
    assert 0 <= scores[comedy.pk] < 0.5 < scores[crime.pk] <= 1
    assert scores[unknown.pk] is None


def test_match_scores_are_null_without_viewer_model_or_feedback(planted, user, other_user):
    movie = planted.movies["Crime"][0]
    assert selectors.match_scores_for_user(None, [movie.pk]) == {movie.pk: None}
    rate(user, planted.movies["Crime"][3:10])
    assert selectors.match_scores_for_user(user, [movie.pk]) == {movie.pk: None}
    activate_new_model()
    assert selectors.match_scores_for_user(other_user, [movie.pk]) == {movie.pk: None}
    assert selectors.match_scores_for_user(user, [movie.pk])[movie.pk] > 0.5


# ------------------------------------------------------------------- trending


def test_trending_blends_tmdb_rank_with_recent_ratings(db, settings):
    settings.TRENDING_TMDB_WEIGHT = 0.5
    now = timezone.now()
    tmdb_only, both, ours_only, old_only = (MovieFactory(popularity=1.0) for _ in range(4))
    popular = MovieFactory(popularity=999.0)
    TrendingEntry.objects.create(window="week", movie=tmdb_only, rank=1, synced_at=now)
    TrendingEntry.objects.create(window="week", movie=both, rank=2, synced_at=now)
    for _ in range(3):
        RatingFactory(movie=both, score=Decimal("5.0"))
        RatingFactory(movie=ours_only, score=Decimal("5.0"))
    RatingFactory(movie=ours_only, score=Decimal("1.0"))
    old = RatingFactory(movie=old_only, score=Decimal("5.0"))
    Rating.objects.filter(pk=old.pk).update(updated_at=now - timedelta(days=8))
    # Activity (score / 5): both 3.0, ours_only 3.2 (the most active, normalised to 1).
    # week: both 0.5 * 1/2 + 0.5 * 3/3.2 = 0.72; tmdb_only 0.5 * 1; ours_only 0.5 * 1
    # (ties break by id); old ratings fall out of the window, popularity fills the rest.
    week = selectors.trending_movies(window="week", n=5)
    assert week == [both, tmdb_only, ours_only, popular, old_only]
    # No TMDb day list: our activity alone orders the day.
    day = selectors.trending_movies(window="day", n=3)
    assert day == [ours_only, both, popular]


def test_trending_is_cached_until_the_sync_bumps_its_version(db):
    from django.core.cache import cache

    first = MovieFactory(popularity=5.0)
    assert selectors.trending_movies(n=1) == [first]
    newer = MovieFactory(popularity=1.0)
    TrendingEntry.objects.create(window="week", movie=newer, rank=1, synced_at=timezone.now())
    assert selectors.trending_movies(n=1) == [first]
    cache.set("trending:version", 1)
    assert selectors.trending_movies(n=1) == [newer]


def test_genre_names_cover_every_planted_genre(planted):
    assert {selectors.genre_by_name(name.upper()).name for name in GENRES} == set(GENRES)


def test_staff_lookup_of_an_inactive_user_is_not_found(db):
    gone = UserFactory(is_active=False)
    with pytest.raises(type(gone).DoesNotExist):
        selectors.recommendation_user_get(gone.pk)


# ------------------------------------------------------------- round trips


def _redis_calls(monkeypatch):
    from recs import serving

    calls = []
    call = serving.guard.call

    def recording(method, *args, **kwargs):
        calls.append(method)
        return call(method, *args, **kwargs)

    monkeypatch.setattr(serving.guard, "call", recording)
    return calls


def test_a_personalized_list_costs_three_redis_round_trips_then_two(
    planted, active_model, user, monkeypatch, settings, django_assert_num_queries
):
    rate(user, planted.movies["Crime"][5:12])
    selectors.recommendations_for_user(user, n=5)  # the generation key exists from here on
    selectors.recommendations_for_user(user, n=10)  # the taste profile is cached
    settings.RECS_VERSION_CHECK_SECONDS = 3600  # the model registry's periodic check aside
    calls = _redis_calls(monkeypatch)
    # A miss of the list: no SQL for the cached taste profile, one query for the movies and
    # their explanations' movies; the generation, one MGET, one pipelined write.
    with django_assert_num_queries(1):
        first = selectors.recommendations_for_user(user, n=20)
    assert calls == ["get", "get_many", "set_many"]
    calls.clear()
    with django_assert_num_queries(1):  # the hit: the cached ids' movies
        again = selectors.recommendations_for_user(user, n=20)
    assert calls == ["get", "get_many"]
    assert [(r.movie.pk, [m.pk for m in r.because]) for r in again] == [
        (r.movie.pk, [m.pk for m in r.because]) for r in first
    ]
    assert all(r.because for r in first)


def test_with_caching_off_only_the_generation_is_read(
    planted, active_model, user, monkeypatch, settings
):
    settings.RECS_CACHE_TTL = 0
    rate(user, planted.movies["Crime"][5:12])
    selectors.recommendations_for_user(user, n=5)
    settings.RECS_VERSION_CHECK_SECONDS = 3600
    calls = _redis_calls(monkeypatch)
    recs = selectors.recommendations_for_user(user, n=20)
    assert calls == ["get"]
    assert _sources(recs) == [RecSource.PERSONALIZED] * 20
