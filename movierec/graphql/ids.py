"""Relay global IDs in arguments: decode them once, with contract-shaped errors."""

from __future__ import annotations

from graphql_relay import from_global_id

from movierec.graphql.errors import BadUserInput


def decode_global_id(value: str, *, type_name: str, field: str) -> int:
    """The primary key inside ``value``; malformed or another type's ID is BAD_USER_INPUT.

    ``field`` is the argument's camelCase name, reported as ``extensions.field``.
    """
    try:
        kind, raw = from_global_id(value)
        pk = int(raw)
    except (TypeError, ValueError, UnicodeDecodeError) as exc:
        raise BadUserInput(f"Invalid {type_name} ID.", field=field) from exc
    if kind != type_name or pk <= 0:
        raise BadUserInput(f"Invalid {type_name} ID.", field=field)
    return pk
