"""Relay connections with ``totalCount`` and keyset (seek) pagination.

Offset cursors shift when rows are inserted ahead of them; a keyset cursor encodes the sort
values of the last row seen, so the next page starts exactly after it whatever was added.
Every ordering ends with the primary key, which makes it total and the cursor unique.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import graphene
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db.models import F, Q, QuerySet
from graphene.utils.orderedtype import OrderedType

from movierec.graphql.errors import BadUserInput


class CountableConnection(graphene.relay.Connection):
    class Meta:
        abstract = True

    total_count = graphene.Int(required=True, description="Number of items in the whole list.")

    @staticmethod
    def resolve_total_count(root: Any, info: graphene.ResolveInfo) -> int:
        return root.total_count() if callable(root.total_count) else root.total_count


@dataclass(frozen=True)
class OrderKey:
    """One sort key: a field path (or annotation) and its direction."""

    field: str
    descending: bool = False


def _encode_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return {"t": "dt" if isinstance(value, dt.datetime) else "d", "v": value.isoformat()}
    if isinstance(value, Decimal):
        return {"t": "dec", "v": str(value)}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        kind, raw = value.get("t"), value.get("v")
        if kind == "dt":
            return dt.datetime.fromisoformat(raw)
        if kind == "d":
            return dt.date.fromisoformat(raw)
        if kind == "dec":
            return Decimal(raw)
        raise ValueError("unknown cursor value")
    return value


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps([_encode_value(v) for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, length: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = [_decode_value(v) for v in json.loads(base64.urlsafe_b64decode(padded))]
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise BadUserInput("Invalid cursor.", field="after") from exc
    if not isinstance(values, list) or len(values) != length:
        raise BadUserInput("Invalid cursor.", field="after")
    return values


def page_size(first: int | None) -> int:
    """``first`` defaults to 20 and may not exceed 100 (nor be negative)."""
    if first is None:
        return settings.GRAPHQL_DEFAULT_PAGE_SIZE
    if first < 0:
        raise BadUserInput("`first` must not be negative.", field="first")
    if first > settings.GRAPHQL_MAX_PAGE_SIZE:
        raise BadUserInput(
            f"`first` may be at most {settings.GRAPHQL_MAX_PAGE_SIZE}.", field="first"
        )
    return first


def _after_filter(keys: Sequence[OrderKey], values: Sequence[Any]) -> Q:
    """Rows strictly after ``values`` in the (k1, k2, ..., pk) ordering.

    NULLs sort last in both directions (``nulls_last``); a NULL cursor value means the
    previous page already reached the NULL block of that key.
    """
    condition = Q(pk__in=[])  # false
    for i, key in enumerate(keys):
        equal_prefix = Q()
        for prev, prev_value in zip(keys[:i], values[:i], strict=False):
            equal_prefix &= (
                Q(**{f"{prev.field}__isnull": True})
                if prev_value is None
                else Q(**{prev.field: prev_value})
            )
        value = values[i]
        if value is None:
            continue  # nothing sorts after NULL within this key
        lookup = "lt" if key.descending else "gt"
        beyond = Q(**{f"{key.field}__{lookup}": value}) | Q(**{f"{key.field}__isnull": True})
        condition |= equal_prefix & beyond
    return condition


@dataclass
class Page:
    """What a connection type needs: edges' nodes with cursors, page info, total count."""

    nodes: list[Any]
    cursors: list[str]
    has_next_page: bool
    total_count: Any


def paginate(
    queryset: QuerySet,
    *,
    order: Sequence[OrderKey],
    first: int | None,
    after: str | None,
    count: bool = True,
    tiers: Sequence[QuerySet] | None = None,
) -> Page:
    """Keyset-paginate ``queryset`` (already filtered and annotated) by ``order`` + pk.

    ``tiers``: ``queryset`` split into parts that follow one another in ``order`` (its first
    key tells them apart); the page is read from each in turn, so a later, costlier part is
    only queried when the earlier ones run out."""
    keys = [*order, OrderKey("pk")]
    size = page_size(first)
    values = decode_cursor(after, len(keys)) if after else None
    rows: list[Any] = []
    for part in tiers or [queryset]:
        page_qs = part.order_by(*[_order_expression(part, k) for k in keys])
        if values is not None:
            page_qs = page_qs.filter(_after_filter(keys, values))
        rows += page_qs[: size + 1 - len(rows)]
        if len(rows) > size:
            break
    has_next = len(rows) > size
    rows = rows[:size]

    def cursor_for(row: Any) -> str:
        return encode_cursor([_value_of(row, k.field) for k in keys])

    total = (lambda: queryset.order_by().count()) if count else None
    return Page(rows, [cursor_for(r) for r in rows], has_next, total)


def _nullable(queryset: QuerySet, path: str) -> bool:
    """Whether ``path`` (a field or an annotation) can be NULL; annotations are assumed so."""
    if "__" in path or path in queryset.query.annotations:
        return True
    try:
        field = queryset.model._meta.get_field(path)
    except FieldDoesNotExist:
        return path != "pk"
    return bool(field.null)


def _order_expression(queryset: QuerySet, key: OrderKey) -> Any:
    """``NULLS LAST`` only where NULLs can occur: on a NOT NULL column it changes nothing but
    keeps PostgreSQL from walking a plain ``(col DESC, id)`` index (a full sort instead)."""
    if not _nullable(queryset, key.field):
        return F(key.field).desc() if key.descending else F(key.field).asc()
    return (
        F(key.field).desc(nulls_last=True) if key.descending else F(key.field).asc(nulls_last=True)
    )


def _value_of(row: Any, path: str) -> Any:
    value = row
    for part in path.split("__"):
        value = getattr(value, part)
    return value


def connection_from_page(connection_type: type[graphene.relay.Connection], page: Page) -> Any:
    """Build a graphene connection instance from a :class:`Page`."""
    edge_type = connection_type.Edge
    edges = [
        edge_type(node=node, cursor=cursor)
        for node, cursor in zip(page.nodes, page.cursors, strict=True)
    ]
    page_info = graphene.relay.PageInfo(
        start_cursor=page.cursors[0] if page.cursors else None,
        end_cursor=page.cursors[-1] if page.cursors else None,
        has_previous_page=False,
        has_next_page=page.has_next_page,
    )
    return connection_type(edges=edges, page_info=page_info, total_count=page.total_count)


def connection_field(
    connection_type: Any, *, description: str, required: bool = True, **arguments: Any
) -> graphene.Field:
    """A paginated field: the ``first`` / ``after`` arguments :func:`paginate` takes, then
    ``arguments`` (filters, a ``resolver``). Non-null unless ``required=False`` (a page that
    is private to someone answers null)."""
    paging = {"first": graphene.Int(), "after": graphene.String()}
    for argument in arguments.values():
        if isinstance(argument, OrderedType):
            argument.reset_counter()  # graphene lists arguments by creation: after the paging
    return graphene.Field(
        connection_type,
        required=required,
        description=description,
        **paging,
        **arguments,
    )


def paginated_connection(
    connection_type: type[graphene.relay.Connection],
    queryset: QuerySet,
    *,
    order: Sequence[OrderKey],
    first: int | None,
    after: str | None,
    tiers: Sequence[QuerySet] | None = None,
) -> Any:
    """One page of ``queryset`` as a ``connection_type`` instance (:func:`paginate`, then
    :func:`connection_from_page`): what a top-level list resolver returns."""
    page = paginate(queryset, order=order, first=first, after=after, tiers=tiers)
    return connection_from_page(connection_type, page)
