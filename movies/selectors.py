"""Read-side queries for movies; GraphQL resolvers and other apps call these.

Search is PostgreSQL full-text over the generated ``Movie.search_vector`` (title and original
title weight A, keywords B, overview C; GIN index ``movie_search_gin``) OR'ed with pg_trgm
word similarity on ``lower(title)`` (GIN index ``movie_title_trgm``) for typos. Both branches
are index-backed, so PostgreSQL answers with a BitmapOr of the two indexes (docs/search.md).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.aggregates import ArrayAgg
from django.contrib.postgres.lookups import TrigramWordSimilar
from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    TrigramSimilarity,
    TrigramWordSimilarity,
)
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.expressions import OrderBy, RawSQL
from django.db.models.functions import Cast, Lower, NullIf, RowNumber

from movies.models import Credit, Genre, Movie, Person, SyncRun, TrendingEntry

#: The trending windows TMDb publishes (DAY, WEEK), for callers outside movies.
TrendingWindow = TrendingEntry.Window

SEARCH_MAX_LENGTH = 200
# Words of the search text: letters/digits only, so the tsquery we build is always well formed.
_WORD = re.compile(r"\w+", re.UNICODE)


#: Columns no GraphQL field of a movie reads: lists leave them out (the search vector is the
#: largest column of the row, and every column is a value to load for each of the page's
#: rows). Whoever reads one from such a row pays a query, so only add never-served columns.
UNSERVED_COLUMNS = (
    "search_vector",
    "keywords_text",
    "content_hash",
    "last_synced_at",
    "created_at",
    "updated_at",
)


def genre_list() -> QuerySet[Genre]:
    return Genre.objects.order_by("name")


#: Other spellings clients send -> the TMDb genre name: MovieLens's names (what
#: ``import_movielens`` maps) and common variants. Keys are normalised by :func:`_genre_key`.
GENRE_ALIASES = {
    "scifi": "Science Fiction",
    "sf": "Science Fiction",
    "children": "Family",
    "childrens": "Family",
    "kids": "Family",
    "musical": "Music",
    "musicals": "Music",
    "historical": "History",
    "tv": "TV Movie",
    "noir": "Film-Noir",
}


def _genre_key(name: str) -> str:
    """Case, spaces and punctuation do not matter: "sci-fi", "Sci Fi" and "SCIFI" are one."""
    return re.sub(r"[\W_]+", "", name.casefold())


def genres_by_names(names: Sequence[str]) -> tuple[list[Genre], list[str]]:
    """The genres meant by ``names``, in the order asked and without repeats, and the names
    that match none: the one genre-by-name lookup.

    A name matches a genre ignoring case, spaces and punctuation, or through
    :data:`GENRE_ALIASES` ("Sci-Fi" is Science Fiction); an existing genre wins over an alias.
    """
    by_key = {_genre_key(genre.name): genre for genre in genre_list()}
    resolved: dict[int, Genre] = {}
    unknown: list[str] = []
    for name in names:
        key = _genre_key(name)
        genre = by_key.get(key) or by_key.get(_genre_key(GENRE_ALIASES.get(key, "")))
        if genre is None:
            if name.strip() not in unknown:
                unknown.append(name.strip())
        else:
            resolved.setdefault(genre.pk, genre)
    return list(resolved.values()), unknown


def genre_resolve(names: Sequence[str], *, field: str = "genres") -> list[Genre]:
    """:func:`genres_by_names`, where unknown names raise a ValidationError on ``field`` that
    names the closest valid genres, so a client can fix a typo."""
    genres, unknown = genres_by_names(names)
    if unknown:
        raise ValidationError({field: _unknown_genres_message(unknown, list(genre_list()))})
    return genres


def _unknown_genres_message(unknown: Sequence[str], genres: Sequence[Genre]) -> str:
    names = [genre.name for genre in genres]
    lowered = {name.casefold(): name for name in names}
    close: list[str] = []
    for name in unknown:
        for match in difflib.get_close_matches(name.casefold(), list(lowered), n=3, cutoff=0.5):
            if lowered[match] not in close:
                close.append(lowered[match])
    message = f"Unknown genre(s): {', '.join(unknown)}."
    if close:
        message += f" Did you mean: {', '.join(close)}?"
    elif names:
        message += f" Valid genres: {', '.join(names)}."
    return message


def genre_get_by_name(name: str, *, field: str = "genre") -> Genre:
    """One genre by a forgiving name (see :func:`genre_resolve`)."""
    return genre_resolve([name], field=field)[0]


def genre_list_by_names(names: Sequence[str]) -> list[Genre]:
    """Genres named ``names``, forgivingly; an unknown name is a ValidationError on genres."""
    return genre_resolve(names, field="genres")


def movie_get(*, pk: int | None = None, tmdb_id: int | None = None) -> Movie | None:
    """One movie by primary key or TMDb id; None when there is none."""
    if (pk is None) == (tmdb_id is None):
        raise ValidationError({"id": "Give exactly one of `id` and `tmdbId`."})
    lookup = {"pk": pk} if pk is not None else {"tmdb_id": tmdb_id}
    return Movie.objects.defer(*UNSERVED_COLUMNS).filter(**lookup).first()


def person_get(*, pk: int) -> Person | None:
    """One person (cast or crew) by primary key; None when there is none."""
    return Person.objects.filter(pk=pk).first()


def persons_by_ids(*, person_ids: Sequence[int]) -> dict[int, Person]:
    """People by primary key in one query (for ``Credit.person``-style loaders)."""
    return Person.objects.in_bulk(list(person_ids))


def _credits_grouped(
    parent: str,
    ids: Sequence[int],
    *,
    kind: str | None,
    first: int | None,
    order: Sequence[OrderBy],
    related: Sequence[str],
) -> dict[int, list[Credit]]:
    """Credits of each ``parent`` (``movie_id`` or ``person_id``) in ``ids`` by ``order``, in
    one query joined to ``related``; ``first`` applies per parent in SQL (ROW_NUMBER), so a
    page of 100 parents does not fetch every credit of each."""
    rows = Credit.objects.filter(**{f"{parent}__in": list(ids)}).select_related(*related)
    if kind is not None:
        rows = rows.filter(kind=kind)
    if first is not None:
        rows = rows.annotate(
            position=Window(RowNumber(), partition_by=[F(parent)], order_by=order)
        ).filter(position__lte=first)
    grouped: dict[int, list[Credit]] = {pk: [] for pk in ids}
    for credit in rows.order_by(parent, *order):
        grouped[getattr(credit, parent)].append(credit)
    return grouped


def credit_list_for_movies(
    *, movie_ids: Sequence[int], kind: str | None = None, first: int | None = None
) -> dict[int, list[Credit]]:
    """Each movie's credits with their person: cast by billing order, then crew."""
    order = [F("kind").asc(), F("order").asc(), F("id").asc()]
    return _credits_grouped(
        "movie_id", movie_ids, kind=kind, first=first, order=order, related=["person"]
    )


