"""The root GraphQL schema: every app contributes ``XQueries`` / ``XMutations`` mixins."""

import graphene

from movies.graphql.schema import MovieQueries
from users.graphql.schema import UserMutations, UserQueries


class Query(UserQueries, MovieQueries, graphene.ObjectType):
    pass


class Mutation(UserMutations, graphene.ObjectType):
    pass


schema = graphene.Schema(query=Query, mutation=Mutation)
