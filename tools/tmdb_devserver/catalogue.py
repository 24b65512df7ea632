"""A deterministic, TMDb-shaped movie catalogue for the dev server and tests.

Everything derives from ``(size, seed)`` through one ``random.Random``, so a test can generate
the same catalogue the server uses and compare what a sync stored against it. Only the change
log's *dates* depend on ``today`` (so ``/movie/changes`` has recent entries); its ids do not.
A handful of real movies keep their real TMDb ids so demos look familiar.
"""

from __future__ import annotations

import base64
import math
import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

__all__ = ["GENRES", "REFERENCE_DATE", "Catalogue"]

#: Fixed "now" for everything scored by age (trending, status), so output never drifts.
REFERENCE_DATE = date(2025, 6, 1)

#: TMDb's current 19 movie genres with their real ids.
GENRES: tuple[tuple[int, str], ...] = (
    (28, "Action"),
    (12, "Adventure"),
    (16, "Animation"),
    (35, "Comedy"),
    (80, "Crime"),
    (99, "Documentary"),
    (18, "Drama"),
    (10751, "Family"),
    (14, "Fantasy"),
    (36, "History"),
    (27, "Horror"),
    (10402, "Music"),
    (9648, "Mystery"),
    (10749, "Romance"),
    (878, "Science Fiction"),
    (10770, "TV Movie"),
    (53, "Thriller"),
    (10752, "War"),
    (37, "Western"),
)
_GENRE_NAME = dict(GENRES)
# Relative frequency of each genre on TMDb (roughly): drama and comedy dominate.
_GENRE_WEIGHTS = (9, 5, 4, 10, 5, 3, 14, 3, 3, 2, 5, 2, 3, 5, 4, 1, 7, 1, 1)

