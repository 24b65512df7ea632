"""Text that PostgreSQL cannot store is refused at the door, once for every input.

NUL (``\\x00``) is not allowed in PostgreSQL text, and a lone UTF-16 surrogate (``\\ud800``,
which JSON's ``\\ud800`` escape produces) cannot be encoded as UTF-8: either one reaching a
query raised deep inside the ORM and came back as ``INTERNAL``. Rather than guarding each
field, the GraphQL endpoint checks every string of the request (variables and literals of the
document) before anything executes; REST's serializer fields already refuse both.
"""

from __future__ import annotations

import re
from typing import Any

from graphql import GraphQLError, StringValueNode, ValidationRule

from movierec.graphql.errors import ErrorCode

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MESSAGE = "Text may not contain NUL characters or unpaired surrogates."


def is_unstorable(text: str) -> bool:
    return _UNSTORABLE.search(text) is not None


def unstorable_variable(variables: dict[str, Any] | None) -> str | None:
    """The name of the first variable holding unstorable text (keys included), else None.

    Iterative, so a deeply nested (but parseable) value cannot exhaust the stack.
    """
    stack: list[tuple[str, Any]] = [(name, value) for name, value in (variables or {}).items()]
    while stack:
        name, value = stack.pop()
        if isinstance(value, str):
            if is_unstorable(value) or is_unstorable(name):
                return name
        elif isinstance(value, dict):
            if any(isinstance(key, str) and is_unstorable(key) for key in value):
                return name
            stack.extend((name, item) for item in value.values())
        elif isinstance(value, list):
            stack.extend((name, item) for item in value)
        elif is_unstorable(name):
            return name
    return None


def unstorable_variable_error(name: str) -> GraphQLError:
    return GraphQLError(
        f"Variable ${name}: {MESSAGE}",
        extensions={"code": str(ErrorCode.BAD_USER_INPUT), "field": name},
    )


class UnstorableTextRule(ValidationRule):
    """Refuses string literals of the document that hold unstorable text."""

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        if is_unstorable(node.value):
            self.report_error(
                GraphQLError(MESSAGE, node, extensions={"code": str(ErrorCode.BAD_USER_INPUT)})
            )
