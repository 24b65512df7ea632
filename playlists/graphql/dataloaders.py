"""Per-request loaders for playlist edges: item counts, item pages, membership tests."""

from __future__ import annotations

from movierec.graphql.dataloaders import BaseLoader
from movierec.graphql.nested import paginate_per_parent
from movierec.graphql.pagination import OrderKey, Page
from playlists import selectors

#: Items in playlist order.
ITEM_ORDER = (OrderKey("position"),)


class ItemCountByPlaylistLoader(BaseLoader[int, int]):
    """``Playlist.itemCount`` and ``items.totalCount``: one grouped COUNT per page."""

    context_key = "playlists.item_count"

    def batch_load(self, keys: list[int]) -> list[int]:
        counts = selectors.item_counts_for_playlists(playlist_ids=keys)
        return [counts.get(key, 0) for key in keys]


class ItemPageByPlaylistLoader(BaseLoader[tuple[int, int | None, str | None], Page]):
    """``Playlist.items(first, after)`` for a page of playlists in one windowed query.

    Keys are ``(playlist_id, first, after)``; one query per distinct ``(first, after)``.
    """

    context_key = "playlists.item_page"

    def batch_load(self, keys: list[tuple[int, int | None, str | None]]) -> list[Page]:
        pages: dict[tuple[int, int | None, str | None], Page] = {}
        for first, after in {(first, after) for _, first, after in keys}:
            ids = {pid for pid, f, a in keys if (f, a) == (first, after)}
            per_playlist = paginate_per_parent(
                selectors.playlist_items(),
                parent_field="playlist_id",
                parent_ids=ids,
                order=ITEM_ORDER,
                first=first,
                after=after,
            )
            for playlist_id, page in per_playlist.items():
                pages[(playlist_id, first, after)] = page
        return [pages[key] for key in keys]


class ContainsMovieLoader(BaseLoader[tuple[int, int], bool]):
    """``Playlist.containsMovie``: one query for every (playlist, movie) pair asked."""

    context_key = "playlists.contains_movie"

    def batch_load(self, keys: list[tuple[int, int]]) -> list[bool]:
        present = selectors.playlist_movie_pairs(
            playlist_ids={p for p, _ in keys}, movie_ids={m for _, m in keys}
        )
        return [key in present for key in keys]
