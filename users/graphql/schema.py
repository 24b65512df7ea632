import graphene

from movierec.graphql.permissions import viewer
from users.graphql.types import User


class UserQueries(graphene.ObjectType):
    me = graphene.Field(User, description="The signed-in user; null when anonymous.")

    @staticmethod
    def resolve_me(root: None, info: graphene.ResolveInfo) -> object:
        return viewer(info)
