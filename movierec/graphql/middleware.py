"""Field-level rules shared by every request, kept off the per-field hot path.

graphql-core calls a middleware around every resolver of a response (about 220 calls for
20 movies with genres and community rating), so each one costs a frame per field even where
it has nothing to do. Neither rule here needs that: the null-means-default rule applies only
to the few fields whose arguments declare a default, so it is compiled into those fields'
resolvers once per schema; the rollback rule only matters in mutations, so the view passes
its middleware to mutation operations only.
"""

from functools import wraps
from typing import Any

from graphene_django.constants import MUTATION_ERRORS_FLAG
from graphql import (
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    MiddlewareManager,
    Undefined,
    default_field_resolver,
)

_APPLIED_FLAG = "_movierec_null_defaults"


class MutationRollbackMiddleware:
    """Roll back the whole mutation when any resolver in it fails.

    graphene-django's ATOMIC_MUTATIONS only rolls back when this request flag is set, and
    graphql-core turns exceptions into errors before the atomic block ends. The view runs it
    for mutation operations only (:data:`MUTATION_MIDDLEWARE`).
    """

    def resolve(self, next_: Any, root: Any, info: Any, **kwargs: Any) -> Any:
        try:
            return next_(root, info, **kwargs)
        except Exception:
            setattr(info.context, MUTATION_ERRORS_FLAG, True)
            raise


#: Shared across requests, so each resolver is wrapped once per process, not once per request.
MUTATION_MIDDLEWARE = MiddlewareManager(MutationRollbackMiddleware())


def _null_means_default(resolve: Any, defaults: dict[str, Any]) -> Any:
    @wraps(resolve)
    def resolver(root: Any, info: Any, **kwargs: Any) -> Any:
        for key, default in defaults.items():
            if key in kwargs and kwargs[key] is None:
                kwargs[key] = default
        return resolve(root, info, **kwargs)

    return resolver


def _field_defaults(field: GraphQLField) -> dict[str, Any]:
    return {
        arg.out_name or name: arg.default_value
        for name, arg in field.args.items()
        if arg.default_value is not None and arg.default_value is not Undefined
    }


def apply_null_defaults(schema: GraphQLSchema) -> None:
    """An explicit ``null`` for an argument that declares a default gets the default.

    GraphQL passes ``trending(window: null)`` to the resolver as ``None`` although the schema
    promises ``window = WEEK``; resolvers written against the default then failed with
    ``INTERNAL``. One rule for every field: null means "use the default". Wraps the resolver
    of each field with such an argument, once per schema (idempotent).
    """
    if getattr(schema, _APPLIED_FLAG, False):
        return
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for field in type_.fields.values():
            defaults = _field_defaults(field)
            if defaults:
                resolve = field.resolve or default_field_resolver
                field.resolve = _null_means_default(resolve, defaults)
    setattr(schema, _APPLIED_FLAG, True)
