"""Read side of recommendations: top-N lists, trending, similar movies and match scores.

One straight path per request: resolver -> one selector here -> cache (``recs.keys``) ->
model registry (``recs.serving``) -> engine (``HybridModel``) -> result. The viewer's scores
over the catalogue are computed once per request (``viewer_scores``, memoised in the
request's ``memo``) and shared by ``recommendations`` and ``matchScore``. Without an active
model the lists fall back to catalogue signals (favourite genres, trending, popularity), so
they are never empty while the catalogue is not. A Redis outage only means no cache.
"""

from __future__ import annotations

import enum
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import structlog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import OperationalError
from django.utils import timezone
from psycopg.errors import QueryCanceled

from movierec.db import statement_timeout
from movies.selectors import (
    TrendingWindow,
    content_similar_movie_ids,
    genre_movie_ids,
    genres_by_names,
    movies_by_ids,
    popular_movie_ids,
    popular_movies,
    popular_movies_in_genres,
    trending_ranks,
)
from ratings.selectors import rating_activity
from recs import keys, serving
from recs.engine.hybrid import UserScores
from recs.engine.matrix import KIND_FAVORITE, KIND_PLAYLIST, KIND_RATING, KIND_WATCHLIST
from recs.taste import TasteProfile, taste_profile_read
from users.selectors import user_get_active

if TYPE_CHECKING:
    from movies.models import Genre, Movie

logger = structlog.get_logger(__name__)

#: How many trending movies are ranked and cached per window (the largest page).
TRENDING_LIST_SIZE = 100
#: Explanations per personalized recommendation.
BECAUSE_SIZE = 3
# Personalized candidates beyond ``n``: films deleted since training are dropped.
_MARGIN = 10


class RecSource(enum.StrEnum):
    PERSONALIZED = "PERSONALIZED"
    POPULAR = "POPULAR"
    TRENDING = "TRENDING"
    GENRE = "GENRE"


class TrendWindow(enum.StrEnum):
    DAY = TrendingWindow.DAY.value
    WEEK = TrendingWindow.WEEK.value


@dataclass(frozen=True)
class Rec:
    """One recommendation: the movie, a 0..1 score, where it came from and why."""

    movie: Movie
    score: float
    source: RecSource
    because: list[Movie]
    reason: str


@dataclass(frozen=True)
class _Entry:
    """A recommendation by ids (what the cache holds)."""

    movie_id: int
    score: float
    source: str
    because_ids: tuple[int, ...]
    reason: str


# ----------------------------------------------------------------------------- helpers


def genre_by_name(name: str) -> Genre:
    """The genre called ``name`` (case-insensitive); unknown -> ValidationError on genre."""
    found, _ = genres_by_names([name])
    if not found:
        raise ValidationError({"genre": f"Unknown genre: {name!r}."})
    return found[0]


def recommendation_user_get(user_id: int) -> Any:
    """The active user whose list a staff member asked for (DoesNotExist -> NOT_FOUND)."""
    return user_get_active(user_id=user_id)


def _stars(score: float) -> str:
    text = f"{score:g}"
    return f"{text} star" if score == 1 else f"{text} stars"


def _join(titles: Sequence[str]) -> str:
    if len(titles) <= 1:
        return "".join(titles)
    return f"{', '.join(titles[:-1])} and {titles[-1]}"


def _personal_reason(because: Sequence[Movie], feedback: TasteProfile) -> str:
    """One human sentence naming the viewer's own movies behind a recommendation."""
    if not because:
        return "Picked for your taste"
    if len(because) == 1:
        movie = because[0]
        strongest = feedback.strongest(movie.pk)
        kind, score = strongest if strongest else (KIND_FAVORITE, 0.0)
        if kind == KIND_RATING:
            return f"Because you rated {movie.title} {_stars(score)}"
        if kind == KIND_WATCHLIST:
            return f"Because {movie.title} is on your watchlist"
        if kind == KIND_PLAYLIST:
            return f"Because you added {movie.title} to a playlist"
        return f"Because you liked {movie.title}"
    return f"Because you liked {_join([m.title for m in because[:2]])}"


def _window_phrase(window: str) -> str:
    return "today" if window == TrendWindow.DAY else "this week"


# ----------------------------------------------------------------------------- trending


Trending = tuple[list[tuple[int, float]], list[int]]


