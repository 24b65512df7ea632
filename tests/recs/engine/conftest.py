"""Shared small planted dataset and a model trained on it (seconds, not minutes)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from recs.engine.als import AlsModel, AlsParams, train
from recs.engine.matrix import InteractionMatrix
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
