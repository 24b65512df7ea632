"""Keyset pagination of a child list for a whole page of parents in one query.

``playlists { items(first: 10) }`` must not run one query per playlist: a window function
(``ROW_NUMBER() OVER (PARTITION BY parent ORDER BY ...)``) numbers each parent's children and
keeps the first ``first + 1`` of every partition, which also tells whether a next page exists.
Cursors are the same as :func:`movierec.graphql.pagination.paginate`'s, so a client can go
on paging one parent's list with ``after``.
"""

from __future__ import annotations

import dataclasses
from abc import abstractmethod
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, ClassVar

from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber
from graphql_sync_dataloaders import SyncFuture

from movierec.graphql.dataloaders import BaseLoader
from movierec.graphql.pagination import (
    OrderKey,
    Page,
    _after_filter,
    _value_of,
    connection_from_page,
    decode_cursor,
    encode_cursor,
    page_size,
)


def validate_page_args(order: Sequence[OrderKey], first: int | None, after: str | None) -> None:
    """Raise BAD_USER_INPUT for bad ``first``/``after`` before any loader runs.

    Loaders dispatch outside the resolver, so their arguments are checked up front.
    """
    page_size(first)
    if after:
        decode_cursor(after, len(order) + 1)


def paginate_per_parent(
    queryset: QuerySet,
    *,
    parent_field: str,
    parent_ids: Iterable[Hashable],
    order: Sequence[OrderKey],
    first: int | None,
    after: str | None,
) -> dict[Any, Page]:
    """One :class:`Page` per parent id (empty pages included); ``total_count`` is left None.

    Counts come from a separate grouped COUNT loader, so that the caller can share it with
    fields such as ``itemCount``.
    """
    keys = [*order, OrderKey("pk")]
    size = page_size(first)
    ordering = [
        F(k.field).desc(nulls_last=True) if k.descending else F(k.field).asc(nulls_last=True)
        for k in keys
    ]
    ids = list(parent_ids)
    qs = queryset.filter(**{f"{parent_field}__in": ids})
    if after:
        qs = qs.filter(_after_filter(keys, decode_cursor(after, len(keys))))
    qs = (
        qs.annotate(
            _row=Window(RowNumber(), partition_by=[F(parent_field)], order_by=ordering),
        )
        .filter(_row__lte=size + 1)
        .order_by(parent_field, *ordering)
    )
    grouped: dict[Any, list[Any]] = defaultdict(list)
    for row in qs:
        grouped[_value_of(row, parent_field)].append(row)
    pages = {}
    for parent_id in ids:
        rows = grouped.get(parent_id, [])
        has_next = len(rows) > size
        rows = rows[:size]
        cursors = [encode_cursor([_value_of(r, k.field) for k in keys]) for r in rows]
        pages[parent_id] = Page(rows, cursors, has_next, None)
    return pages


def then(future: SyncFuture, fn: Callable[[Any], Any]) -> SyncFuture | Any:
    """``fn(result)`` of a loader future, as a future the deferred executor can wait on.

    ``SyncFuture`` has no ``then``; the new future inherits the loader's dispatch callback so
    the executor still runs the batch.
    """
    if future.done():
        return fn(future.result())
    chained = SyncFuture()
    chained.deferred_callback = future.deferred_callback

    def _done() -> None:
        try:
            chained.set_result(fn(future.result()))
        except Exception as exc:  # delivered to the field as its error
            chained.set_exception(exc)

    future.add_done_callback(_done)
    return chained


PageKey = tuple[int, int | None, str | None]


class PageByParentLoader(BaseLoader[PageKey, Page]):
    """A page of children for each parent of a page: ``(parent_id, first, after)`` keys.

    One windowed query (:func:`paginate_per_parent`) per distinct ``(first, after)``, however
    many parents ask. Subclasses name the children (``children()``), the parent column and
    the order.
    """

    parent_field: ClassVar[str]
    order: ClassVar[Sequence[OrderKey]]

    @abstractmethod
    def children(self) -> QuerySet:
        """The children of every parent, filtered but unordered (the order is applied here)."""

    def batch_load(self, keys: list[PageKey]) -> list[Page]:
        pages: dict[PageKey, Page] = {}
        for first, after in {(first, after) for _, first, after in keys}:
            parent_ids = {pid for pid, f, a in keys if (f, a) == (first, after)}
            per_parent = paginate_per_parent(
                self.children(),
                parent_field=self.parent_field,
                parent_ids=parent_ids,
                order=self.order,
                first=first,
                after=after,
            )
            for parent_id, page in per_parent.items():
                pages[(parent_id, first, after)] = page
        return [pages[key] for key in keys]


def nested_connection(
    info: Any,
    connection_type: type[Any],
    *,
    parent_id: int,
    first: int | None,
    after: str | None,
    pages: type[PageByParentLoader],
    counts: type[BaseLoader[int, int]],
) -> SyncFuture | Any:
    """A parent's child list as a connection (``Playlist.items``, ``Movie.reviews``): its page
    comes from the ``pages`` loader, batched with every parent of the response, and
    ``totalCount`` from the ``counts`` loader only when the query asks for it (the same
    loader can serve a field such as ``itemCount``)."""
    validate_page_args(pages.order, first, after)
    context = info.context

    def to_connection(page: Page) -> Any:
        counted = dataclasses.replace(page, total_count=lambda: counts(context).load(parent_id))
        return connection_from_page(connection_type, counted)

    return then(pages(context).load((parent_id, first, after)), to_connection)