def trending_compute(window: str) -> Trending:
    """(movies with a trending signal and their blended 0..1 score, the list filled up to
    ``TRENDING_LIST_SIZE`` from popularity). An aggregate over the window's ratings: beat
    keeps its result in the cache (``recs.services.trending_refresh``)."""
    now = timezone.now()
    if window == TrendWindow.DAY:
        span, hourly, half_life_hours = timedelta(days=1), True, 6.0
    else:
        span, hourly, half_life_hours = timedelta(days=7), False, 48.0

    # Our users' activity: ratings in the window, weighted by score and halved per half-life.
    activity: dict[int, float] = defaultdict(float)
    for movie_id, bucket, total in rating_activity(since=now - span, hourly=hourly):
        age_hours = max((now - bucket).total_seconds(), 0.0) / 3600
        decay = 0.5 ** (age_hours / half_life_hours)
        activity[movie_id] += total / 5.0 * decay
    top_activity = max(activity.values(), default=0.0)

    # TMDb's trending rank: 1.0 for the first place down to 1/N for the last.
    ranks = trending_ranks(window)
    worst = max(ranks.values(), default=0)

    weight = settings.TRENDING_TMDB_WEIGHT
    blended: dict[int, float] = {}
    for movie_id in set(activity) | set(ranks):
        tmdb = (worst - ranks[movie_id] + 1) / worst if movie_id in ranks else 0.0
        ours = activity.get(movie_id, 0.0) / top_activity if top_activity else 0.0
        blended[movie_id] = weight * tmdb + (1.0 - weight) * ours
    signal = sorted(blended.items(), key=lambda kv: (-kv[1], kv[0]))[:TRENDING_LIST_SIZE]
    signal = [(movie_id, round(score, 6)) for movie_id, score in signal if score > 0]

    filled = [movie_id for movie_id, _ in signal]
    if len(filled) < TRENDING_LIST_SIZE:
        filled += popular_movie_ids(exclude=filled, n=TRENDING_LIST_SIZE - len(filled))
    return signal, filled


def _trending(window: str) -> Trending:
    """The cached list; on a miss, computed here only within ``TRENDING_REQUEST_TIMEOUT``.

    Beat's ``trending-refresh`` rewrites the cache every 2 minutes, so a miss means a cold
    cache or a sync that just bumped the version. On a busy window the aggregate can take seconds:
    PostgreSQL cancels it at the budget and the request serves the last list computed (or
    popularity alone before the first), instead of holding a web worker or timing out; that
    stands in for the current list for ``TRENDING_RETRY_SECONDS``, so the budget is spent at
    most once per interval, not once per request."""
    version = serving.trending_version()
    current, last = keys.trending(version, window), keys.trending_last(window)
    hits = serving.cache_get_many([current, last]) if serving.guard.available else {}
    if current in hits:
        return hits[current]
    try:
        with statement_timeout(settings.TRENDING_REQUEST_TIMEOUT):
            value = trending_compute(window)
    except OperationalError as exc:
        if not isinstance(exc.__cause__, QueryCanceled):
            raise
        logger.warning("recs.trending_deferred", window=window, last=last in hits)
        value = hits.get(last) or ([], popular_movie_ids(exclude=[], n=TRENDING_LIST_SIZE))
        # Served as the current list for a short while: without it every request would
        # spend the budget again until beat's refresh (or a worker-less deployment, never).
        serving.cache_set(current, value, timeout=settings.TRENDING_RETRY_SECONDS)
        return value
    trending_store(version, window, value)
    return value


def trending_store(version: int, window: str, value: Trending) -> None:
    """Cache a computed list as the current one of ``version`` and as the last-list fallback."""
    serving.cache_set(keys.trending(version, window), value, timeout=settings.TRENDING_CACHE_TTL)
    serving.cache_set(keys.trending_last(window), value, timeout=settings.TRENDING_LAST_TTL)


def _movies_in_order(ids: Iterable[int]) -> list[Movie]:
    ids = list(ids)
    found = movies_by_ids(movie_ids=ids)
    return [found[i] for i in ids if i in found]


def trending_movies(*, window: str = TrendWindow.WEEK, n: int) -> list[Movie]:
    """What is hot now: TMDb's trending rank blended with our users' recent ratings
    (weight ``TRENDING_TMDB_WEIGHT``), topped up by popularity; never empty while the
    catalogue is not."""
    if n <= 0:
        return []
    _, filled = _trending(TrendWindow(window))
    return _movies_in_order(filled[:n])


# ----------------------------------------------------------------- recommendations


