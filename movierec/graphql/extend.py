"""Let an app add fields to a GraphQL type another app owns.

The owner of the data defines the field: ratings adds ``Movie.myRating`` and ``User.watchlist``,
recs adds ``Movie.similar`` and ``Movie.matchScore``, and movies never imports them, so the
dependency graph keeps pointing one way. Apps call :func:`extend_type` from their
``AppConfig.ready()`` (installed-app order, so the schema's field order is stable), which runs
before the root schema is built.
"""

from __future__ import annotations

from typing import Any

import graphene
from django.core.exceptions import ImproperlyConfigured
from graphene.types.unmountedtype import UnmountedType


def extend_type(type_: type[graphene.ObjectType], **fields: Any) -> None:
    """Append ``fields`` (name → graphene field, with its ``resolver=``) to ``type_``.

    A name the type already has is a configuration error, never a silent override; extending
    twice with the very same field (a repeated ``ready()``) is a no-op.
    """
    existing = type_._meta.fields
    for name, field in fields.items():
        mounted = field.mount_as(graphene.Field) if isinstance(field, UnmountedType) else field
        if name in existing:
            if existing[name] is field or getattr(existing[name], "_extended_from", None) is field:
                continue
            raise ImproperlyConfigured(f"{type_.__name__}.{name} is already defined.")
        mounted._extended_from = field
        existing[name] = mounted