def credit_list_for_persons(
    *, person_ids: Sequence[int], kind: str | None = None, first: int | None = None
) -> dict[int, list[Credit]]:
    """Filmographies: each person's credits, newest release first. Undated movies come last."""
    order = [
        F("movie__release_date").desc(nulls_last=True),
        F("movie__year").desc(nulls_last=True),
        F("movie_id").asc(),
        F("kind").asc(),
        F("id").asc(),
    ]
    return _credits_grouped(
        "person_id", person_ids, kind=kind, first=first, order=order, related=["movie", "person"]
    )


def movie_primary_genres() -> list[tuple[int, int, float]]:
    """``(movie pk, primary genre pk or 0, popularity)`` for the whole catalogue, by pk.

    The primary genre is the first one linked (TMDb lists the main genre first).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT m.id, coalesce(g.genre_id, 0), m.popularity
              FROM movies_movie m
              LEFT JOIN (SELECT DISTINCT ON (movie_id) movie_id, genre_id
                           FROM movies_movie_genres ORDER BY movie_id, id) g
                ON g.movie_id = m.id
             ORDER BY m.id
            """
        )
        return cursor.fetchall()


def movies_by_ids(*, movie_ids: Iterable[int]) -> dict[int, Movie]:
    """Movies by primary key in one query (for relation loaders)."""
    return Movie.objects.defer(*UNSERVED_COLUMNS).in_bulk(list(movie_ids))


def genre_movie_ids(*, genre_id: int, among: Iterable[int] | None = None) -> list[int]:
    """Ids of the movies in a genre (only those ``among`` these, when given), one query."""
    links = Movie.genres.through.objects.filter(genre_id=genre_id)
    if among is not None:
        links = links.filter(movie_id__in=list(among))
    return list(links.values_list("movie_id", flat=True))


