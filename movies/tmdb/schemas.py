"""Validated, immutable views of TMDb responses.

TMDb payloads drift over time (retired genres, numbers sent as strings, nulls where strings are
documented, extra ``append_to_response`` sections), so parsing is strict only about what the sync
cannot work without (ids, titles, list shapes) and lenient about everything cosmetic. Anything
that fails the strict part raises :class:`TmdbPayloadError`; list pages skip and report such items
instead of failing the whole page.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, NamedTuple, TypeVar

from movies.tmdb.errors import TmdbPayloadError

__all__ = [
    "TmdbCast",
    "TmdbChangesPage",
    "TmdbConfiguration",
    "TmdbCredits",
    "TmdbCrew",
    "TmdbGenre",
    "TmdbKeyword",
    "TmdbMovieChange",
    "TmdbMovieDetail",
    "TmdbMovieSummary",
    "TmdbPage",
    "TmdbPayloadError",
    "parse_changes_page",
    "parse_configuration",
    "parse_credits",
    "parse_genres",
    "parse_keywords",
    "parse_movie_changes",
    "parse_movie_detail",
    "parse_movie_page",
    "parse_movie_summary",
    "parse_page",
]

T = TypeVar("T")


# --- field helpers -------------------------------------------------------------------------------


def _obj(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TmdbPayloadError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _list(value: Any, where: str, *, optional: bool = False) -> list[Any]:
    if value is None and optional:
        return []
    if not isinstance(value, list):
        raise TmdbPayloadError(f"{where}: expected a list, got {type(value).__name__}")
    return value


def _req_int(data: Mapping[str, Any], key: str, where: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TmdbPayloadError(f"{where}.{key}: expected an integer, got {value!r}")
    return value


def _opt_int(
    data: Mapping[str, Any], key: str, where: str, *, zero_is_none: bool = False
) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TmdbPayloadError(f"{where}.{key}: expected an integer or null, got {value!r}")
    if zero_is_none and value == 0:
        return None
    return value


def _req_str(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise TmdbPayloadError(f"{where}.{key}: expected a non-empty string, got {value!r}")
    return value


def _str(data: Mapping[str, Any], key: str, where: str, default: str = "") -> str:
    value = data.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise TmdbPayloadError(f"{where}.{key}: expected a string, got {value!r}")
    return value


def _opt_str(data: Mapping[str, Any], key: str, where: str) -> str | None:
    """A string where TMDb sends ``null`` or ``""`` for "unknown"; both become None."""
    value = _str(data, key, where)
    return value or None


def _number(data: Mapping[str, Any], key: str, where: str) -> float:
    """Floats that old captures sometimes send as numeric strings ("93.49"); null -> 0.0."""
    value = data.get(key)
    if value is None:
        return 0.0
    if isinstance(value, bool):
        raise TmdbPayloadError(f"{where}.{key}: expected a number, got {value!r}")
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value)
        except ValueError:
            raise TmdbPayloadError(f"{where}.{key}: expected a number, got {value!r}") from None
    else:
        raise TmdbPayloadError(f"{where}.{key}: expected a number, got {value!r}")
    if not math.isfinite(result):
        raise TmdbPayloadError(f"{where}.{key}: not a finite number: {value!r}")
    return result


def _count(data: Mapping[str, Any], key: str, where: str) -> int:
    value = _opt_int(data, key, where)
    return 0 if value is None else value


def _bool(data: Mapping[str, Any], key: str, where: str) -> bool:
    value = data.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise TmdbPayloadError(f"{where}.{key}: expected a boolean, got {value!r}")
    return value


def _date(data: Mapping[str, Any], key: str, where: str) -> date | None:
    value = _str(data, key, where)
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise TmdbPayloadError(f"{where}.{key}: not an ISO date: {value!r}") from None


def _int_list(data: Mapping[str, Any], key: str, where: str) -> tuple[int, ...]:
    items = _list(data.get(key), f"{where}.{key}", optional=True)
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int):
            raise TmdbPayloadError(f"{where}.{key}: expected integers, got {item!r}")
    return tuple(items)


def _str_list(data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    items = _list(data.get(key), f"{where}.{key}", optional=True)
    for item in items:
        if not isinstance(item, str):
            raise TmdbPayloadError(f"{where}.{key}: expected strings, got {item!r}")
    return tuple(items)


# --- value objects -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TmdbGenre:
    id: int
    name: str


class TmdbKeyword(NamedTuple):
    """A keyword; a NamedTuple so ``for kid, name in detail.keywords`` works."""

    id: int
    name: str


@dataclass(frozen=True, slots=True)
class TmdbCast:
    person_id: int
    name: str
    character: str
    order: int
    profile_path: str | None


@dataclass(frozen=True, slots=True)
class TmdbCrew:
    person_id: int
    name: str
    job: str
    department: str
    profile_path: str | None = None


@dataclass(frozen=True, slots=True)
class TmdbCredits:
    cast: tuple[TmdbCast, ...]
    crew: tuple[TmdbCrew, ...]


@dataclass(frozen=True, slots=True)
class TmdbMovieSummary:
    """One movie as it appears in list endpoints (popular, discover, trending, similar)."""

    id: int
    title: str
    original_title: str
    overview: str
    release_date: date | None
    popularity: float
    vote_average: float
    vote_count: int
    poster_path: str | None
    backdrop_path: str | None
    genre_ids: tuple[int, ...]
    original_language: str
    adult: bool


@dataclass(frozen=True, slots=True)
class TmdbMovieDetail(TmdbMovieSummary):
    """``/movie/{id}``; ``credits_included`` / ``keywords_included`` tell an empty list from
    a section that was not appended, so a sync never wipes credits it did not receive."""

    genres: tuple[TmdbGenre, ...] = ()
    imdb_id: str | None = None
    tagline: str = ""
    runtime: int | None = None
    status: str = ""
    homepage: str | None = None
    budget: int | None = None
    revenue: int | None = None
    keywords: tuple[TmdbKeyword, ...] = ()
    cast: tuple[TmdbCast, ...] = ()
    crew: tuple[TmdbCrew, ...] = ()
    credits_included: bool = False
    keywords_included: bool = False


class _Paged:
    """What every paged TMDb answer offers: how many items were skipped, whether more follow."""

    __slots__ = ()
    page: int
    total_pages: int
    errors: tuple[TmdbPayloadError, ...]

    @property
    def skipped(self) -> int:
        return len(self.errors)

    @property
    def has_next(self) -> bool:
        return self.page < self.total_pages


@dataclass(frozen=True)  # no slots: they break ``TmdbPage[T](...)`` on Python 3.11
class TmdbPage(_Paged, Generic[T]):
    """A page of a paged endpoint; ``errors`` holds the items skipped as malformed."""

    page: int
    total_pages: int
    total_results: int
    results: tuple[T, ...]
    errors: tuple[TmdbPayloadError, ...] = ()


@dataclass(frozen=True, slots=True)
class TmdbChangesPage(_Paged):
    """``/movie/changes``: ids changed in the window (``adult`` may be null, so it is ignored)."""

    page: int
    total_pages: int
    total_results: int
    ids: tuple[int, ...]
    errors: tuple[TmdbPayloadError, ...] = ()


@dataclass(frozen=True, slots=True)
class TmdbMovieChange:
    """One entry of ``/movie/{id}/changes``: which field changed, how, and when (TMDb's
    ``"2023-04-08 16:35:05 UTC"`` text, kept as sent)."""

    key: str
    action: str
    time: str


@dataclass(frozen=True, slots=True)
class TmdbConfiguration:
    """``/configuration``: image URLs are ``secure_base_url + size + file_path``."""

    secure_base_url: str
    base_url: str
    poster_sizes: tuple[str, ...]
    backdrop_sizes: tuple[str, ...]
    profile_sizes: tuple[str, ...] = ()
    logo_sizes: tuple[str, ...] = ()
    still_sizes: tuple[str, ...] = ()
    change_keys: tuple[str, ...] = field(default=(), repr=False)

    def image_url(self, path: str | None, size: str = "original") -> str | None:
        """Full image URL, or None when TMDb has no image (null or empty path)."""
        if not path:
            return None
        return f"{self.secure_base_url.rstrip('/')}/{size}/{path.lstrip('/')}"


# --- parsers -------------------------------------------------------------------------------------


def parse_genres(payload: Any) -> tuple[TmdbGenre, ...]:
    """``/genre/movie/list``; any genre list is accepted, since genres are stored as data."""
    data = _obj(payload, "genres")
    return tuple(
        _parse_genre(g, f"genres[{i}]") for i, g in enumerate(_list(data.get("genres"), "genres"))
    )


def _parse_genre(value: Any, where: str) -> TmdbGenre:
    data = _obj(value, where)
    return TmdbGenre(id=_req_int(data, "id", where), name=_req_str(data, "name", where))


def parse_movie_summary(payload: Any) -> TmdbMovieSummary:
    """One list item; only ``id`` and ``title`` are required."""
    data = _obj(payload, "movie")
    where = f"movie[{data.get('id')!r}]"
    return TmdbMovieSummary(**_summary_fields(data, where))


def _summary_fields(data: Mapping[str, Any], where: str) -> dict[str, Any]:
    movie_id = _req_int(data, "id", where)
    title = _req_str(data, "title", where)
    return {
        "id": movie_id,
        "title": title,
        "original_title": _str(data, "original_title", where) or title,
        "overview": _str(data, "overview", where),
        "release_date": _date(data, "release_date", where),
        "popularity": _number(data, "popularity", where),
        "vote_average": _number(data, "vote_average", where),
        "vote_count": _count(data, "vote_count", where),
        "poster_path": _opt_str(data, "poster_path", where),
        "backdrop_path": _opt_str(data, "backdrop_path", where),
        "genre_ids": _int_list(data, "genre_ids", where),
        "original_language": _str(data, "original_language", where),
        "adult": _bool(data, "adult", where),
    }


def parse_movie_detail(payload: Any) -> TmdbMovieDetail:
    """``/movie/{id}``, with the appended ``credits`` and ``keywords`` sections when present.

    Other appended sections are ignored. ``runtime``, ``budget`` and ``revenue`` of 0 mean
    "unknown" on TMDb and become None.
    """
    data = _obj(payload, "movie")
    where = f"movie[{data.get('id')!r}]"
    fields = _summary_fields(data, where)
    genres = tuple(
        _parse_genre(g, f"{where}.genres[{i}]")
        for i, g in enumerate(_list(data.get("genres"), f"{where}.genres", optional=True))
    )
    if not fields["genre_ids"]:
        fields["genre_ids"] = tuple(g.id for g in genres)

    credits: TmdbCredits | None = None
    if data.get("credits") is not None:
        credits = _parse_credits_body(_obj(data["credits"], f"{where}.credits"), f"{where}.credits")
    keywords: tuple[TmdbKeyword, ...] | None = None
    if data.get("keywords") is not None:
        keywords = _parse_keywords_body(
            _obj(data["keywords"], f"{where}.keywords"), f"{where}.keywords"
        )

    return TmdbMovieDetail(
        **fields,
        genres=genres,
        imdb_id=_opt_str(data, "imdb_id", where),
        tagline=_str(data, "tagline", where),
        runtime=_opt_int(data, "runtime", where, zero_is_none=True),
        status=_str(data, "status", where),
        homepage=_opt_str(data, "homepage", where),
        budget=_opt_int(data, "budget", where, zero_is_none=True),
        revenue=_opt_int(data, "revenue", where, zero_is_none=True),
        keywords=keywords or (),
        cast=credits.cast if credits else (),
        crew=credits.crew if credits else (),
        credits_included=credits is not None,
        keywords_included=keywords is not None,
    )


def parse_credits(payload: Any) -> TmdbCredits:
    """``/movie/{id}/credits`` (or the appended ``credits`` section)."""
    return _parse_credits_body(_obj(payload, "credits"), "credits")


def _parse_credits_body(data: Mapping[str, Any], where: str) -> TmdbCredits:
    cast = []
    for i, item in enumerate(_list(data.get("cast"), f"{where}.cast", optional=True)):
        w = f"{where}.cast[{i}]"
        person = _obj(item, w)
        order = _opt_int(person, "order", w)
        cast.append(
            TmdbCast(
                person_id=_req_int(person, "id", w),
                name=_req_str(person, "name", w),
                character=_str(person, "character", w),
                order=i if order is None else order,
                profile_path=_opt_str(person, "profile_path", w),
            )
        )
    crew = []
    for i, item in enumerate(_list(data.get("crew"), f"{where}.crew", optional=True)):
        w = f"{where}.crew[{i}]"
        person = _obj(item, w)
        crew.append(
            TmdbCrew(
                person_id=_req_int(person, "id", w),
                name=_req_str(person, "name", w),
                job=_str(person, "job", w),
                department=_str(person, "department", w),
                profile_path=_opt_str(person, "profile_path", w),
            )
        )
    return TmdbCredits(cast=tuple(cast), crew=tuple(crew))


def parse_keywords(payload: Any) -> tuple[TmdbKeyword, ...]:
    """``/movie/{id}/keywords`` (or the appended ``keywords`` section, same inner shape)."""
    return _parse_keywords_body(_obj(payload, "keywords"), "keywords")


def _parse_keywords_body(data: Mapping[str, Any], where: str) -> tuple[TmdbKeyword, ...]:
    result = []
    for i, item in enumerate(_list(data.get("keywords"), f"{where}.keywords", optional=True)):
        w = f"{where}.keywords[{i}]"
        kw = _obj(item, w)
        result.append(TmdbKeyword(_req_int(kw, "id", w), _req_str(kw, "name", w)))
    return tuple(result)


def _page_header(data: Mapping[str, Any]) -> tuple[int, int, int, list[Any]]:
    page = _req_int(data, "page", "page")
    total_pages = _count(data, "total_pages", "page")
    total_results = _count(data, "total_results", "page")
    results = _list(data.get("results"), "page.results")
    return page, total_pages, total_results, results


def parse_page(payload: Any, item_parser: Callable[[Any], T]) -> TmdbPage[T]:
    """A paged list; malformed items are skipped and returned in ``errors``, never fatal.

    A malformed envelope (no page number, results not a list) still raises.
    """
    page, total_pages, total_results, raw = _page_header(_obj(payload, "page"))
    results: list[T] = []
    errors: list[TmdbPayloadError] = []
    for item in raw:
        try:
            results.append(item_parser(item))
        except TmdbPayloadError as exc:
            errors.append(exc)
    return TmdbPage(page, total_pages, total_results, tuple(results), tuple(errors))


def parse_movie_page(payload: Any) -> TmdbPage[TmdbMovieSummary]:
    """popular / discover / trending / similar / recommendations pages."""
    return parse_page(payload, parse_movie_summary)


def parse_changes_page(payload: Any) -> TmdbChangesPage:
    """``/movie/changes``; items without an integer id are skipped and counted."""
    page, total_pages, total_results, raw = _page_header(_obj(payload, "changes"))
    ids: list[int] = []
    errors: list[TmdbPayloadError] = []
    for i, item in enumerate(raw):
        try:
            ids.append(_req_int(_obj(item, f"changes[{i}]"), "id", f"changes[{i}]"))
        except TmdbPayloadError as exc:
            errors.append(exc)
    return TmdbChangesPage(page, total_pages, total_results, tuple(ids), tuple(errors))


def parse_movie_changes(payload: Any) -> tuple[TmdbMovieChange, ...]:
    """``/movie/{id}/changes``, flattened to one entry per change item."""
    data = _obj(payload, "movie_changes")
    result = []
    for i, group in enumerate(_list(data.get("changes"), "movie_changes.changes")):
        where = f"movie_changes.changes[{i}]"
        group_data = _obj(group, where)
        key = _req_str(group_data, "key", where)
        for j, item in enumerate(_list(group_data.get("items"), f"{where}.items", optional=True)):
            item_data = _obj(item, f"{where}.items[{j}]")
            result.append(
                TmdbMovieChange(
                    key=key,
                    action=_str(item_data, "action", where),
                    time=_str(item_data, "time", where),
                )
            )
    return tuple(result)


def parse_configuration(payload: Any) -> TmdbConfiguration:
    """``/configuration``; only the images block and its secure base URL are required."""
    data = _obj(payload, "configuration")
    images = _obj(data.get("images"), "configuration.images")
    where = "configuration.images"
    return TmdbConfiguration(
        secure_base_url=_req_str(images, "secure_base_url", where),
        base_url=_str(images, "base_url", where),
        poster_sizes=_str_list(images, "poster_sizes", where),
        backdrop_sizes=_str_list(images, "backdrop_sizes", where),
        profile_sizes=_str_list(images, "profile_sizes", where),
        logo_sizes=_str_list(images, "logo_sizes", where),
        still_sizes=_str_list(images, "still_sizes", where),
        change_keys=_str_list(data, "change_keys", "configuration"),
    )
