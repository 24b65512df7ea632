"""Per-request loaders for playlist edges: item counts, item pages, membership tests."""

from __future__ import annotations

from django.db.models import QuerySet

from movierec.graphql.dataloaders import BaseLoader
from movierec.graphql.nested import PageByParentLoader
from movierec.graphql.pagination import OrderKey
from playlists import selectors

#: Items in playlist order.
ITEM_ORDER = (OrderKey("position"),)


class ItemCountByPlaylistLoader(BaseLoader[int, int]):
    """``Playlist.itemCount`` and ``items.totalCount``: one grouped COUNT per page."""

    context_key = "playlists.item_count"

    def batch_load(self, keys: list[int]) -> list[int]:
        counts = selectors.item_counts_for_playlists(playlist_ids=keys)
        return [counts.get(key, 0) for key in keys]


class ItemPageByPlaylistLoader(PageByParentLoader):
    """``Playlist.items(first, after)`` for a page of playlists in one windowed query."""

    context_key = "playlists.item_page"
    parent_field = "playlist_id"
    order = ITEM_ORDER

    def children(self) -> QuerySet:
        return selectors.playlist_items()


class ContainsMovieLoader(BaseLoader[tuple[int, int], bool]):
    """``Playlist.containsMovie``: one query for every (playlist, movie) pair asked."""

    context_key = "playlists.contains_movie"

    def batch_load(self, keys: list[tuple[int, int]]) -> list[bool]:
        present = selectors.playlist_movie_pairs(
            playlist_ids={p for p, _ in keys}, movie_ids={m for _, m in keys}
        )
        return [key in present for key in keys]
