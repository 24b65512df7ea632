"""Relay global IDs from client input: a malformed or wrong-type ID is the client's error."""

from __future__ import annotations

import binascii

from graphql_relay import from_global_id

from movierec.graphql.errors import BadUserInput


def decode_global_id(value: str, *, type_name: str, field: str = "id") -> int:
    """The primary key inside ``value``, which must name a ``type_name`` object.

    Raises ``BadUserInput`` (with ``field``, the argument's camelCase name) for anything else,
    so resolvers can turn an unknown but well-formed ID into null / NOT_FOUND and a garbled
    one into BAD_USER_INPUT.
    """
    try:
        kind, raw_pk = from_global_id(value)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError) as exc:
        raise BadUserInput(f"Malformed {type_name} ID.", field=field) from exc
    if kind != type_name or not (raw_pk.isascii() and raw_pk.isdigit()) or len(raw_pk) > 18:
        raise BadUserInput(f"Not a {type_name} ID.", field=field)
    pk = int(raw_pk)
    if pk <= 0:
        raise BadUserInput(f"Not a {type_name} ID.", field=field)
    return pk
