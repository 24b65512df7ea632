"""Deterministic interaction data with a *planted* taste structure.

Why: tests and benchmarks need data where we know the right answer (a model that finds the
taste clusters must beat popularity), and the Django side needs demo users whose ratings
have real structure on top of the real catalogue (pass ``item_genres``).

Model of the world: genres are grouped into ``n_clusters`` taste clusters; each user belongs
to one or two clusters; items have a long-tailed popularity. A user's interactions are drawn
mostly from their clusters' items (popular ones more often) and rated high there (4-5 with
noise), and rated low elsewhere, so popularity is a reasonable but beatable baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .matrix import KIND_FAVORITE, KIND_PLAYLIST, KIND_RATING, KIND_WATCHLIST, Interactions

DEFAULT_NOW = 1_700_000_000  # fixed "now" so the data never depends on the wall clock
_TWO_YEARS = 2 * 365 * 86_400


@dataclass
class SyntheticData:
    """Generated rows plus the planted truth (clusters are indices 0..n_clusters-1).

    User ids are 0..n_users-1 and item ids are 0..n_items-1 (positions in the catalogue the
    caller passed ``item_genres`` for).
    """

    interactions: Interactions
    user_clusters: np.ndarray  # (n_users, 2) int64; second column -1 for single-cluster users
    item_clusters: np.ndarray  # (n_items,) int64
    item_genres: np.ndarray  # (n_items,) int64 genre code
    item_popularity: np.ndarray  # (n_items,) float64 sampling weight
    now: int

    def user_likes_item(self, user_ids: np.ndarray, item_ids: np.ndarray) -> np.ndarray:
        """Planted truth: is the item in one of the user's clusters."""
        clusters = self.item_clusters[np.asarray(item_ids)]
        uc = self.user_clusters[np.asarray(user_ids)]
        return (uc[:, 0] == clusters) | (uc[:, 1] == clusters)


def generate(
    n_users: int,
    n_items: int,
    n_ratings: int,
    seed: int = 0,
    item_genres: np.ndarray | None = None,
    *,
    n_clusters: int = 8,
    n_genres: int = 19,
    in_cluster: float = 0.8,
    two_cluster_share: float = 0.35,
    popularity_exponent: float = 0.9,
    kind_shares: tuple[float, float, float, float] = (0.85, 0.05, 0.06, 0.04),
    noise: float = 0.6,
    mainstream: float = 1.7,
    now: int = DEFAULT_NOW,
) -> SyntheticData:
    """Generate ``n_ratings`` unique (user, item) interactions, deterministically per seed.

    ``item_genres``: optional int genre code per item (the real catalogue's primary genre);
    genre ``g`` belongs to taste cluster ``g % n_clusters``. ``kind_shares`` are the shares of
    ratings, favorites, watchlist and playlist entries. ``mainstream`` lifts out-of-taste
    ratings of the most popular items (0 = pure taste clusters).
    """
    if n_ratings > n_users * n_items // 2:
        raise ValueError("n_ratings too large for a sparse matrix of this size")
    rng = np.random.default_rng(seed)

    if item_genres is None:
        item_genres = rng.integers(0, n_genres, size=n_items)
    item_genres = np.asarray(item_genres, dtype=np.int64)
    if item_genres.shape != (n_items,):
        raise ValueError("item_genres must have one entry per item")
    item_clusters = item_genres % n_clusters

    # Long-tailed popularity: Zipf-like weights assigned to items in random order.
    popularity = 1.0 / np.arange(1, n_items + 1) ** popularity_exponent
    popularity = popularity[rng.permutation(n_items)]

    user_clusters = np.full((n_users, 2), -1, dtype=np.int64)
    user_clusters[:, 0] = rng.integers(0, n_clusters, size=n_users)
    two = rng.random(n_users) < two_cluster_share
    offset = rng.integers(1, n_clusters, size=n_users)
    user_clusters[two, 1] = (user_clusters[two, 0] + offset[two]) % n_clusters

    activity = rng.lognormal(0.0, 0.8, size=n_users)
    user_p = activity / activity.sum()
    global_cdf = np.cumsum(popularity) / popularity.sum()
    cluster_members = [np.flatnonzero(item_clusters == c) for c in range(n_clusters)]
    cluster_cdfs = [np.cumsum(popularity[m]) / popularity[m].sum() for m in cluster_members]

    def draw(size: int) -> np.ndarray:
        users = rng.choice(n_users, size=size, p=user_p)
        picks_second = (rng.random(size) < 0.5) & (user_clusters[users, 1] >= 0)
        target = np.where(picks_second, user_clusters[users, 1], user_clusters[users, 0])
        from_cluster = rng.random(size) < in_cluster
        u01 = rng.random(size)
        items = np.searchsorted(global_cdf, u01)
        for cluster, members in enumerate(cluster_members):
            rows = from_cluster & (target == cluster)
            if members.size:
                pos = np.searchsorted(cluster_cdfs[cluster], u01[rows])
                items[rows] = members[np.minimum(pos, members.size - 1)]
        return users * np.int64(n_items) + np.minimum(items, n_items - 1)

    # Popular in-cluster pairs repeat; draw in rounds until enough distinct pairs exist.
    keys = np.empty(0, dtype=np.int64)
    for _ in range(50):
        missing = n_ratings - keys.size
        if missing <= 0:
            break
        keys = np.concatenate([keys, draw(int(missing * 1.3) + 1000)])
        _, first = np.unique(keys, return_index=True)  # first occurrence wins: deterministic
        keys = keys[np.sort(first)]
    if keys.size < n_ratings:
        raise ValueError("could not draw enough distinct pairs; lower n_ratings")
    keys = np.sort(keys[:n_ratings])
    users, items = keys // n_items, keys % n_items

    liked = (user_clusters[users, 0] == item_clusters[items]) | (
        user_clusters[users, 1] == item_clusters[items]
    )
    user_bias = rng.normal(0.0, 0.3, size=n_users)
    # Blockbusters are liked outside their taste cluster too, which keeps popularity a fair
    # baseline: out-of-taste ratings rise from 2.3 towards 2.3 + mainstream at the very top.
    percentile = np.argsort(np.argsort(popularity)) / max(n_items - 1, 1)
    out_of_taste = 2.3 + mainstream * percentile[items] ** 8
    raw = np.where(liked, 4.3, out_of_taste) + user_bias[users]
    raw += rng.normal(0.0, noise, size=n_ratings)
    scores = np.clip(np.round(raw * 2.0) / 2.0, 0.5, 5.0).astype(np.float32)

    kinds = rng.choice(
        np.array([KIND_RATING, KIND_FAVORITE, KIND_WATCHLIST, KIND_PLAYLIST], dtype=np.int8),
        size=n_ratings,
        p=np.asarray(kind_shares) / np.sum(kind_shares),
    )
    # Favorites and playlist entries are things people liked: keep them in-taste.
    kinds[(kinds == KIND_FAVORITE) & ~liked] = KIND_RATING
    kinds[(kinds == KIND_PLAYLIST) & ~liked] = KIND_RATING
    scores[kinds != KIND_RATING] = 0.0
    timestamps = now - rng.integers(0, _TWO_YEARS, size=n_ratings)

    return SyntheticData(
        interactions=Interactions(users, items, scores, kinds, timestamps),
        user_clusters=user_clusters,
        item_clusters=item_clusters,
        item_genres=item_genres,
        item_popularity=popularity,
        now=now,
    )
