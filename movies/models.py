from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models.functions import Lower, Upper


class Genre(models.Model):
    """A TMDb genre. TMDb's names are canonical; genres without a TMDb id come from imports."""

    tmdb_id = models.PositiveIntegerField(unique=True, null=True, blank=True)
    name = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Keyword(models.Model):
    tmdb_id = models.PositiveIntegerField(unique=True, null=True, blank=True)
    name = models.CharField(max_length=255)

    class Meta:
        indexes = [models.Index(fields=["name"], name="keyword_name_idx")]

    def __str__(self) -> str:
        return self.name


class Person(models.Model):
    tmdb_id = models.PositiveIntegerField(unique=True, null=True, blank=True)
    name = models.CharField(max_length=255)
    profile_path = models.CharField(max_length=255, blank=True)

    class Meta:
        indexes = [models.Index(fields=["name"], name="person_name_idx")]

    def __str__(self) -> str:
        return self.name


class Movie(models.Model):
    tmdb_id = models.PositiveIntegerField(unique=True, null=True, blank=True)
    imdb_id = models.CharField(max_length=16, blank=True)
    title = models.CharField(max_length=500)
    original_title = models.CharField(max_length=500, blank=True)
    overview = models.TextField(blank=True)
    tagline = models.CharField(max_length=500, blank=True)
    release_date = models.DateField(null=True, blank=True)
    # Kept separately from release_date: imports often know the year only.
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    runtime = models.PositiveSmallIntegerField(null=True, blank=True)
    original_language = models.CharField(max_length=16, blank=True)
    status = models.CharField(max_length=32, blank=True)
    poster_path = models.CharField(max_length=255, blank=True)
    backdrop_path = models.CharField(max_length=255, blank=True)
    popularity = models.FloatField(default=0.0)
    vote_average = models.FloatField(default=0.0)
    vote_count = models.PositiveIntegerField(default=0)
    genres = models.ManyToManyField(Genre, blank=True, related_name="movies")
    keywords = models.ManyToManyField(Keyword, blank=True, related_name="movies")
    # Denormalised so full-text search can cover keywords from a generated column.
    keywords_text = models.TextField(blank=True, default="")
    # Community rating, maintained by ratings.services with F() updates, never recomputed on read.
    rating_count = models.PositiveIntegerField(default=0)
    rating_sum = models.DecimalField(max_digits=12, decimal_places=1, default=0)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    # SHA-256 of the last TMDb payload stored; an identical payload is counted "unchanged".
    content_hash = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    search_vector = models.GeneratedField(
        expression=(
            SearchVector("title", weight="A", config="english")
            + SearchVector("original_title", weight="A", config="simple")
            + SearchVector("keywords_text", weight="B", config="english")
            + SearchVector("overview", weight="C", config="english")
        ),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        indexes = [
            GinIndex(fields=["search_vector"], name="movie_search_gin"),
            GinIndex(OpClass(Lower("title"), name="gin_trgm_ops"), name="movie_title_trgm"),
            # Exact-title search matches (``title__iexact``), ranked first by relevance.
            models.Index(Upper("title"), name="movie_title_upper"),
            models.Index(Upper("original_title"), name="movie_original_title_upper"),
            models.Index(fields=["-popularity", "id"], name="movie_popularity_idx"),
            models.Index(fields=["-release_date", "id"], name="movie_release_idx"),
            models.Index(fields=["title", "id"], name="movie_title_idx"),
            models.Index(fields=["year"], name="movie_year_idx"),
            models.Index(fields=["original_language"], name="movie_language_idx"),
            models.Index(fields=["last_synced_at"], name="movie_synced_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(vote_average__gte=0) & models.Q(vote_average__lte=10),
                name="movie_vote_average_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.year})" if self.year else self.title

    @property
    def community_average(self) -> float | None:
        return round(float(self.rating_sum) / self.rating_count, 2) if self.rating_count else None


class Credit(models.Model):
    class Kind(models.TextChoices):
        CAST = "cast", "Cast"
        CREW = "crew", "Crew"

    movie = models.ForeignKey(Movie, on_delete=models.CASCADE, related_name="credits")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="credits")
    kind = models.CharField(max_length=4, choices=Kind.choices)
    character = models.CharField(max_length=500, blank=True)
    job = models.CharField(max_length=128, blank=True)
    department = models.CharField(max_length=128, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("movie", "kind", "order", "id")
        indexes = [models.Index(fields=["movie", "kind", "order"], name="credit_movie_order_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["movie", "person", "kind", "character", "job"], name="credit_unique_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} in {self.movie}"


class TrendingEntry(models.Model):
    """TMDb's trending list as last synced: a signal the recommendations blend in."""

    class Window(models.TextChoices):
        DAY = "day", "Day"
        WEEK = "week", "Week"

    window = models.CharField(max_length=4, choices=Window.choices)
    movie = models.ForeignKey(Movie, on_delete=models.CASCADE, related_name="trending_entries")
    rank = models.PositiveIntegerField()
    synced_at = models.DateTimeField()

    class Meta:
        ordering = ("window", "rank")
        constraints = [
            models.UniqueConstraint(fields=["window", "movie"], name="trendingentry_unique_movie"),
            models.UniqueConstraint(fields=["window", "rank"], name="trendingentry_unique_rank"),
        ]

    def __str__(self) -> str:
        return f"{self.window} #{self.rank}: {self.movie_id}"


class SyncRun(models.Model):
    """One run of a TMDb sync job, for operators: what it did and what went wrong."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIAL = "partial", "Partial"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (another run held the lock)"

    kind = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    params = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    error_samples = models.JSONField(default=list, blank=True)
    # For incremental runs: the upper bound of the window this run covered.
    cursor = models.DateTimeField(null=True, blank=True)
    # The Celery task that started the run: a redelivered task resumes its run, not a new one.
    task_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    # Fan-out bookkeeping: chunks planned and the indexes already counted, so a chunk that is
    # redelivered after its commit is not counted twice and the last chunk closes the run.
    chunks_total = models.PositiveIntegerField(default=0)
    # The TMDb ids the run planned to fetch, in order (the trending rank for trending runs).
    tmdb_ids = models.JSONField(default=list, blank=True)
    chunks_done = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ("-started_at",)
        indexes = [models.Index(fields=["kind", "status", "-started_at"], name="syncrun_kind_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.status} @ {self.started_at:%Y-%m-%d %H:%M}"
