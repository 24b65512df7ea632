"""Resolver errors keep their contract code under the deferred (dataloader) executor."""

import graphene
import pytest

from movierec.graphql.dataloaders import DeferredExecutionContext
from movierec.graphql.errors import NotFound, format_error


class _Query(graphene.ObjectType):
    boom = graphene.String()
    fine = graphene.String()

    @staticmethod
    def resolve_boom(root, info):
        raise NotFound("Not found.")

    @staticmethod
    def resolve_fine(root, info):
        return "ok"


@pytest.mark.parametrize("operation", ["{ boom fine }", "{ a: boom b: boom fine }"])
def test_field_errors_are_collected_with_their_code_and_path(operation):
    result = graphene.Schema(query=_Query).execute(
        operation, execution_context_class=DeferredExecutionContext
    )
    assert result.data["fine"] == "ok"
    formatted = [format_error(e) for e in result.errors]
    assert {f["extensions"]["code"] for f in formatted} == {"NOT_FOUND"}
    assert len(formatted) == operation.count("boom")
    assert all(f["path"][0] in {"boom", "a", "b"} for f in formatted)


class _Color(graphene.Enum):
    RED = "RED"


class _EnumQuery(graphene.ObjectType):
    paint = graphene.String(color=_Color(required=True))

    @staticmethod
    def resolve_paint(root, info, color):
        return str(color)


def test_unknown_enum_value_in_a_variable_is_bad_user_input():
    result = graphene.Schema(query=_EnumQuery).execute(
        "query($c: _Color!) { paint(color: $c) }",
        variables={"c": "BLUE"},
        execution_context_class=DeferredExecutionContext,
    )
    formatted = format_error(result.errors[0])
    assert formatted["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "BLUE" in formatted["message"]