class _Builder:
    """Accumulates entries without duplicates or excluded films, up to ``n``."""

    def __init__(self, n: int, taken: set[int]) -> None:
        self.n = n
        self.taken = set(taken)
        self.entries: list[_Entry] = []
        self.movies: dict[int, Movie] = {}

    @property
    def missing(self) -> int:
        return self.n - len(self.entries)

    def add(self, entry: _Entry, movie: Movie | None = None) -> None:
        if self.missing <= 0 or entry.movie_id in self.taken:
            return
        self.taken.add(entry.movie_id)
        self.entries.append(entry)
        if movie is not None:
            self.movies[movie.pk] = movie


def _personalized(
    builder: _Builder,
    active: serving.ActiveModel,
    feedback: TasteProfile,
    state: UserScores,
    genre: Genre | None,
) -> None:
    model = active.model
    exclude = model.item_index.to_index(np.fromiter(builder.taken, dtype=np.int64))
    exclude = exclude[exclude >= 0]
    allowed = None
    if genre is not None:
        genre_movies = np.asarray(genre_movie_ids(genre_id=genre.pk), dtype=np.int64)
        allowed = model.item_index.to_index(genre_movies)
        allowed = allowed[allowed >= 0]
    idx, _ = model.recommend(state, builder.missing + _MARGIN, exclude, allowed)
    if idx.size == 0:
        return
    movie_ids = model.item_index.to_ids(idx).tolist()
    # Every candidate is explained first (a few matrix rows more than the page needs), so
    # the candidates and their explanations' movies come in one query, not two.
    explained = [
        model.item_index.to_ids(np.asarray(reasons, np.int64)).tolist()
        for reasons in model.explain(state, idx, n=BECAUSE_SIZE)
    ]
    movies = movies_by_ids(movie_ids={*movie_ids, *(j for js in explained for j in js)})
    # Films deleted since training are skipped.
    keep = [k for k, movie_id in enumerate(movie_ids) if movie_id in movies][: builder.missing]
    scores = model.match(state, idx[keep])
    for k, score in zip(keep, scores.tolist(), strict=True):
        movie_id, because_ids = movie_ids[k], explained[k]
        because = [movies[j] for j in because_ids if j in movies]
        builder.add(
            _Entry(
                movie_id,
                round(score, 6),
                RecSource.PERSONALIZED,
                tuple(m.pk for m in because),
                _personal_reason(because, feedback),
            ),
            movies[movie_id],
        )
        builder.movies.update({m.pk: m for m in because})


def _genre_fallback(builder: _Builder, genre_ids: Sequence[int]) -> None:
    """Popular films in the viewer's favorite genres; films in several rank higher."""
    if not genre_ids or builder.missing <= 0:
        return
    rows = popular_movies_in_genres(genre_ids=genre_ids, exclude=builder.taken, n=builder.missing)
    top = max((m.weighted for m in rows), default=0.0) or 1.0
    for movie in rows:
        names = movie.matched_genres
        if len(names) == 1:
            reason = f"Popular in {names[0]}, one of your favourite genres"
        else:
            reason = f"Popular in {_join(names[:2])}, among your favourite genres"
        builder.add(
            _Entry(movie.pk, round(movie.weighted / top, 6), RecSource.GENRE, (), reason), movie
        )


def _trending_fallback(builder: _Builder, genre: Genre | None) -> None:
    if builder.missing <= 0:
        return
    signal, _ = _trending(TrendWindow.WEEK)
    candidates = [(mid, s) for mid, s in signal if mid not in builder.taken]
    if genre is not None and candidates:
        in_genre = set(genre_movie_ids(genre_id=genre.pk, among=[mid for mid, _ in candidates]))
        candidates = [(mid, s) for mid, s in candidates if mid in in_genre]
    reason = f"Trending {_window_phrase(TrendWindow.WEEK)}"
    for movie_id, score in candidates[: builder.missing]:
        builder.add(_Entry(movie_id, score, RecSource.TRENDING, (), reason))


def _popular_fallback(builder: _Builder, genre: Genre | None) -> None:
    if builder.missing <= 0:
        return
    genre_id = genre.pk if genre is not None else None
    rows = popular_movies(exclude=builder.taken, n=builder.missing, genre_id=genre_id)
    top = max((m.popularity for m in rows), default=0.0) or 1.0
    reason = f"Popular in {genre.name}" if genre is not None else "One of the most popular movies"
    for movie in rows:
        builder.add(
            _Entry(movie.pk, round(movie.popularity / top, 6), RecSource.POPULAR, (), reason),
            movie,
        )


