import graphene

from movies import selectors
from movies.graphql.types import Genre


class MovieQueries(graphene.ObjectType):
    genres = graphene.List(
        graphene.NonNull(Genre), required=True, description="All genres, by name."
    )

    @staticmethod
    def resolve_genres(root: None, info: graphene.ResolveInfo) -> list:
        return list(selectors.genre_list())
