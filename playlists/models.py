from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models.functions import Lower


class Playlist(models.Model):
    class Visibility(models.TextChoices):
        PUBLIC = "PUBLIC", "Public"
        UNLISTED = "UNLISTED", "Unlisted (readable by id)"
        PRIVATE = "PRIVATE", "Private"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="playlists"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    visibility = models.CharField(
        max_length=8, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["owner", "-updated_at", "id"], name="playlist_owner_recent_idx"),
            models.Index(
                fields=["visibility", "-updated_at", "id"], name="playlist_visible_recent_idx"
            ),
            GinIndex(OpClass(Lower("title"), name="gin_trgm_ops"), name="playlist_title_trgm"),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(title=""), name="playlist_title_not_empty"),
        ]

    def __str__(self) -> str:
        return self.title


class PlaylistItem(models.Model):
    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="items")
    movie = models.ForeignKey(
        "movies.Movie", on_delete=models.CASCADE, related_name="playlist_items"
    )
    # 0-based and dense within a playlist; deferred uniqueness lets a move shift a range in one go.
    position = models.PositiveIntegerField()
    note = models.CharField(max_length=500, blank=True, default="")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("playlist", "position")
        constraints = [
            models.UniqueConstraint(fields=["playlist", "movie"], name="playlistitem_unique_movie"),
            models.UniqueConstraint(
                fields=["playlist", "position"],
                name="playlistitem_unique_position",
                deferrable=models.Deferrable.DEFERRED,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.playlist_id}#{self.position}: {self.movie_id}"