def _compute(
    n: int,
    genre: Genre | None,
    feedback: TasteProfile | None,
    active: serving.ActiveModel | None,
    state: UserScores | None,
) -> _Builder:
    excluded = (
        feedback.excluded_movie_ids(exclude_watchlist=settings.RECS_EXCLUDE_WATCHLIST)
        if feedback is not None
        else set()
    )
    builder = _Builder(n, excluded)
    if feedback is not None:
        if (
            active is not None
            and state is not None
            and not state.is_empty
            and feedback.movie_count >= settings.RECS_MIN_FEEDBACK
        ):
            _personalized(builder, active, feedback, state, genre)
        favorites = list(feedback.favorite_genre_ids)
        if genre is not None:
            favorites = [genre.pk] if genre.pk in favorites else []
        _genre_fallback(builder, favorites)
    _trending_fallback(builder, genre)
    _popular_fallback(builder, genre)
    return builder


def _materialise(entries: Sequence[_Entry], known: dict[int, Movie]) -> list[Rec]:
    wanted = {e.movie_id for e in entries} | {j for e in entries for j in e.because_ids}
    movies = dict(known)
    missing = wanted - set(movies)
    if missing:
        movies.update(movies_by_ids(movie_ids=missing))
    return [
        Rec(
            movie=movies[e.movie_id],
            score=e.score,
            source=RecSource(e.source),
            because=[movies[j] for j in e.because_ids if j in movies],
            reason=e.reason,
        )
        for e in entries
        if e.movie_id in movies
    ]


@dataclass(frozen=True)
class Viewer:
    """What one request knows about its viewer: feedback and (with a model) their scores."""

    user_id: int
    generation: str | None
    feedback: TasteProfile
    active: serving.ActiveModel | None
    scores: UserScores | None


def viewer_scores(user_id: int, memo: dict | None = None) -> Viewer:
    """The viewer's feedback and blended scores, computed once per request.

    ``memo`` is a per-request dict (the GraphQL context's): the list and every
    ``matchScore`` of the page share one computation. Keyed by model version and the user's
    feedback generation, so a change within the request is still seen.
    """
    active = serving.active_model()
    generation = serving.user_generation(user_id)
    viewer = _memoised(memo, active, user_id, generation)
    if viewer is not None:
        return viewer
    feedback = serving.taste_profile(user_id, generation)
    return _viewer(user_id, active, generation, feedback, memo)


def _memo_key(active: serving.ActiveModel | None, user_id: int, generation: str) -> tuple:
    return ("recs.viewer", active.version if active is not None else 0, user_id, generation)


def _memoised(
    memo: dict | None, active: serving.ActiveModel | None, user_id: int, generation: str | None
) -> Viewer | None:
    if memo is None or generation is None:
        return None
    return memo.get(_memo_key(active, user_id, generation))


def _viewer(
    user_id: int,
    active: serving.ActiveModel | None,
    generation: str | None,
    feedback: TasteProfile,
    memo: dict | None,
) -> Viewer:
    """Score ``feedback`` with the active model and memoise the result for the request."""
    scores = None
    if active is not None:
        scores = active.model.user_scores(feedback.interactions, now=int(time.time()))
    viewer = Viewer(user_id, generation, feedback, active, scores)
    if memo is not None and generation is not None:
        memo[_memo_key(active, user_id, generation)] = viewer
    return viewer


