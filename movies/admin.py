from typing import Any

from django.contrib import admin

from movies.models import Credit, Genre, Keyword, Movie, Person, SyncRun, TrendingEntry


@admin.register(Genre)
class GenreAdmin(admin.ModelAdmin):
    list_display = ("name", "tmdb_id")
    search_fields = ("name",)


@admin.register(Keyword)
class KeywordAdmin(admin.ModelAdmin):
    list_display = ("name", "tmdb_id")
    search_fields = ("name",)
    show_full_result_count = False


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ("name", "tmdb_id")
    search_fields = ("name", "=tmdb_id")
    show_full_result_count = False


@admin.register(Credit)
class CreditAdmin(admin.ModelAdmin):
    list_display = ("person", "movie", "kind", "character", "job", "order")
    list_filter = ("kind",)
    search_fields = ("person__name", "movie__title", "=movie__tmdb_id")
    raw_id_fields = ("movie", "person")
    list_select_related = ("movie", "person")
    show_full_result_count = False


class CreditInline(admin.TabularInline):
    model = Credit
    raw_id_fields = ("person",)
    extra = 0


@admin.register(Movie)
class MovieAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "year",
        "tmdb_id",
        "popularity",
        "vote_average",
        "rating_count",
        "last_synced_at",
    )
    list_filter = ("genres", "original_language", "status")
    search_fields = ("title", "original_title", "=tmdb_id", "=imdb_id")
    raw_id_fields = ("keywords",)
    filter_horizontal = ("genres",)
    readonly_fields = (
        "rating_count",
        "rating_sum",
        "created_at",
        "updated_at",
        "last_synced_at",
        "content_hash",
    )
    exclude = ("search_vector",)
    inlines = (CreditInline,)
    show_full_result_count = False


@admin.register(TrendingEntry)
class TrendingEntryAdmin(admin.ModelAdmin):
    list_display = ("window", "rank", "movie", "synced_at")
    list_filter = ("window",)
    raw_id_fields = ("movie",)
    list_select_related = ("movie",)


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    """Read-only history of sync runs; schedules are edited under "Periodic tasks"."""

    list_display = (
        "kind",
        "status",
        "started_at",
        "duration",
        "progress",
        "created",
        "updated",
        "unchanged",
        "failed",
    )
    list_filter = ("kind", "status")
    search_fields = ("=task_id",)
    date_hierarchy = "started_at"
    readonly_fields = [f.name for f in SyncRun._meta.fields]
    show_full_result_count = False

    @admin.display(description="duration")
    def duration(self, run: SyncRun) -> str:
        if run.finished_at is None:
            return "-"
        return f"{(run.finished_at - run.started_at).total_seconds():.1f}s"

    @admin.display(description="chunks")
    def progress(self, run: SyncRun) -> str:
        return f"{len(run.chunks_done)}/{run.chunks_total}" if run.chunks_total else "-"

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False