_ADJ = [
    "Last",
    "Silent",
    "Broken",
    "Hidden",
    "Golden",
    "Crimson",
    "Distant",
    "Final",
    "Lost",
    "Burning",
    "Quiet",
    "Frozen",
    "Forgotten",
    "Wild",
    "Dark",
    "Bright",
    "Endless",
    "Hollow",
    "Savage",
    "Secret",
    "Fallen",
    "Electric",
    "Midnight",
    "Northern",
    "Paper",
    "Iron",
    "Velvet",
    "Scarlet",
    "Lonely",
    "Wandering",
]
_NOUN = [
    "Harbor",
    "River",
    "Kingdom",
    "Horizon",
    "Garden",
    "Promise",
    "Witness",
    "Frontier",
    "Lighthouse",
    "Symphony",
    "Orchard",
    "Empire",
    "Signal",
    "Mirror",
    "Road",
    "Storm",
    "Island",
    "Shadow",
    "Letter",
    "Summer",
    "Winter",
    "Station",
    "Circus",
    "Voyage",
    "Border",
    "Heart",
    "Crown",
    "Machine",
    "Ghost",
    "Tide",
    "Echo",
    "Hunter",
    "Orbit",
    "Canyon",
    "Stranger",
    "Inheritance",
]
_PLACE = [
    "Verona",
    "Lisbon",
    "Tangier",
    "Harlem",
    "Kyoto",
    "Marseille",
    "Havana",
    "Oslo",
    "Vienna",
    "Bombay",
    "Montana",
    "Alaska",
    "Brooklyn",
    "Saigon",
    "Prague",
    "Cairo",
    "Dublin",
    "Naples",
    "Patagonia",
    "Reno",
    "Tulsa",
    "Berlin",
    "Shanghai",
    "Valparaiso",
]
_TIME = [
    "Midnight",
    "Sunset",
    "Morning",
    "Winter",
    "Summer",
    "Autumn",
    "Dawn",
    "Twilight",
    "Christmas",
]
_FIRST_F = [
    "Anna",
    "Maria",
    "Sofia",
    "Emma",
    "Claire",
    "Nora",
    "Julia",
    "Rosa",
    "Ingrid",
    "Mei",
    "Aiko",
    "Priya",
    "Laura",
    "Elena",
    "Grace",
    "Hannah",
    "Leila",
    "Chloe",
    "Olivia",
    "Ruth",
    "Vera",
    "Ines",
    "Amara",
    "Zoe",
    "Isabel",
    "Marta",
    "Yuki",
    "Freya",
    "Lucia",
    "Nadia",
]
_FIRST_M = [
    "James",
    "John",
    "Marco",
    "Luca",
    "David",
    "Daniel",
    "Thomas",
    "Samuel",
    "Omar",
    "Kenji",
    "Ravi",
    "Peter",
    "Henry",
    "Victor",
    "Felix",
    "Mateo",
    "Noah",
    "Oscar",
    "Hugo",
    "Arthur",
    "Jonas",
    "Leo",
    "Ivan",
    "Pablo",
    "Theo",
    "Malik",
    "Tariq",
    "Erik",
    "Aaron",
    "Paul",
]
_LAST = [
    "Hart",
    "Moreau",
    "Castillo",
    "Novak",
    "Lindqvist",
    "Okafor",
    "Tanaka",
    "Rossi",
    "Keller",
    "Brennan",
    "Duval",
    "Varga",
    "Mendes",
    "Holloway",
    "Sato",
    "Kowalski",
    "Fischer",
    "Reyes",
    "Blackwood",
    "Quinn",
    "Marsh",
    "Abara",
    "Lindgren",
    "Costa",
    "Whitaker",
    "Nakamura",
    "Petrov",
    "Sinclair",
    "Delgado",
    "Hughes",
    "Ward",
    "Okonkwo",
    "Bauer",
    "Laurent",
    "Moreno",
    "Ashby",
    "Kerr",
    "Falk",
]
_HERO = (
    "a retired detective",
    "a young pianist",
    "a disgraced pilot",
    "two estranged sisters",
    "a small-town sheriff",
    "a stubborn widow",
    "an ambitious reporter",
    "a runaway teenager",
    "a weary soldier",
    "a brilliant but reckless scientist",
    "a struggling chef",
    "an aging boxer",
)
_GOAL = (
    "uncover the truth about a family secret",
    "get home before the winter closes the pass",
    "pull off one last job",
    "save the town's failing cinema",
    "find a missing friend",
    "keep a promise made years ago",
    "win back a lost love",
    "survive a single impossible night",
)
_OVERVIEW: dict[int, tuple[str, ...]] = {
    28: ("When a routine escort goes wrong, {hero} must fight through {place} to {goal}.",),
    12: ("{hero_c} sets out across {place} on a perilous journey to {goal}.",),
    16: ("In a colourful corner of {place}, {hero} teams up with unlikely friends to {goal}.",),
    35: ("After a chaotic mix-up in {place}, {hero} has one week to {goal}.",),
    80: ("Drawn into the underworld of {place}, {hero} plots to {goal} without getting caught.",),
    99: ("This documentary follows {hero} in {place} through the attempt to {goal}.",),
    18: ("Years after leaving {place}, {hero} returns home and must finally {goal}.",),
    10751: ("When the holidays bring everyone to {place}, {hero} tries to {goal}.",),
    14: ("In an enchanted realm beyond {place}, {hero} discovers a magic that could {goal}.",),
    36: ("Based on true events in {place}, {hero} risks everything to {goal}.",),
    27: ("Something is waiting in an old house outside {place}, and {hero} must {goal}.",),
    10402: ("With a battered guitar and a dream, {hero} from {place} tries to {goal}.",),
    9648: ("A strange disappearance in {place} leads {hero} to {goal}.",),
    10749: ("One summer in {place}, {hero} meets a stranger and decides to {goal}.",),
    878: ("In the year 2140, {hero} aboard a failing colony ship near {place} must {goal}.",),
    10770: ("In this television feature, {hero} in {place} sets out to {goal}.",),
    53: ("Hunted by people who want them silent, {hero} has hours in {place} to {goal}.",),
    10752: ("Behind enemy lines near {place}, {hero} leads a desperate attempt to {goal}.",),
    37: ("On the dusty frontier outside {place}, {hero} rides out to {goal}.",),
}
_TAGLINES = (
    "Some promises are worth breaking.",
    "Nothing stays buried forever.",
    "The journey is only the beginning.",
    "Every family has a secret.",
    "One night. No way out.",
    "Home is the hardest place to return to.",
    "The truth has a price.",
    "Not all heroes wear armour.",
)
_GENRE_KEYWORDS: dict[int, tuple[str, ...]] = {
    28: ("car chase", "shootout", "martial arts", "bodyguard"),
    12: ("treasure hunt", "expedition", "jungle", "quest"),
    16: ("talking animals", "anthropomorphism", "coming of age"),
    35: ("road trip", "mistaken identity", "wedding", "slapstick"),
    80: ("heist", "mafia", "police", "money laundering"),
    99: ("interview", "archive footage", "biography"),
    18: ("family relationships", "grief", "based on novel or book", "small town"),
    10751: ("holiday", "christmas", "siblings"),
    14: ("magic", "dragon", "prophecy", "sword and sorcery"),
    36: ("19th century", "world war ii", "biography", "royalty"),
    27: ("haunted house", "possession", "slasher", "supernatural"),
    10402: ("musician", "concert", "band"),
    9648: ("whodunit", "investigation", "disappearance"),
    10749: ("love triangle", "first love", "summer romance"),
    878: ("space travel", "artificial intelligence", "dystopia", "time travel"),
    10770: ("tv movie", "made for tv"),
    53: ("conspiracy", "kidnapping", "cat and mouse"),
    10752: ("world war ii", "battlefield", "resistance"),
    37: ("gunslinger", "outlaw", "frontier", "revenge"),
}
_COMMON_KEYWORDS = ("friendship", "revenge", "betrayal", "duringcreditsstinger", "loneliness")
_KEYWORD_IDS: dict[str, int] = {
    name: 9000 + i
    for i, name in enumerate(
        sorted({k for ks in _GENRE_KEYWORDS.values() for k in ks} | set(_COMMON_KEYWORDS))
    )
}
_LANGUAGES = (
    ("en", "English", "English", "US", "United States of America", 70),
    ("fr", "French", "Français", "FR", "France", 6),
    ("es", "Spanish", "Español", "ES", "Spain", 5),
    ("ja", "Japanese", "日本語", "JP", "Japan", 5),
    ("ko", "Korean", "한국어/조선말", "KR", "South Korea", 3),
    ("de", "German", "Deutsch", "DE", "Germany", 3),
    ("it", "Italian", "Italiano", "IT", "Italy", 3),
    ("hi", "Hindi", "हिन्दी", "IN", "India", 3),
    ("sv", "Swedish", "svenska", "SE", "Sweden", 2),
)
_COMPANIES = (
    "Northlight Pictures",
    "Harbor Lane Films",
    "Copperfield Studios",
    "Blue Meridian",
    "Sable & Finch",
    "Kestrel Entertainment",
    "Orchard Road Productions",
    "Tin Star Media",
    "Lanternfish Films",
    "Greyhound Pictures",
    "Red Kite Studios",
    "Paper Moon Company",
)
_CREW_JOBS = (
    ("Director", "Directing"),
    ("Screenplay", "Writing"),
    ("Producer", "Production"),
    ("Original Music Composer", "Sound"),
)

