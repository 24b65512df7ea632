"""Small payload types shared by every app's mutations."""

import graphene


class OkPayload(graphene.ObjectType):
    """The answer of a mutation that returns nothing else."""

    ok = graphene.Boolean(required=True, description="True when the operation took effect.")