def recommendations_for_user(
    user: Any, *, n: int, genre: str | None = None, memo: dict | None = None
) -> list[Rec]:
    """Top-``n`` for ``user`` (None or anonymous: the trending/popular list).

    PERSONALIZED from the user's *current* feedback when they gave enough
    (``RECS_MIN_FEEDBACK``) and a model is active, then topped up from their favorite
    genres (GENRE), TRENDING and POPULAR, without duplicates or films they rated,
    favorited, marked not interested or (``RECS_EXCLUDE_WATCHLIST``) watch-listed; "not
    interested" also pushes similar films down in the personalized part. ``genre``
    restricts every source to that genre.
    """
    genre_obj = genre_by_name(genre) if genre is not None else None
    if n <= 0:
        return []
    genre_key = genre_obj.pk if genre_obj is not None else ""
    user_id = user.pk if user is not None and user.is_authenticated else None

    if user_id is None:
        key = keys.anonymous(serving.trending_version(), n, genre_key)
        entries = serving.cache_get(key) if serving.guard.available else None
        if entries is not None:
            return _materialise(entries, {})
        builder = _compute(n, genre_obj, None, None, None)
        serving.cache_set(key, builder.entries, timeout=settings.TRENDING_CACHE_TTL)
        return _materialise(builder.entries, builder.movies)

    # Redis round trips: the generation, then the list and the taste profile in one MGET,
    # then (on a miss) both written in one pipeline; none of the last two with caching off.
    active = serving.active_model()
    generation = serving.user_generation(user_id)
    version = active.version if active is not None else 0
    caching = generation is not None and serving.guard.available and settings.RECS_CACHE_TTL > 0
    key = keys.recommendations(version, user_id, generation, n, genre_key) if caching else None
    viewer = _memoised(memo, active, user_id, generation)
    taste_key = keys.taste_profile(user_id, generation) if caching and viewer is None else None
    wanted = [k for k in (key, taste_key) if k is not None]
    hits = serving.cache_get_many(wanted) if wanted else {}
    if key in hits:
        return _materialise(hits[key], {})
    writes: dict[str, Any] = {}
    if viewer is None:
        feedback = hits.get(taste_key) if taste_key is not None else None
        if feedback is None:
            feedback = taste_profile_read(user_id)
            if taste_key is not None:
                writes[taste_key] = feedback
        viewer = _viewer(user_id, active, generation, feedback, memo)
    builder = _compute(n, genre_obj, viewer.feedback, viewer.active, viewer.scores)
    if key is not None:
        writes[key] = builder.entries
    serving.cache_set_many(writes, timeout=settings.RECS_CACHE_TTL)
    return _materialise(builder.entries, builder.movies)


# ------------------------------------------------------------------ similar movies


def similar_movie_ids(movie_ids: Sequence[int], *, n: int) -> dict[int, list[int]]:
    """Similar movie ids per movie: item-factor cosine when the active model knows the
    movie, shared genres and keywords otherwise. Cached per movie and model version."""
    if n <= 0 or not movie_ids:
        return {movie_id: [] for movie_id in movie_ids}
    active = serving.active_model()
    version = active.version if active is not None else 0
    wanted = {movie_id: keys.similar(version, movie_id, n) for movie_id in movie_ids}
    hits = serving.cache_get_many(list(wanted.values()))
    result = {mid: hits[key] for mid, key in wanted.items() if key in hits}
    todo = [mid for mid in movie_ids if mid not in result]
    content: list[int] = []
    if active is not None and todo:
        model = active.model
        idx = model.item_index.to_index(np.asarray(todo, dtype=np.int64))
        for movie_id, i in zip(todo, idx, strict=True):
            if i < 0:
                content.append(movie_id)
                continue
            similar, _ = model.similar_items(int(i), n=n)
            result[movie_id] = model.item_index.to_ids(similar).tolist()
    else:
        content = todo
    result.update(content_similar_movie_ids(content, n=n))
    if todo:
        serving.cache_set_many(
            {wanted[mid]: result[mid] for mid in todo}, timeout=settings.RECS_CACHE_TTL
        )
    return result


def movie_similar_list(movie: Movie, *, n: int) -> list[Movie]:
    """Movies like ``movie``, most similar first."""
    return _movies_in_order(similar_movie_ids([movie.pk], n=n)[movie.pk])


# --------------------------------------------------------------------- match score


def match_scores_for_user(
    user: Any, movie_ids: Sequence[int], memo: dict | None = None
) -> dict[int, float | None]:
    """Probability the viewer likes each movie (see ``HybridModel.match``), from the scores
    ``viewer_scores`` computed once for the request.

    None when anonymous, when no model is active, when the user has no feedback the model
    can use, or for movies the model does not know.
    """
    result: dict[int, float | None] = {movie_id: None for movie_id in movie_ids}
    if user is None or not user.is_authenticated or not movie_ids:
        return result
    viewer = viewer_scores(user.pk, memo)
    if viewer.active is None or viewer.scores is None or viewer.scores.is_empty:
        return result
    model = viewer.active.model
    ids = np.asarray(list(movie_ids), dtype=np.int64)
    idx = model.item_index.to_index(ids)
    known = idx >= 0
    scores = model.match(viewer.scores, idx[known])
    for movie_id, score in zip(ids[known].tolist(), np.atleast_1d(scores).tolist(), strict=True):
        result[movie_id] = round(float(score), 6)
    return result