# Real movies at their real TMDb ids (overviews are our own one-line summaries).
_REAL: tuple[dict[str, Any], ...] = (
    {
        "id": 550,
        "title": "Fight Club",
        "date": "1999-10-15",
        "genres": (18,),
        "runtime": 139,
        "imdb_id": "tt0137523",
        "tagline": "Mischief. Mayhem. Soap.",
        "overview": "An insomniac office worker and a soap salesman start an underground "
        "fight club that grows into something far more dangerous.",
        "director": (7467, "David Fincher"),
        "cast": (
            (819, "Edward Norton", "The Narrator"),
            (287, "Brad Pitt", "Tyler Durden"),
            (1283, "Helena Bonham Carter", "Marla Singer"),
        ),
    },
    {
        "id": 238,
        "title": "The Godfather",
        "date": "1972-03-14",
        "genres": (18, 80),
        "runtime": 175,
        "imdb_id": "tt0068646",
        "tagline": "An offer you can't refuse.",
        "overview": "The aging patriarch of a New York crime family hands control of his "
        "empire to his reluctant youngest son.",
        "director": (1776, "Francis Ford Coppola"),
        "cast": (
            (3084, "Marlon Brando", "Don Vito Corleone"),
            (1158, "Al Pacino", "Michael Corleone"),
            (3085, "James Caan", "Sonny Corleone"),
        ),
    },
    {
        "id": 680,
        "title": "Pulp Fiction",
        "date": "1994-09-10",
        "genres": (53, 80),
        "runtime": 154,
        "imdb_id": "tt0110912",
        "tagline": "Just because you are a character doesn't mean you have character.",
        "overview": "Hit men, a boxer, a gangster's wife and a pair of diner robbers cross "
        "paths in four tales of violence and redemption in Los Angeles.",
        "director": (138, "Quentin Tarantino"),
        "cast": (
            (8891, "John Travolta", "Vincent Vega"),
            (2231, "Samuel L. Jackson", "Jules Winnfield"),
            (139, "Uma Thurman", "Mia Wallace"),
        ),
    },
    {
        "id": 155,
        "title": "The Dark Knight",
        "date": "2008-07-16",
        "genres": (18, 28, 80, 53),
        "runtime": 152,
        "imdb_id": "tt0468569",
        "tagline": "Welcome to a world without rules.",
        "overview": "Batman, Lieutenant Gordon and District Attorney Harvey Dent take on "
        "Gotham's mobs until a criminal mastermind called the Joker throws the city into chaos.",
        "director": (525, "Christopher Nolan"),
        "cast": (
            (3894, "Christian Bale", "Bruce Wayne"),
            (1810, "Heath Ledger", "Joker"),
            (6383, "Aaron Eckhart", "Harvey Dent"),
        ),
    },
    {
        "id": 13,
        "title": "Forrest Gump",
        "date": "1994-06-23",
        "genres": (35, 18, 10749),
        "runtime": 142,
        "imdb_id": "tt0109830",
        "tagline": "The world will never be the same once you've seen it through the eyes "
        "of Forrest Gump.",
        "overview": "A kind-hearted Alabama man drifts through decades of American history "
        "while never forgetting his childhood sweetheart.",
        "director": (24, "Robert Zemeckis"),
        "cast": (
            (31, "Tom Hanks", "Forrest Gump"),
            (32, "Robin Wright", "Jenny Curran"),
            (33, "Gary Sinise", "Lieutenant Dan Taylor"),
        ),
    },
    {
        "id": 603,
        "title": "The Matrix",
        "date": "1999-03-31",
        "genres": (28, 878),
        "runtime": 136,
        "imdb_id": "tt0133093",
        "tagline": "Welcome to the Real World.",
        "overview": "A hacker learns that his everyday reality is a simulation and joins a "
        "rebellion against the machines that built it.",
        "director": (9340, "Lana Wachowski"),
        "cast": (
            (6384, "Keanu Reeves", "Neo"),
            (2975, "Laurence Fishburne", "Morpheus"),
            (530, "Carrie-Anne Moss", "Trinity"),
        ),
    },
    {
        "id": 27205,
        "title": "Inception",
        "date": "2010-07-15",
        "genres": (28, 878, 12),
        "runtime": 148,
        "imdb_id": "tt1375666",
        "tagline": "Your mind is the scene of the crime.",
        "overview": "A thief who steals secrets from dreams is offered a way home if he can "
        "plant an idea in a target's mind instead.",
        "director": (525, "Christopher Nolan"),
        "cast": (
            (6193, "Leonardo DiCaprio", "Dom Cobb"),
            (24045, "Joseph Gordon-Levitt", "Arthur"),
            (27578, "Elliot Page", "Ariadne"),
        ),
    },
    {
        "id": 157336,
        "title": "Interstellar",
        "date": "2014-11-05",
        "genres": (12, 18, 878),
        "runtime": 169,
        "imdb_id": "tt0816692",
        "tagline": "Mankind was born on Earth. It was never meant to die here.",
        "overview": "With Earth failing, a former pilot leads a crew through a wormhole in "
        "search of a new home for humanity.",
        "director": (525, "Christopher Nolan"),
        "cast": (
            (10297, "Matthew McConaughey", "Cooper"),
            (1813, "Anne Hathaway", "Brand"),
            (83002, "Jessica Chastain", "Murph"),
        ),
    },
    {
        "id": 122,
        "title": "The Lord of the Rings: The Return of the King",
        "date": "2003-12-17",
        "genres": (12, 14, 28),
        "runtime": 201,
        "imdb_id": "tt0167260",
        "tagline": "The eye of the enemy is moving.",
        "overview": "As the armies of Sauron gather against Minas Tirith, Frodo and Sam "
        "make their final climb towards Mount Doom.",
        "director": (108, "Peter Jackson"),
        "cast": (
            (109, "Elijah Wood", "Frodo Baggins"),
            (1327, "Ian McKellen", "Gandalf"),
            (110, "Viggo Mortensen", "Aragorn"),
        ),
    },
)
REAL_MOVIE_IDS: tuple[int, ...] = tuple(m["id"] for m in _REAL)
_REAL_BY_ID = {m["id"]: m for m in _REAL}

