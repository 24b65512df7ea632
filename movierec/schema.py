"""The root GraphQL schema: every app contributes ``XQueries`` / ``XMutations`` mixins."""

import graphene

from movies.graphql.schema import MovieQueries
from playlists.graphql.schema import PlaylistMutations, PlaylistQueries
from ratings.graphql.schema import RatingMutations, RatingQueries
from users.graphql.schema import UserMutations, UserQueries


class Query(UserQueries, MovieQueries, RatingQueries, PlaylistQueries, graphene.ObjectType):
    pass


class Mutation(UserMutations, RatingMutations, PlaylistMutations, graphene.ObjectType):
    pass


schema = graphene.Schema(query=Query, mutation=Mutation)
