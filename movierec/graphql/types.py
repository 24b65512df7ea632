"""GraphQL types shared by several apps."""

import graphene


class OkPayload(graphene.ObjectType):
    """The answer of a mutation that has nothing else to return."""

    ok = graphene.Boolean(required=True, description="True when the mutation took effect.")
