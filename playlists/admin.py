from django.contrib import admin

from playlists.models import Playlist, PlaylistItem


class PlaylistItemInline(admin.TabularInline):
    model = PlaylistItem
    raw_id_fields = ("movie",)
    extra = 0
    ordering = ("position",)


@admin.register(Playlist)
class PlaylistAdmin(admin.ModelAdmin):
    list_display = ("title", "owner", "visibility", "updated_at")
    list_filter = ("visibility",)
    search_fields = ("title", "owner__username__iexact")
    raw_id_fields = ("owner",)
    list_select_related = ("owner",)
    inlines = (PlaylistItemInline,)
    show_full_result_count = False


@admin.register(PlaylistItem)
class PlaylistItemAdmin(admin.ModelAdmin):
    list_display = ("playlist", "position", "movie", "added_at")
    search_fields = ("playlist__title", "movie__title")
    raw_id_fields = ("playlist", "movie")
    list_select_related = ("playlist", "movie")
    show_full_result_count = False
