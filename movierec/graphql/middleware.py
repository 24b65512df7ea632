"""Graphene middleware shared by every request."""

from typing import Any

from graphene_django.constants import MUTATION_ERRORS_FLAG
from graphql import OperationType


class MutationRollbackMiddleware:
    """Roll back the whole mutation when any resolver in it fails.

    graphene-django's ATOMIC_MUTATIONS only rolls back when this request flag is set, and
    graphql-core turns exceptions into errors before the atomic block ends.
    """

    def resolve(self, next_: Any, root: Any, info: Any, **kwargs: Any) -> Any:
        try:
            return next_(root, info, **kwargs)
        except Exception:
            if info.operation.operation == OperationType.MUTATION:
                setattr(info.context, MUTATION_ERRORS_FLAG, True)
            raise