_SORT_FIELDS = {
    "popularity": lambda m: m["popularity"],
    "vote_average": lambda m: m["vote_average"],
    "vote_count": lambda m: m["vote_count"],
    "primary_release_date": lambda m: m["release_date"] or "",
    "release_date": lambda m: m["release_date"] or "",
    "title": lambda m: m["title"].casefold(),
    "original_title": lambda m: m["original_title"].casefold(),
    "revenue": lambda m: m["revenue"],
}


def _image_path(rng: random.Random) -> str:
    raw = base64.b64encode(rng.getrandbits(168).to_bytes(21, "big"), altchars=b"Xz")
    return "/" + raw[:27].decode() + ".jpg"


def _summary(movie: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "adult": movie["adult"],
        "backdrop_path": movie["backdrop_path"],
        "genre_ids": [g["id"] for g in movie["genres"]],
        "id": movie["id"],
        "original_language": movie["original_language"],
        "original_title": movie["original_title"],
        "overview": movie["overview"],
        "popularity": movie["popularity"],
        "poster_path": movie["poster_path"],
        "release_date": movie["release_date"],
        "title": movie["title"],
        "video": movie["video"],
        "vote_average": movie["vote_average"],
        "vote_count": movie["vote_count"],
    }


@dataclass
class Catalogue:
    """Movies keyed by TMDb id, as ``/movie/{id}`` returns them (without appended sections).

    Credits and keywords (:meth:`credits_for`, :meth:`keywords_for`) are built on first use
    from a per-movie random stream, so they are as deterministic as the rest but cost nothing
    for movies never fetched. The
    dev-only mutations (:meth:`touch`, :meth:`malform`) are undone by :meth:`reset`.
    """

    seed: int
    size: int
    movies: dict[int, dict[str, Any]]
    changes: list[tuple[datetime, int]]
    _actors: list[dict[str, Any]] = field(repr=False)
    _crew: list[dict[str, Any]] = field(repr=False)
    genres: list[dict[str, Any]] = field(
        default_factory=lambda: [{"id": gid, "name": name} for gid, name in GENRES]
    )
    malformed: set[int] = field(default_factory=set)
    revisions: dict[int, int] = field(default_factory=dict)
    _originals: dict[int, dict[str, Any]] = field(default_factory=dict, repr=False)
    _initial_changes: int = field(default=0, repr=False)
    _orders: dict[str, list[int]] = field(default_factory=dict, repr=False)
    _credits: dict[int, dict[str, Any]] = field(default_factory=dict, repr=False)
    _keywords: dict[int, dict[str, Any]] = field(default_factory=dict, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    # --- generation ------------------------------------------------------------------------------

    @classmethod
    def generate(cls, size: int = 5000, seed: int = 42, *, today: date | None = None) -> Catalogue:
        """Build ``size`` movies (the real ones first). ``today`` only dates the change log."""
        if size < 1:
            raise ValueError("size must be at least 1")
        rng = random.Random(seed)
        actors, crew_people = _people(rng, size)
        companies = [
            {
                "id": 90000 + i,
                "logo_path": _image_path(rng).replace(".jpg", ".png") if i % 3 else None,
                "name": name,
                "origin_country": rng.choice(("US", "GB", "FR", "CA")),
            }
            for i, name in enumerate(_COMPANIES)
        ]
        movies: dict[int, dict[str, Any]] = {}

        reals = _REAL[:size]
        taken = set(REAL_MOVIE_IDS)
        generated_ids = [i for i in rng.sample(range(1000, 1_300_000), size + 20) if i not in taken]
        for spec in reals:
            movies[spec["id"]] = _real_movie(rng, spec, companies)
        for movie_id in generated_ids[: size - len(reals)]:
            movies[movie_id] = _fake_movie(rng, movie_id, companies)

        changes = _change_log(seed, sorted(movies), today or datetime.now(UTC).date())
        catalogue = cls(
            seed=seed,
            size=size,
            movies=movies,
            changes=changes,
            _actors=actors,
            _crew=crew_people,
        )
        catalogue._initial_changes = len(changes)
        return catalogue

    # --- views as served -------------------------------------------------------------------------

    def detail(self, movie_id: int, append: Iterable[str] = ()) -> dict[str, Any]:
        """``/movie/{id}`` body with ``credits`` / ``keywords`` appended as TMDb nests them.

        Raises KeyError for unknown ids.
        """
        movie = self.movies[movie_id]
        if movie_id in self.malformed:
            return _malformed(movie)
        body = dict(movie)
        for section in append:
            if section == "credits":
                credit = self.credits_for(movie_id)
                body["credits"] = {"cast": credit["cast"], "crew": credit["crew"]}
            elif section == "keywords":
                body["keywords"] = {"keywords": self.keywords_for(movie_id)["keywords"]}
        return body

    def credits_for(self, movie_id: int) -> dict[str, Any]:
        """``/movie/{id}/credits`` body. Raises KeyError for unknown ids."""
        with self._lock:
            if movie_id not in self._credits:
                movie = self.movies[movie_id]
                rng = self._movie_rng(movie_id, 1)
                spec = _REAL_BY_ID.get(movie_id)
                if spec is not None:
                    credit = _real_credits(rng, spec, self._actors, self._crew)
                else:
                    credit = _fake_credits(rng, movie["id"], self._actors, self._crew)
                self._credits[movie_id] = credit
            return self._credits[movie_id]

    def keywords_for(self, movie_id: int) -> dict[str, Any]:
        """``/movie/{id}/keywords`` body. Raises KeyError for unknown ids."""
        with self._lock:
            if movie_id not in self._keywords:
                genre_ids = [g["id"] for g in self.movies[movie_id]["genres"]]
                rng = self._movie_rng(movie_id, 2)
                self._keywords[movie_id] = _keywords_for(rng, movie_id, genre_ids)
            return self._keywords[movie_id]

    def _movie_rng(self, movie_id: int, stream: int) -> random.Random:
        return random.Random((self.seed * 10_000_019 + movie_id) * 4 + stream)

    def summary(self, movie_id: int) -> dict[str, Any]:
        """The list-item shape used by popular / discover / trending."""
        movie = self.movies[movie_id]
        if movie_id in self.malformed:
            return _malformed(_summary(movie))
        return _summary(movie)

    def popular_ids(self) -> list[int]:
        """All ids by popularity, most popular first (ties by id)."""
        return self._order("popularity.desc")

    def trending_ids(self, window: str) -> list[int]:
        """A deterministic subset ordered by a trend score: popularity boosted by recency and a
        per-window wobble; "day" is a shorter, noisier list than "week"."""
        if window not in ("day", "week"):
            raise ValueError("window must be day or week")
        key = f"trending.{window}"
        with self._lock:
            if key not in self._orders:
                rng = random.Random(f"{self.seed}:{window}")
                spread = 0.6 if window == "day" else 0.3
                scored = []
                for movie_id in sorted(self.movies):
                    movie = self.movies[movie_id]
                    released = movie["release_date"] or "1900-01-01"
                    age_days = (REFERENCE_DATE - date.fromisoformat(released)).days
                    recency = 1.0 + 8.0 * math.exp(-max(age_days, 0) / 365.0)
                    wobble = math.exp(rng.gauss(0.0, spread))
                    scored.append((-(movie["popularity"] * recency * wobble), movie_id))
                scored.sort()
                limit = min(len(scored), 500 if window == "day" else 1000)
                self._orders[key] = [movie_id for _, movie_id in scored[:limit]]
            return self._orders[key]

    def discover_ids(self, params: Mapping[str, str]) -> list[int]:
        """Ids matching ``/discover/movie`` filters, sorted. Raises ValueError on bad input.

        Supports ``sort_by`` (popularity, vote_average, vote_count, primary_release_date,
        release_date, title, original_title, revenue; ``.asc``/``.desc``), ``with_genres`` and
        ``without_genres`` ("," = AND, "|" = OR), ``primary_release_date.gte/lte``,
        ``release_date.gte/lte``, ``primary_release_year``, ``year``, ``vote_average.gte/lte``,
        ``vote_count.gte/lte``, ``with_original_language``, ``with_runtime.gte/lte``.
        """
        order = self._order(params.get("sort_by") or "popularity.desc")
        checks = list(_discover_checks(params))
        if not checks:
            return order
        return [mid for mid in order if all(check(self.movies[mid]) for check in checks)]

    def changed_ids(self, start: date, end: date) -> list[int]:
        """Distinct ids changed between the dates (inclusive, UTC), most recent first."""
        latest: dict[int, datetime] = {}
        with self._lock:
            for when, movie_id in self.changes:
                if start <= when.date() <= end and (
                    movie_id not in latest or when > latest[movie_id]
                ):
                    latest[movie_id] = when
        return [
            mid for mid, _ in sorted(latest.items(), key=lambda kv: (-kv[1].timestamp(), kv[0]))
        ]

    # --- dev mutations ---------------------------------------------------------------------------

    def touch(self, movie_id: int, now: datetime | None = None) -> dict[str, Any]:
        """Change a movie deterministically (popularity, votes, tagline) and log a change."""
        with self._lock:
            movie = self.movies[movie_id]
            self._originals.setdefault(movie_id, movie)
            revision = self.revisions.get(movie_id, 0) + 1
            self.revisions[movie_id] = revision
            base_tagline = self._originals[movie_id]["tagline"] or movie["title"]
            updated = dict(movie)
            updated["popularity"] = round(movie["popularity"] * 1.25 + 1.0, 3)
            updated["vote_count"] = movie["vote_count"] + 10
            updated["vote_average"] = round(min(10.0, movie["vote_average"] + 0.1), 3)
            updated["tagline"] = f"{base_tagline} (revision {revision})"
            self.movies[movie_id] = updated
            self.changes.append((now or datetime.now(UTC), movie_id))
            self._orders.clear()
            return updated

    def malform(self, movie_id: int) -> None:
        """Serve this movie as a malformed payload (detail and list items) until reset."""
        with self._lock:
            if movie_id not in self.movies:
                raise KeyError(movie_id)
            self.malformed.add(movie_id)

    def reset(self) -> None:
        """Undo every touch and malform; drop changes logged after generation."""
        with self._lock:
            self.movies.update(self._originals)
            self._originals.clear()
            self.revisions.clear()
            self.malformed.clear()
            del self.changes[self._initial_changes :]
            self._orders.clear()

    # --- internals -------------------------------------------------------------------------------

    def _order(self, sort_by: str) -> list[int]:
        field_name, _, direction = sort_by.partition(".")
        if field_name not in _SORT_FIELDS or direction not in ("asc", "desc"):
            raise ValueError(f"invalid sort_by: {sort_by!r}")
        with self._lock:
            if sort_by not in self._orders:
                key = _SORT_FIELDS[field_name]
                ids = sorted(self.movies)  # ties broken by id, ascending in both directions
                ids.sort(key=lambda mid: key(self.movies[mid]), reverse=direction == "desc")
                self._orders[sort_by] = ids
            return self._orders[sort_by]


def _malformed(body: Mapping[str, Any]) -> dict[str, Any]:
    broken = dict(body)
    broken["title"] = None
    broken["id"] = str(body["id"])
    broken["genres"] = "unknown"
    return broken


def _discover_checks(params: Mapping[str, str]) -> Iterable[Any]:
    def number(name: str) -> float:
        try:
            return float(params[name])
        except ValueError:
            raise ValueError(f"{name} must be a number") from None

    def day(name: str) -> str:
        try:
            return date.fromisoformat(params[name]).isoformat()
        except ValueError:
            raise ValueError(f"{name} must be YYYY-MM-DD") from None

    def genre_sets(name: str) -> tuple[bool, set[int]]:
        raw = params[name]
        any_of = "|" in raw
        try:
            ids = {int(part) for part in raw.replace("|", ",").split(",") if part.strip()}
        except ValueError:
            raise ValueError(f"{name} must be genre ids") from None
        return any_of, ids

    def genre_ids(m: Mapping[str, Any]) -> set[int]:
        return {g["id"] for g in m["genres"]}

    if params.get("with_genres"):
        any_of, wanted = genre_sets("with_genres")
        if any_of:
            yield lambda m: bool(genre_ids(m) & wanted)
        else:
            yield lambda m: wanted <= genre_ids(m)
    if params.get("without_genres"):
        _, unwanted = genre_sets("without_genres")
        yield lambda m: not genre_ids(m) & unwanted
    for prefix in ("primary_release_date", "release_date"):
        if params.get(f"{prefix}.gte"):
            lo = day(f"{prefix}.gte")
            yield lambda m, lo=lo: bool(m["release_date"]) and m["release_date"] >= lo
        if params.get(f"{prefix}.lte"):
            hi = day(f"{prefix}.lte")
            yield lambda m, hi=hi: bool(m["release_date"]) and m["release_date"] <= hi
    for name in ("primary_release_year", "year"):
        if params.get(name):
            year = str(int(number(name)))
            yield lambda m, year=year: (m["release_date"] or "").startswith(year)
    for name in ("vote_average", "vote_count"):
        if params.get(f"{name}.gte"):
            lo_n = number(f"{name}.gte")
            yield lambda m, name=name, lo_n=lo_n: m[name] >= lo_n
        if params.get(f"{name}.lte"):
            hi_n = number(f"{name}.lte")
            yield lambda m, name=name, hi_n=hi_n: m[name] <= hi_n
    if params.get("with_runtime.gte"):
        lo_r = number("with_runtime.gte")
        yield lambda m: (m["runtime"] or 0) >= lo_r
    if params.get("with_runtime.lte"):
        hi_r = number("with_runtime.lte")
        yield lambda m: (m["runtime"] or 0) <= hi_r
    if params.get("with_original_language"):
        languages = set(params["with_original_language"].split("|"))
        yield lambda m: m["original_language"] in languages


def _people(rng: random.Random, size: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Actor and crew pools; list order is fame order (index 0 is cast most often)."""
    count = min(len(_FIRST_F + _FIRST_M) * len(_LAST), max(300, size // 3))
    combos = rng.sample(range(len(_FIRST_F + _FIRST_M) * len(_LAST)), count)
    ids = rng.sample(range(2_000_000, 5_000_000), count)
    firsts = _FIRST_F + _FIRST_M
    people = []
    for combo, person_id in zip(combos, ids, strict=True):
        first_index, last_index = divmod(combo, len(_LAST))
        name = f"{firsts[first_index]} {_LAST[last_index]}"
        people.append(
            {
                "adult": False,
                "gender": 1 if first_index < len(_FIRST_F) else 2,
                "id": person_id,
                "name": name,
                "original_name": name,
                "popularity": round(0.6 + rng.paretovariate(1.5), 3),
                "profile_path": _image_path(rng) if rng.random() < 0.7 else None,
            }
        )
    split = int(count * 0.7)
    actors = [dict(p, known_for_department="Acting") for p in people[:split]]
    crew_people = people[split:]
    return actors, crew_people


def _ch(rng: random.Random, seq: tuple[str, ...] | list[str]) -> str:
    """``rng.choice`` without its rejection loop; generation calls this ~10^5 times."""
    return seq[int(rng.random() * len(seq))]


def _pick(rng: random.Random, pool: list[dict[str, Any]]) -> dict[str, Any]:
    return pool[int(len(pool) * rng.random() ** 2.2)]


def _credit_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(96):024x}"


def _cast_entry(
    rng: random.Random, person: Mapping[str, Any], character: str, order: int
) -> dict[str, Any]:
    return {
        **person,
        "cast_id": order + 1,
        "character": character,
        "credit_id": _credit_id(rng),
        "order": order,
    }


def _crew_entry(
    rng: random.Random, person: Mapping[str, Any], job: str, department: str
) -> dict[str, Any]:
    return {
        **person,
        "known_for_department": department,
        "credit_id": _credit_id(rng),
        "department": department,
        "job": job,
    }


def _make_title(rng: random.Random) -> str:
    pattern = rng.randrange(7)
    if pattern == 0:
        return f"The {_ch(rng, _ADJ)} {_ch(rng, _NOUN)}"
    if pattern == 1:
        return f"{_ch(rng, _TIME)} in {_ch(rng, _PLACE)}"
    if pattern == 2:
        return f"The {_ch(rng, _NOUN)} of {_ch(rng, _PLACE)}"
    if pattern == 3:
        return f"{_ch(rng, _ADJ)} {_ch(rng, _NOUN)}"
    if pattern == 4:
        return f"{_ch(rng, _FIRST_F + _FIRST_M)}'s {_ch(rng, _NOUN)}"
    if pattern == 5:
        return f"{_ch(rng, _NOUN)} of the {_ch(rng, _ADJ)} {_ch(rng, _NOUN)}"
    return f"{_ch(rng, _ADJ)} {_ch(rng, _NOUN)} {_ch(rng, ('II', 'III', '2', ''))}".strip()


def _base_fields(
    rng: random.Random,
    *,
    movie_id: int,
    title: str,
    release: date,
    genre_ids: Iterable[int],
    popularity: float,
    vote_count: int,
    vote_average: float,
    runtime: int,
    imdb_id: str,
    tagline: str,
    overview: str,
    companies: list[dict[str, Any]],
    language: tuple[str, str, str, str, str, int],
) -> dict[str, Any]:
    code, english, native, country, country_name, _ = language
    has_budget = rng.random() < 0.45
    budget = rng.randrange(1, 200) * 500_000 if has_budget else 0
    revenue = int(budget * rng.lognormvariate(0.7, 0.9)) if has_budget and rng.random() < 0.8 else 0
    return {
        "adult": False,
        "backdrop_path": _image_path(rng) if rng.random() < 0.9 else None,
        "belongs_to_collection": None,
        "budget": budget,
        "genres": [{"id": gid, "name": _GENRE_NAME[gid]} for gid in genre_ids],
        "homepage": f"https://www.example.com/movies/{movie_id}" if rng.random() < 0.25 else "",
        "id": movie_id,
        "imdb_id": imdb_id,
        "origin_country": [country],
        "original_language": code,
        "original_title": title,
        "overview": overview,
        "popularity": popularity,
        "poster_path": _image_path(rng) if rng.random() < 0.95 else None,
        "production_companies": rng.sample(companies, rng.randint(1, 3)),
        "production_countries": [{"iso_3166_1": country, "name": country_name}],
        "release_date": release.isoformat(),
        "revenue": revenue,
        "runtime": runtime,
        "spoken_languages": [{"english_name": english, "iso_639_1": code, "name": native}],
        "status": "Released",
        "tagline": tagline,
        "title": title,
        "video": False,
        "vote_average": vote_average,
        "vote_count": vote_count,
    }


def _keywords_for(rng: random.Random, movie_id: int, genre_ids: Iterable[int]) -> dict[str, Any]:
    names: list[str] = []
    for gid in genre_ids:
        names.extend(rng.sample(_GENRE_KEYWORDS[gid], min(2, len(_GENRE_KEYWORDS[gid]))))
    if rng.random() < 0.5:
        names.append(rng.choice(_COMMON_KEYWORDS))
    unique = list(dict.fromkeys(names))
    return {"id": movie_id, "keywords": [{"id": _KEYWORD_IDS[n], "name": n} for n in unique]}


def _crew_for(
    rng: random.Random, crew_people: list[dict[str, Any]], director: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    crew = []
    for job, department in _CREW_JOBS:
        person = director if director and job == "Director" else _pick(rng, crew_people)
        crew.append(_crew_entry(rng, person, job, department))
    return crew


def _fake_movie(
    rng: random.Random, movie_id: int, companies: list[dict[str, Any]]
) -> dict[str, Any]:
    year = 1950 + int(76 * rng.random() ** 0.55)
    release = date(year, 1, 1) + timedelta(days=rng.randrange(365))
    release = min(release, REFERENCE_DATE)
    genre_ids = list(
        dict.fromkeys(rng.choices([g for g, _ in GENRES], _GENRE_WEIGHTS, k=rng.randint(1, 3)))
    )
    age_years = (REFERENCE_DATE - release).days / 365.0
    popularity = round(
        min(3000.0, 0.6 * rng.paretovariate(1.3) * (1 + 4 * math.exp(-age_years / 4))), 3
    )
    vote_count = int(popularity * rng.uniform(3, 60) * (1 + min(age_years, 30) / 10))
    vote_average = round(min(9.3, max(2.0, rng.gauss(6.4, 0.9))), 3) if vote_count else 0.0
    hero = _ch(rng, _HERO)
    overview = _OVERVIEW[genre_ids[0]][0].format(
        hero=hero, hero_c=hero[0].upper() + hero[1:], place=_ch(rng, _PLACE), goal=_ch(rng, _GOAL)
    )
    runtime = int(min(200, max(70, rng.gauss(86 if 16 in genre_ids else 108, 16))))
    language = rng.choices(_LANGUAGES, [lang[5] for lang in _LANGUAGES])[0]
    movie = _base_fields(
        rng,
        movie_id=movie_id,
        title=_make_title(rng),
        release=release,
        genre_ids=genre_ids,
        popularity=popularity,
        vote_count=vote_count,
        vote_average=vote_average,
        runtime=runtime,
        imdb_id=f"tt{rng.randrange(100_000, 9_999_999):07d}",
        tagline=_ch(rng, _TAGLINES) if rng.random() < 0.6 else "",
        overview=overview,
        companies=companies,
        language=language,
    )
    return movie


def _fake_credits(
    rng: random.Random, movie_id: int, actors: list[dict[str, Any]], crew: list[dict[str, Any]]
) -> dict[str, Any]:
    cast: list[dict[str, Any]] = []
    seen: set[int] = set()
    for _ in range(rng.randint(5, 10)):
        person = _pick(rng, actors)
        if person["id"] in seen:
            continue
        seen.add(person["id"])
        first = _ch(rng, _FIRST_F if person["gender"] == 1 else _FIRST_M)
        style = rng.random()
        if style < 0.4:
            character = first
        elif style < 0.9:
            character = f"{first} {_ch(rng, _LAST)}"
        else:
            character = f"Detective {_ch(rng, _LAST)}"
        cast.append(_cast_entry(rng, person, character, len(cast)))
    return {"id": movie_id, "cast": cast, "crew": _crew_for(rng, crew)}


def _real_movie(
    rng: random.Random, spec: Mapping[str, Any], companies: list[dict[str, Any]]
) -> dict[str, Any]:
    return _base_fields(
        rng,
        movie_id=spec["id"],
        title=spec["title"],
        release=date.fromisoformat(spec["date"]),
        genre_ids=spec["genres"],
        popularity=round(200 + rng.random() * 400, 3),  # near the top, for demos
        vote_count=rng.randrange(15_000, 40_000),
        vote_average=round(rng.uniform(8.0, 8.7), 3),
        runtime=spec["runtime"],
        imdb_id=spec["imdb_id"],
        tagline=spec["tagline"],
        overview=spec["overview"],
        companies=companies,
        language=_LANGUAGES[0],
    )


def _real_credits(
    rng: random.Random,
    spec: Mapping[str, Any],
    actors: list[dict[str, Any]],
    crew: list[dict[str, Any]],
) -> dict[str, Any]:
    cast = []
    for order, (person_id, name, character) in enumerate(spec["cast"]):
        person = {
            "adult": False,
            "gender": 2,
            "id": person_id,
            "known_for_department": "Acting",
            "name": name,
            "original_name": name,
            "popularity": round(20 + rng.random() * 40, 3),
            "profile_path": _image_path(rng),
        }
        cast.append(_cast_entry(rng, person, character, order))
    for order in range(len(cast), len(cast) + 3):
        person = _pick(rng, actors)
        character = f"{_ch(rng, _FIRST_M)} {_ch(rng, _LAST)}"
        cast.append(_cast_entry(rng, person, character, order))
    director_id, director_name = spec["director"]
    director = {
        "adult": False,
        "gender": 2,
        "id": director_id,
        "name": director_name,
        "original_name": director_name,
        "popularity": round(10 + rng.random() * 20, 3),
        "profile_path": _image_path(rng),
    }
    return {"id": spec["id"], "cast": cast, "crew": _crew_for(rng, crew, director)}


def _change_log(seed: int, ids: list[int], today: date) -> list[tuple[datetime, int]]:
    """About 0.5% of the catalogue changes on each of the last 30 days (ids from the seed)."""
    rng = random.Random(f"{seed}:changes")
    per_day = max(1, len(ids) // 200)
    log = []
    for days_ago in range(30, 0, -1):
        day = today - timedelta(days=days_ago)
        for movie_id in rng.sample(ids, min(per_day, len(ids))):
            moment = time(rng.randrange(24), rng.randrange(60), rng.randrange(60))
            log.append((datetime.combine(day, moment, tzinfo=UTC), movie_id))
    return log
