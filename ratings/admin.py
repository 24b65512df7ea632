from django.contrib import admin

from ratings.models import Favorite, NotInterested, Rating, WatchlistEntry


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    list_display = ("user", "movie", "score", "updated_at")
    list_filter = ("score",)
    search_fields = ("user__username__iexact", "movie__title")
    raw_id_fields = ("user", "movie")
    list_select_related = ("user", "movie")
    date_hierarchy = "updated_at"
    show_full_result_count = False


@admin.register(WatchlistEntry)
class WatchlistEntryAdmin(admin.ModelAdmin):
    list_display = ("user", "movie", "added_at")
    search_fields = ("user__username__iexact", "movie__title")
    raw_id_fields = ("user", "movie")
    list_select_related = ("user", "movie")
    show_full_result_count = False


@admin.register(Favorite)
class FavoriteAdmin(admin.ModelAdmin):
    list_display = ("user", "movie", "added_at")
    search_fields = ("user__username__iexact", "movie__title")
    raw_id_fields = ("user", "movie")
    list_select_related = ("user", "movie")
    show_full_result_count = False


@admin.register(NotInterested)
class NotInterestedAdmin(admin.ModelAdmin):
    list_display = ("user", "movie", "added_at")
    search_fields = ("user__username__iexact", "movie__title")
    raw_id_fields = ("user", "movie")
    list_select_related = ("user", "movie")
    show_full_result_count = False
