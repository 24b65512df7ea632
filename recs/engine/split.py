"""Per-user random holdout of rated items, for offline evaluation and tuning.

Only ratings are held out because only ratings say whether the user liked the film
(relevance = held-out score >= ``RELEVANCE_THRESHOLD``). Every other interaction on a held-out
(user, item) pair, e.g. a favorite of the same film, is removed from train too, otherwise the
answer leaks into the training data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .matrix import KIND_RATING, IdIndex, Interactions, distinct_counts, isin_sorted

RELEVANCE_THRESHOLD = 4.0


@dataclass
class Split:
    """Train rows plus held-out ratings (one row per held-out (user, item) pair)."""

    train: Interactions
    test_user_ids: np.ndarray
    test_item_ids: np.ndarray
    test_scores: np.ndarray

    def relevant(self, threshold: float = RELEVANCE_THRESHOLD) -> tuple[np.ndarray, np.ndarray]:
        """(user_ids, item_ids) of held-out ratings that count as relevant."""
        mask = self.test_scores >= threshold
        return self.test_user_ids[mask], self.test_item_ids[mask]

    @property
    def n_test(self) -> int:
        return int(self.test_user_ids.size)


def _pair_keys(user_ids: np.ndarray, item_ids: np.ndarray) -> np.ndarray:
    """One int64 key per (user, item), comparable across row subsets of the same data."""
    users = IdIndex.from_values(user_ids)
    items = IdIndex.from_values(item_ids)
    return users.to_index(user_ids) * np.int64(len(items)) + items.to_index(item_ids)


def holdout_split(
    data: Interactions, fraction: float = 0.2, seed: int = 42, max_users: int | None = None
) -> Split:
    """Hold out ``round(fraction * n_rated)`` random rated items per user (seeded).

    Each user keeps at least one rated item in train, so users with a single rating are
    never tested. With ``max_users``, only a seeded sample of that many users is tested (the
    others keep every rating in train): on big data the figures are as stable with 10,000
    test users as with all of them, the evaluation costs a fraction, and the train part is
    almost the whole data. Only the sampled users' rows are then sorted and shuffled, so a
    sampled split of 25M rows costs a few passes over the data instead of six sorts of it.
    Apply again to ``split.train`` to carve a validation split for tuning (see
    ``validation_split``).
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError("fraction must be in (0, 1)")
    rng = np.random.default_rng(seed)
    sample = _user_sample(data, fraction, max_users, rng) if max_users is not None else None
    if sample is None:
        held, in_test = _holdout(data, fraction, rng)
    else:
        rows = np.flatnonzero(sample)
        held_sub, in_test_sub = _holdout(data.subset(rows), fraction, rng)
        held = rows[held_sub]
        in_test = np.zeros(len(data), dtype=bool)
        in_test[rows[in_test_sub]] = True
    return Split(
        train=data.subset(~in_test),
        test_user_ids=data.user_ids[held],
        test_item_ids=data.item_ids[held],
        test_scores=data.scores[held],
    )


def _n_holdout(counts: np.ndarray, fraction: float) -> np.ndarray:
    return np.minimum(np.floor(fraction * counts + 0.5), counts - 1).astype(np.int64)


def _user_sample(
    data: Interactions, fraction: float, max_users: int, rng: np.random.Generator
) -> np.ndarray | None:
    """Mask of the rows of ``max_users`` seeded users who can be tested, or None when there
    are no more such users than that (then every one is tested and nothing is sampled)."""
    rated = data.user_ids[data.kinds == KIND_RATING]
    users, counts = distinct_counts(rated)
    testable = users[_n_holdout(counts, fraction) > 0]
    if testable.size <= max_users:
        return None
    chosen = np.sort(rng.choice(testable, size=max_users, replace=False))
    return IdIndex(chosen).to_index(data.user_ids) >= 0


def _holdout(
    data: Interactions, fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(indices of the held-out ratings, mask of every row on a held-out (user, item))."""
    keys = _pair_keys(data.user_ids, data.item_ids)

    rated = np.flatnonzero(data.kinds == KIND_RATING)
    # One rating per (user, item): a duplicate rating left in train would leak the answer.
    _, first = np.unique(keys[rated], return_index=True)
    rated = rated[np.sort(first)]

    users = data.user_ids[rated]
    # Random order within each user: sort by (user, random key) and number rows per group.
    order = np.lexsort((rng.random(rated.size), users))
    sorted_users = users[order]
    starts = np.flatnonzero(np.r_[True, sorted_users[1:] != sorted_users[:-1]])
    counts = np.diff(np.r_[starts, sorted_users.size])
    rank = np.arange(sorted_users.size) - np.repeat(starts, counts)
    n_holdout = _n_holdout(counts, fraction)
    held = rated[order[rank < np.repeat(n_holdout, counts)]]
    held.sort()
    return held, isin_sorted(keys, np.sort(keys[held]))


def validation_split(split: Split, fraction: float = 0.2, seed: int = 43) -> Split:
    """Holdout carved from ``split.train`` only, so tuning never sees the test ratings."""
    return holdout_split(split.train, fraction=fraction, seed=seed)
