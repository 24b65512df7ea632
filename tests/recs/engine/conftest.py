"""Shared small planted dataset and a model trained on it (seconds, not minutes)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import scipy.sparse as sp

from recs.engine.als import AlsModel, AlsParams, train
from recs.engine.ease import EaseParams
from recs.engine.hybrid import BlendParams, HybridModel, HybridParams, train_hybrid
from recs.engine.matrix import ConfidenceWeights, IdIndex, InteractionMatrix
from recs.engine.recipe import calibrate
from recs.engine.split import Split, holdout_split
from recs.engine.synthetic import SyntheticData, generate


@dataclass
class Trained:
    data: SyntheticData
    split: Split
    full: InteractionMatrix
    train: InteractionMatrix
    model: AlsModel


@pytest.fixture(scope="session")
def trained() -> Trained:
    data = generate(n_users=1500, n_items=2000, n_ratings=100_000, seed=7)
    full = data.interactions.to_matrix()
    split = holdout_split(data.interactions, fraction=0.2, seed=42)
    train_matrix = split.train.to_matrix(user_index=full.user_index, item_index=full.item_index)
    model = train(train_matrix, AlsParams(factors=32, iterations=10))
    return Trained(data, split, full, train_matrix, model)


@dataclass
class TrainedHybrid:
    data: SyntheticData
    split: Split
    model: HybridModel  # trained on split.train, calibrated on split's held-out ratings
    matrix: InteractionMatrix
    signal: sp.csr_matrix


HYBRID_PARAMS = HybridParams(
    als=AlsParams(factors=32, iterations=10, num_threads=1),
    ease=EaseParams(l2=50.0, min_item_users=1),
    blend=BlendParams(als_weight=0.5, cooc_weight=0.3),  # all three components served
)


@pytest.fixture(scope="session")
def hybrid() -> TrainedHybrid:
    data = generate(n_users=1000, n_items=1200, n_ratings=60_000, seed=7)
    rows = data.interactions
    users, items = IdIndex.from_values(rows.user_ids), IdIndex.from_values(rows.item_ids)
    split = holdout_split(rows, fraction=0.2, seed=42)
    model, matrix, signal = train_hybrid(
        split.train, HYBRID_PARAMS, weights=ConfidenceWeights(), now=data.now,
        user_index=users, item_index=items,
    )  # fmt: skip
    calibrate(
        model, signal, users.to_index(split.test_user_ids), items.to_index(split.test_item_ids),
        split.test_scores,
    )  # fmt: skip
    return TrainedHybrid(data, split, model, matrix, signal)
