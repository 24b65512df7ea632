"""Static limits on a GraphQL document, checked before the (costlier) spec validation runs.

One pass over the selected operations measures three things, expanding fragments once each
(memoised, so a "fragment bomb" costs linear time and a fragment cycle cannot recurse):

* **depth**: nesting of fields that have a selection set (leaves do not count), as graphene's
  ``depth_limit_validator`` counts it;
* **aliases**: aliased fields as written (fragments counted each time they are spread);
* **cost**: an upper estimate of the objects the response may hold. Every object-valued field
  costs 1 per instance; a list multiplies its subtree by its size: a connection's ``edges`` by
  ``first`` (its default page size when absent), any other list by its ``first`` argument or
  that argument's default, else by ``ASSUMED_LIST_SIZE``. ``first`` counts at most the page
  cap: a larger value is rejected by the resolver as bad input, not here as too complex.
  ``first: $n`` is costed at the value sent, else at the variable's declared default; a
  value that is not a usable integer (null, a string, a bad default) counts as the page cap.

Any limit exceeded is a ``QUERY_TOO_COMPLEX`` error. Introspection fields are not measured (the
schema bounds them). Unknown fields and fragments are left to the spec rules to report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    ValidationContext,
    ValidationRule,
    VariableNode,
    get_named_type,
    get_nullable_type,
    type_from_ast,
    value_from_ast,
)

from movierec.graphql.errors import ErrorCode

# Size assumed for a list whose length no argument bounds (genres, keywords, all credits).
ASSUMED_LIST_SIZE = 10


@dataclass(frozen=True)
class QueryMeasure:
    depth: int = 0
    cost: int = 0
    aliases: int = 0

    def __add__(self, other: QueryMeasure) -> QueryMeasure:
        return QueryMeasure(
            max(self.depth, other.depth), self.cost + other.cost, self.aliases + other.aliases
        )


_ZERO = QueryMeasure()

# Stands for a variable whose value the estimate cannot know: costed at the page cap.
_UNKNOWN = object()


def operation_variables(
    context: ValidationContext, operation: OperationDefinitionNode, sent: dict[str, Any]
) -> dict[str, Any]:
    """The variables of ``operation`` as execution will see them: sent, else declared default.

    A variable neither sent nor defaulted is absent (the argument takes the field's default).
    """
    values: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name in sent:
            values[name] = sent[name]
        elif definition.default_value is not None:
            type_ = type_from_ast(context.schema, definition.type)
            value = value_from_ast(definition.default_value, type_) if type_ else Undefined
            values[name] = _UNKNOWN if value is Undefined else value
    return values


def _is_connection(type_: GraphQLNamedType | None) -> bool:
    return (
        isinstance(type_, GraphQLObjectType)
        and type_.name.endswith("Connection")
        and "edges" in type_.fields
    )


class _Analyzer:
    def __init__(self, context: ValidationContext, variables: dict[str, Any]) -> None:
        self.schema = context.schema
        self.variables = variables
        self.fragments = {
            d.name.value: d
            for d in context.document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }
        self.memo: dict[str, QueryMeasure] = {}
        self.active: set[str] = set()

    def selection_set(
        self,
        node: SelectionSetNode | None,
        parent: GraphQLNamedType | None,
        page: int = 1,
    ) -> QueryMeasure:
        total = _ZERO
        for selection in node.selections if node else ():
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                type_ = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selection_set(selection.selection_set, type_, page)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value)
        return total

    def fragment(self, name: str) -> QueryMeasure:
        if name in self.memo:
            return self.memo[name]
        if name in self.active or name not in self.fragments:
            return (
                _ZERO  # a cycle or an unknown fragment: NoFragmentCycles/KnownFragmentNames say so
            )
        self.active.add(name)
        definition = self.fragments[name]
        type_ = self.schema.get_type(definition.type_condition.name.value)
        measure = self.selection_set(definition.selection_set, type_)
        self.active.discard(name)
        self.memo[name] = measure
        return measure

    def field(self, node: FieldNode, parent: GraphQLNamedType | None, page: int) -> QueryMeasure:
        alias = QueryMeasure(aliases=1 if node.alias else 0)
        name = node.name.value
        if name.startswith("__") or node.selection_set is None:
            return alias
        field_def = (
            parent.fields.get(name)
            if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType)
            else None
        )
        child_type = get_named_type(field_def.type) if field_def else None
        if _is_connection(child_type):
            multiplier, child_page = (
                1,
                self._first(node, field_def, settings.GRAPHQL_DEFAULT_PAGE_SIZE),
            )
        else:
            child_page = 1
            is_list = field_def is not None and isinstance(
                get_nullable_type(field_def.type), GraphQLList
            )
            if name in ("edges", "nodes") and _is_connection(parent):
                multiplier = page
            elif is_list:
                multiplier = self._first(node, field_def, ASSUMED_LIST_SIZE)
            else:
                multiplier = 1
        inner = self.selection_set(node.selection_set, child_type, child_page)
        return alias + QueryMeasure(
            depth=inner.depth + 1, cost=multiplier * (1 + inner.cost), aliases=inner.aliases
        )

    def _first(self, node: FieldNode, field_def: Any, fallback: int) -> int:
        value: Any = None
        for argument in node.arguments:
            if argument.name.value != "first":
                continue
            if isinstance(argument.value, IntValueNode):
                value = int(argument.value.value)
            elif isinstance(argument.value, VariableNode):
                name = argument.value.name.value
                if name in self.variables:
                    value = self.variables[name]
                    if not isinstance(value, int) or isinstance(value, bool):
                        return settings.GRAPHQL_MAX_PAGE_SIZE
            else:  # null or a literal of the wrong type: the estimate assumes the worst
                return settings.GRAPHQL_MAX_PAGE_SIZE
        if value is None and field_def is not None and "first" in field_def.args:
            default = field_def.args["first"].default_value
            value = default if isinstance(default, int) else None
        if not isinstance(value, int) or isinstance(value, bool):
            return fallback
        return max(0, min(value, settings.GRAPHQL_MAX_PAGE_SIZE))


def measure_operation(
    context: ValidationContext, operation: OperationDefinitionNode, variables: dict[str, Any]
) -> QueryMeasure:
    """Depth, cost and aliases of one operation of ``context.document``."""
    root = {
        OperationType.QUERY: context.schema.query_type,
        OperationType.MUTATION: context.schema.mutation_type,
        OperationType.SUBSCRIPTION: context.schema.subscription_type,
    }[operation.operation]
    return _Analyzer(context, variables).selection_set(operation.selection_set, root)


def _too_complex(message: str, node: Any, **extra: Any) -> GraphQLError:
    return GraphQLError(
        message, node, extensions={"code": str(ErrorCode.QUERY_TOO_COMPLEX), **extra}
    )


def query_limits_rule(
    *,
    variables: dict[str, Any] | None = None,
    max_depth: int | None = None,
    max_cost: int | None = None,
    max_aliases: int | None = None,
) -> type[ValidationRule]:
    """A validation rule enforcing depth, cost and alias limits (settings by default).

    ``variables`` are the request's, so that ``first: $n`` is costed at its real value.
    """
    limits = (
        settings.GRAPHQL_MAX_DEPTH if max_depth is None else max_depth,
        settings.GRAPHQL_MAX_COMPLEXITY if max_cost is None else max_cost,
        settings.GRAPHQL_MAX_ALIASES if max_aliases is None else max_aliases,
    )
    values = dict(variables or {})

    class QueryLimitsRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            depth_limit, cost_limit, alias_limit = limits
            measure = measure_operation(
                self.context, node, operation_variables(self.context, node, values)
            )
            if measure.depth > depth_limit:
                self.report_error(
                    _too_complex(
                        f"Query depth {measure.depth} exceeds the limit of {depth_limit}.",
                        node,
                        depth=measure.depth,
                        maxDepth=depth_limit,
                    )
                )
            if measure.aliases > alias_limit:
                self.report_error(
                    _too_complex(
                        f"Query uses {measure.aliases} aliases; the limit is {alias_limit}.",
                        node,
                        aliases=measure.aliases,
                        maxAliases=alias_limit,
                    )
                )
            if measure.cost > cost_limit:
                self.report_error(
                    _too_complex(
                        f"Query cost {measure.cost} exceeds the limit of {cost_limit}; "
                        "request fewer items (`first`) or fewer nested lists.",
                        node,
                        cost=measure.cost,
                        maxCost=cost_limit,
                    )
                )

    return QueryLimitsRule
