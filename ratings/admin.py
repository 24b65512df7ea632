from django.contrib import admin

from ratings.models import Favorite, NotInterested, Rating, WatchlistEntry


class _UserMovieAdmin(admin.ModelAdmin):
    """A (user, movie) row: raw id inputs and one joined query per page, as both tables are
    large; no full count of them either."""

    list_display = ("user", "movie", "added_at")
    search_fields = ("user__username__iexact", "movie__title")
    raw_id_fields = ("user", "movie")
    list_select_related = ("user", "movie")
    show_full_result_count = False


@admin.register(Rating)
class RatingAdmin(_UserMovieAdmin):
    list_display = ("user", "movie", "score", "updated_at")
    list_filter = ("score",)
    date_hierarchy = "updated_at"


@admin.register(WatchlistEntry)
class WatchlistEntryAdmin(_UserMovieAdmin):
    pass


@admin.register(Favorite)
class FavoriteAdmin(_UserMovieAdmin):
    pass


@admin.register(NotInterested)
class NotInterestedAdmin(_UserMovieAdmin):
    pass
