"""The root GraphQL schema: every app contributes ``XQueries`` / ``XMutations`` mixins."""

import graphene

from movies.graphql.schema import MovieQueries
from movies.graphql.sync import SyncMutations, SyncQueries
from playlists.graphql.schema import PlaylistMutations, PlaylistQueries
from ratings.graphql.schema import RatingMutations, RatingQueries
from recs.graphql.schema import RecommendationQueries
from users.graphql.schema import UserMutations, UserQueries


class Query(
    UserQueries,
    MovieQueries,
    RatingQueries,
    PlaylistQueries,
    RecommendationQueries,
    SyncQueries,
    graphene.ObjectType,
):
    pass


class Mutation(
    UserMutations, RatingMutations, PlaylistMutations, SyncMutations, graphene.ObjectType
):
    pass


schema = graphene.Schema(query=Query, mutation=Mutation)