def popular_movies(*, exclude: Iterable[int], n: int, genre_id: int | None = None) -> list[Movie]:
    """The ``n`` most popular movies (of a genre, when given) not in ``exclude``."""
    queryset = Movie.objects.exclude(pk__in=list(exclude))
    if genre_id is not None:
        queryset = queryset.filter(genres=genre_id)
    return list(queryset.order_by("-popularity", "pk")[:n])


def popular_movie_ids(*, exclude: Iterable[int], n: int) -> list[int]:
    """Ids of the ``n`` most popular movies not in ``exclude``."""
    queryset = Movie.objects.exclude(pk__in=list(exclude)).order_by("-popularity", "pk")
    return list(queryset.values_list("pk", flat=True)[:n])


def popular_movies_in_genres(
    *, genre_ids: Sequence[int], exclude: Iterable[int], n: int
) -> list[Movie]:
    """The ``n`` movies of these genres not in ``exclude`` ranked by popularity, a movie in
    several of them ranking higher (x1.5 per extra genre). Each carries ``matched_genres``
    (the names it matched, sorted) and ``weighted`` (its ranking score)."""
    matched = Count("genres", distinct=True)
    rows = (
        Movie.objects.filter(genres__in=genre_ids)
        .exclude(pk__in=list(exclude))
        .annotate(
            matched_genres=ArrayAgg("genres__name", distinct=True, order_by="genres__name"),
            weighted=ExpressionWrapper(
                F("popularity") * (1.0 + 0.5 * (matched - 1)), output_field=FloatField()
            ),
        )
        .order_by("-weighted", "-popularity", "pk")[:n]
    )
    return list(rows)


def trending_ranks(window: str) -> dict[int, int]:
    """TMDb's trending list of ``window`` as movie id -> rank (1 is first)."""
    return dict(TrendingEntry.objects.filter(window=window).values_list("movie_id", "rank"))


def content_similar_movie_ids(movie_ids: Sequence[int], *, n: int) -> dict[int, list[int]]:
    """Per movie, up to ``n`` others sharing keywords (weight 2) and genres (weight 1), then
    the most popular; one query."""
    if not movie_ids:
        return {}
    sql = """
        WITH shared AS (
            SELECT s.movie_id AS src, o.movie_id AS cand, 1.0 AS w
              FROM movies_movie_genres s JOIN movies_movie_genres o ON o.genre_id = s.genre_id
             WHERE s.movie_id = ANY(%s) AND o.movie_id <> s.movie_id
            UNION ALL
            SELECT s.movie_id, o.movie_id, 2.0
              FROM movies_movie_keywords s
              JOIN movies_movie_keywords o ON o.keyword_id = s.keyword_id
             WHERE s.movie_id = ANY(%s) AND o.movie_id <> s.movie_id
        ), scored AS (
            SELECT src, cand, SUM(w) AS score FROM shared GROUP BY src, cand
        ), ranked AS (
            SELECT scored.src, scored.cand,
                   ROW_NUMBER() OVER (
                       PARTITION BY scored.src
                       ORDER BY scored.score DESC, m.popularity DESC, m.id
                   ) AS position
              FROM scored JOIN movies_movie m ON m.id = scored.cand
        )
        SELECT src, cand FROM ranked WHERE position <= %s ORDER BY src, position
    """
    result: dict[int, list[int]] = {movie_id: [] for movie_id in movie_ids}
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(movie_ids), list(movie_ids), n])
        for src, cand in cursor.fetchall():
            result[src].append(cand)
    return result


def movie_count() -> int:
    """How many movies the catalogue holds."""
    return Movie.objects.count()


def movie_ids_by_tmdb_ids(tmdb_ids: Sequence[int]) -> dict[int, int]:
    """TMDb id -> movie pk for the known ones among ``tmdb_ids`` (one query; batch large
    lists)."""
    return dict(Movie.objects.filter(tmdb_id__in=list(tmdb_ids)).values_list("tmdb_id", "id"))


def movies_titled(titles: Sequence[str]) -> list[tuple[int, str, int | None]]:
    """``(pk, title, year)`` of the movies titled exactly one of ``titles``, by pk (one
    query; batch large lists)."""
    rows = Movie.objects.filter(title__in=list(titles)).order_by("id")
    return list(rows.values_list("id", "title", "year"))


