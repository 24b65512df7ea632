"""Per-request batching of relation lookups, so list resolvers never issue N+1 queries.

Graphene 3 has no synchronous promise batching, so we use ``graphql-sync-dataloaders``:
resolvers return ``loader.load(key)`` futures, and ``DeferredExecutionContext`` (set on the
view) dispatches each loader's queue once per level of the query. One loader instance lives
per request, cached on ``info.context``.
"""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from graphql import GraphQLError, GraphQLOutputType
from graphql.pyutils import Path
from graphql_sync_dataloaders import DeferredExecutionContext as _DeferredExecutionContext
from graphql_sync_dataloaders import SyncDataLoader

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BaseLoader(SyncDataLoader, Generic[K, V], metaclass=ABCMeta):
    """Subclass with a ``context_key`` and ``batch_load(keys) -> values in key order``."""

    context_key: ClassVar[str]

    def __new__(cls, context: Any) -> BaseLoader[K, V]:
        loaders = context.__dict__.setdefault("_dataloaders", {})
        key = cls.context_key
        if key not in loaders:
            loader = super().__new__(cls)
            loader.context = context
            SyncDataLoader.__init__(loader, loader.batch_load)
            loaders[key] = loader
        return loaders[key]

    def __init__(self, context: Any) -> None:  # state is set once, in __new__
        pass

    @property
    def viewer(self) -> Any:
        user = getattr(self.context, "user", None)
        return user if user is not None and user.is_authenticated else None

    @abstractmethod
    def batch_load(self, keys: list[K]) -> Sequence[V]:
        """Return one value per key, in the order of ``keys`` (None or [] when absent)."""


def group_by(rows: Iterable[Any], key: str) -> dict[Any, list[Any]]:
    """Group ORM rows by an attribute, preserving row order (for many-valued loaders)."""
    grouped: dict[Any, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[getattr(row, key)].append(row)
    return grouped


class DeferredExecutionContext(_DeferredExecutionContext):
    """graphql-sync-dataloaders' executor, adapted to graphql-core >= 3.2.7.

    graphql-core added a ``path`` argument to ``handle_field_error`` (it now records where
    each error happened); graphql-sync-dataloaders 0.1.1 still calls it without one, which
    turned every resolver error into a TypeError (an INTERNAL error instead of the
    resolver's own code). The path is rebuilt from the located error when it is missing.
    """

    def handle_field_error(
        self, error: GraphQLError, return_type: GraphQLOutputType, path: Path | None = None
    ) -> None:
        if path is None:
            for key in error.path or ():
                path = Path(path, key, None)
        return super().handle_field_error(error, return_type, path)
