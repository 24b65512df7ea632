"""Resolver guards: the one mechanism for "who may call this".

``@login_required``, ``@staff_required`` wrap a resolver (or a mutation's ``mutate``) and
raise the contract's errors before the resolver runs. Row-level rules (owner only, private
playlists) live in selectors, which filter by viewer so that hidden rows look absent.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from movierec.graphql.errors import Forbidden, Unauthenticated

F = TypeVar("F", bound=Callable[..., Any])


def _info(args: tuple[Any, ...]) -> Any:
    # resolve_x(root, info, ...) and mutate(root, info, ...) both carry info second.
    return args[1]


def viewer(info: Any) -> Any:
    user = getattr(info.context, "user", None)
    return user if user is not None and user.is_authenticated else None


def login_required(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if viewer(_info(args)) is None:
            raise Unauthenticated("Authentication required.")
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def staff_required(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        user = viewer(_info(args))
        if user is None:
            raise Unauthenticated("Authentication required.")
        if not user.is_staff:
            raise Forbidden("Staff only.")
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
