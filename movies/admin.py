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
    readonly_fields = ("rating_count", "rating_sum", "created_at", "updated_at", "last_synced_at")
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
    list_display = (
        "kind",
        "status",
        "started_at",
        "finished_at",
        "created",
        "updated",
        "unchanged",
        "failed",
    )
    list_filter = ("kind", "status")
    readonly_fields = [f.name for f in SyncRun._meta.fields]
    show_full_result_count = False