def with_community_average(queryset: QuerySet[Movie], *, damped: bool = True) -> QuerySet[Movie]:
    """Annotate the community average and (``damped``) its damped (Bayesian) form; NULL when
    unrated.

    ``community_average_value`` is rating_sum / rating_count, what clients display and what
    ``minRating`` filters on. ``community_score_value`` is what "top rated" orders by:
    (rating_sum + m * C) / (rating_count + m), with C the mean of every rating and m
    ``MOVIES_RATING_PRIOR_WEIGHT``, so three 5.0 ratings do not outrank a thousand 4.8s.
    C is an uncorrelated subquery that PostgreSQL evaluates once per statement, but that
    once is a scan of the whole catalogue (22 ms at 10k movies), so lists not ordered by it
    leave it out (``damped=False``). Read from the counters the ratings service maintains;
    never an aggregate over ratings.
    """
    weight = Value(Decimal(settings.MOVIES_RATING_PRIOR_WEIGHT))
    table = Movie._meta.db_table
    global_mean = RawSQL(
        f"SELECT COALESCE(SUM(rating_sum) / NULLIF(SUM(rating_count), 0), 0) FROM {table}",
        (),
        output_field=DecimalField(),
    )
    # A fixed scale in SQL, so the value in a keyset cursor equals the one compared.
    fixed = DecimalField(max_digits=20, decimal_places=10)
    queryset = queryset.annotate(
        community_average_value=Cast(F("rating_sum") / NullIf(F("rating_count"), Value(0)), fixed)
    )
    if not damped:
        return queryset
    return queryset.annotate(
        community_score_value=Case(
            When(rating_count=0, then=Value(None)),
            default=Cast(
                (F("rating_sum") + weight * global_mean) / (F("rating_count") + weight), fixed
            ),
            output_field=fixed,
        ),
    )


def search_tsquery_text(text: str) -> str | None:
    """The raw ``to_tsquery`` text for search-as-you-type: every word, the last as a prefix.

    Built only from ``\\w+`` words, each quoted, so user input can never inject tsquery
    syntax. None when the text has no words.
    """
    words = _WORD.findall(text.lower())[:16]
    if not words:
        return None
    terms = [f"'{w}'" for w in words[:-1]] + [f"'{words[-1]}':*"]
    return " & ".join(terms)


