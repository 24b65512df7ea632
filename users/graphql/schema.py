import graphene

from movierec.graphql.permissions import viewer
from users import selectors
from users.graphql import mutations
from users.graphql.types import User


class UserQueries(graphene.ObjectType):
    me = graphene.Field(User, description="The signed-in user; null when anonymous.")
    user = graphene.Field(
        User,
        username=graphene.String(required=True, description="Any case."),
        description="A member's public profile; null when there is no such active member.",
    )

    @staticmethod
    def resolve_me(root: None, info: graphene.ResolveInfo) -> object:
        return viewer(info)

    @staticmethod
    def resolve_user(root: None, info: graphene.ResolveInfo, username: str) -> object:
        return selectors.user_get_public(username=username)


class UserMutations(graphene.ObjectType):
    register = mutations.Register.Field(description="Create an account; signs the new user in.")
    token_auth = mutations.TokenAuth.Field(description="Sign in with username or email.")
    refresh_token = mutations.RefreshToken.Field(
        description="New token pair; the refresh token sent stops working (rotation)."
    )
    revoke_token = mutations.RevokeToken.Field(
        description="Log out: the session's refresh and access tokens stop working."
    )
    verify_token = mutations.VerifyToken.Field(
        description="ok when the token would be accepted now; UNAUTHENTICATED otherwise."
    )
    set_favorite_genres = mutations.SetFavoriteGenres.Field(
        description="Replace the signed-in user's cold-start genres (by name)."
    )
    change_password = mutations.ChangePassword.Field(
        description="Set a new password; returns fresh tokens, every older token stops working."
    )
    request_password_reset = mutations.RequestPasswordReset.Field(
        description="Email a reset link (PASSWORD_RESET_URL with uid and token); throttled."
    )
    reset_password = mutations.ResetPassword.Field(
        description="New password from a reset link; fresh tokens, older ones stop working."
    )
    delete_account = mutations.DeleteAccount.Field(
        description="Delete the signed-in account with its ratings and playlists."
    )
