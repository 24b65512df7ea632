"""The root GraphQL schema: every app contributes ``XQueries`` / ``XMutations`` mixins."""

import graphene

from movies.graphql.schema import MovieQueries
from recs.graphql.schema import RecommendationQueries
from users.graphql.schema import UserQueries


class Query(UserQueries, MovieQueries, RecommendationQueries, graphene.ObjectType):
    pass


schema = graphene.Schema(query=Query)
