"""Graphene middleware shared by every request."""

from typing import Any

from graphene_django.constants import MUTATION_ERRORS_FLAG
from graphql import OperationType, Undefined


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


class NullMeansDefaultMiddleware:
    """An explicit ``null`` for an argument that declares a default gets the default.

    GraphQL passes ``trending(window: null)`` to the resolver as ``None`` although the schema
    promises ``window = WEEK``; resolvers written against the default then failed with
    ``INTERNAL``. One rule for every field: null means "use the default".
    """

    def resolve(self, next_: Any, root: Any, info: Any, **kwargs: Any) -> Any:
        if kwargs and None in kwargs.values():
            field = info.parent_type.fields.get(info.field_name)
            for name, arg in (field.args if field else {}).items():
                key = arg.out_name or name
                if kwargs.get(key, Undefined) is None and arg.default_value not in (
                    None,
                    Undefined,
                ):
                    kwargs[key] = arg.default_value
        return next_(root, info, **kwargs)
