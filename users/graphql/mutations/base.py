"""Maps the users domain's errors onto the contract's GraphQL errors."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from movierec.graphql.errors import RateLimited, Unauthenticated
from movierec.throttling import RateLimitExceeded
from users.exceptions import AuthenticationError
from users.graphql.types import AuthPayload, mark_signed_in
from users.models import User
from users.tokens import TokenPair

F = TypeVar("F", bound=Callable[..., Any])


def auth_errors(fn: F) -> F:
    """``AuthenticationError`` -> UNAUTHENTICATED (with ``reason``), limits -> RATE_LIMITED."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RateLimitExceeded as exc:
            raise RateLimited(retry_after=exc.retry_after) from exc
        except AuthenticationError as exc:
            raise Unauthenticated(exc.message, extra={"reason": exc.reason}) from exc

    return wrapper  # type: ignore[return-value]


def auth_payload(info: Any, user: User, tokens: TokenPair) -> AuthPayload:
    mark_signed_in(info.context, user)
    return AuthPayload(access=tokens.access, refresh=tokens.refresh, user=user)