def movie_search(queryset: QuerySet[Movie], text: str) -> QuerySet[Movie]:
    """Movies of ``queryset`` matching ``text``, annotated for relevance ordering.

    A movie matches when its search vector matches the prefix tsquery, or when the text is
    word-similar (pg_trgm ``<%``, threshold ``pg_trgm.word_similarity_threshold``) to its
    lower-cased title, which tolerates typos ("godfater"). Annotations:

    * ``search_tier``: 1 (:func:`movie_search_tiers` sets 0 on the matches it ranks last);
    * ``search_exact``: 1 when the title (or original title) equals the text, else 0;
    * ``search_score``: ts_rank_cd over the weighted vector, plus the title's word similarity
      (typos, partial words) and whole-title similarity (so "godfather" prefers "The
      Godfather" to "The Godfather Part III"), as double precision so keyset cursors
      compare exactly.

    Order by ``-search_tier, -search_exact, -search_score, -popularity`` for relevance.
    """
    text = text.strip()
    needle = text.lower()
    raw = search_tsquery_text(text)
    trigram = TrigramWordSimilar(Lower("title"), Value(needle))
    if raw is None:
        matches: Q | TrigramWordSimilar = trigram
        rank = Value(0.0)
    else:
        query = SearchQuery(raw, search_type="raw", config="english")
        matches = Q(search_vector=query) | Q(trigram)
        rank = SearchRank(F("search_vector"), query, cover_density=True)
    return queryset.filter(matches).annotate(
        search_tier=Value(1),
        search_exact=Case(
            When(Q(title__iexact=text) | Q(original_title__iexact=text), then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        ),
        search_score=Cast(
            rank
            + TrigramWordSimilarity(Value(needle), Lower("title"))
            + TrigramSimilarity(Lower("title"), Value(needle)),
            FloatField(),
        ),
    )


def movie_search_tiers(queryset: QuerySet[Movie], text: str) -> list[QuerySet[Movie]]:
    """``queryset`` (searched by :func:`movie_search`) split for RELEVANCE order: first a
    bounded set of candidates, then every other match, each annotated ``search_tier`` (1, 0).

    Ranking every match costs a trigram comparison per match (about 10 us each): a common
    word matching 40% of a 62k catalogue took 240 ms of PostgreSQL for a page of 20. The
    candidates are the union of three index-backed, popularity-ordered cuts of at most
    ``SEARCH_CANDIDATES`` matches each: exact titles (``movie_title_upper``,
    ``movie_original_title_upper``), titles word-similar to the text (``movie_title_trgm``)
    and the most popular matches of any field (``movie_popularity_idx``). Pages are ranked
    within the candidates first, so only they pay for the score; the rest follow, ranked
    the same way, when a client pages past them. When no cut is full, the candidates are
    every match and the order is exactly the untiered one.
    """
    text = text.strip()
    cut = settings.SEARCH_CANDIDATES
    popular = ("-popularity", "pk")
    exact = queryset.filter(Q(title__iexact=text) | Q(original_title__iexact=text))
    similar = queryset.filter(TrigramWordSimilar(Lower("title"), Value(text.lower())))
    sources = [
        part.order_by(*popular).values_list("pk", flat=True)[:cut]
        for part in (exact, similar, queryset)
    ]
    ids = set(sources[0].union(*sources[1:], all=True))
    return [
        queryset.filter(pk__in=ids).annotate(search_tier=Value(1)),
        queryset.exclude(pk__in=ids).annotate(search_tier=Value(0)),
    ]


@dataclass(frozen=True)
class MovieFilters:
    """The catalogue filters a client may combine (all optional)."""

    search: str | None = None
    genres: Sequence[str] | None = None
    year_from: int | None = None
    year_to: int | None = None
    min_rating: float | None = None
    language: str | None = None
    person_id: int | None = None

    def clean(self) -> None:
        if self.search is not None and len(self.search) > SEARCH_MAX_LENGTH:
            raise ValidationError(
                {"search": f"Search text may be at most {SEARCH_MAX_LENGTH} characters."}
            )
        if (
            self.year_from is not None
            and self.year_to is not None
            and self.year_from > self.year_to
        ):
            raise ValidationError({"year_from": "`yearFrom` must not be after `yearTo`."})
        if self.min_rating is not None and not 0 <= self.min_rating <= 5:
            raise ValidationError({"min_rating": "`minRating` must be between 0 and 5."})

    @property
    def has_search(self) -> bool:
        return bool(self.search and self.search.strip())


def movie_list(*, filters: MovieFilters, damped_score: bool = True) -> QuerySet[Movie]:
    """The filtered catalogue, annotated with ``community_average_value`` (and search ranks;
    and ``community_score_value`` when ``damped_score``: only an order by it needs it).

    Genres narrow: a movie must have every genre given. Unknown genres, an inverted year
    range and similar mistakes raise ``ValidationError`` with the offending field.
    """
    filters.clean()
    queryset = with_community_average(Movie.objects.defer(*UNSERVED_COLUMNS), damped=damped_score)
    if filters.genres:
        for genre in genre_list_by_names(filters.genres):
            through = Movie.genres.through.objects.filter(movie_id=OuterRef("pk"), genre=genre)
            queryset = queryset.filter(Exists(through))
    if filters.person_id is not None:
        credits = Credit.objects.filter(movie_id=OuterRef("pk"), person_id=filters.person_id)
        queryset = queryset.filter(Exists(credits))
    if filters.year_from is not None:
        queryset = queryset.filter(year__gte=filters.year_from)
    if filters.year_to is not None:
        queryset = queryset.filter(year__lte=filters.year_to)
    if filters.language:
        queryset = queryset.filter(original_language=filters.language.strip().lower())
    if filters.min_rating is not None:
        queryset = queryset.filter(community_average_value__gte=Decimal(str(filters.min_rating)))
    if filters.has_search:
        queryset = movie_search(queryset, filters.search or "")
    return queryset


def sync_run_list(*, kind: str | None = None) -> QuerySet[SyncRun]:
    """Sync runs for operators, newest first."""
    runs = SyncRun.objects.all()
    return runs.filter(kind=kind) if kind else runs
