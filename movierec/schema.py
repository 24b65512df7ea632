"""The root GraphQL schema: every app contributes ``XQueries`` / ``XMutations`` mixins."""

import graphene

from movies.graphql.schema import MovieQueries
from movies.graphql.sync import SyncMutations, SyncQueries
from users.graphql.schema import UserQueries


class Query(UserQueries, MovieQueries, SyncQueries, graphene.ObjectType):
    pass


class Mutation(SyncMutations, graphene.ObjectType):
    pass


schema = graphene.Schema(query=Query, mutation=Mutation)
