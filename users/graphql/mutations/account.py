"""Account lifecycle: register, setFavoriteGenres, changePassword, deleteAccount."""

from __future__ import annotations

import graphene

from movierec.graphql.permissions import login_required, viewer
from movierec.graphql.types import OkPayload
from movierec.throttling import client_ip
from users import services
from users.graphql.mutations.base import auth_errors, auth_payload
from users.graphql.types import AuthPayload, User


class Register(graphene.Mutation):
    class Arguments:
        username = graphene.String(required=True, description="Unique, any case; no '@'.")
        email = graphene.String(required=True, description="Unique, any case.")
        password = graphene.String(required=True, description="Checked by the password rules.")

    Output = AuthPayload

    @staticmethod
    @auth_errors
    def mutate(
        root: None, info: graphene.ResolveInfo, username: str, email: str, password: str
    ) -> object:
        user = services.user_register(
            username=username, email=email, password=password, ip=client_ip(info.context)
        )
        return auth_payload(info, user, services.auth_tokens_issue(user=user))


class SetFavoriteGenres(graphene.Mutation):
    class Arguments:
        genres = graphene.List(
            graphene.NonNull(graphene.String), required=True, description="Genre names."
        )

    Output = User

    @staticmethod
    @login_required
    def mutate(root: None, info: graphene.ResolveInfo, genres: list[str]) -> object:
        return services.user_favorite_genres_set(user=viewer(info), genres=genres)


class ChangePassword(graphene.Mutation):
    class Arguments:
        old_password = graphene.String(required=True, description="The current password.")
        new_password = graphene.String(required=True, description="The new password.")

    Output = AuthPayload

    @staticmethod
    @login_required
    @auth_errors
    def mutate(
        root: None, info: graphene.ResolveInfo, old_password: str, new_password: str
    ) -> object:
        user = services.user_password_change(
            user=viewer(info),
            old_password=old_password,
            new_password=new_password,
            ip=client_ip(info.context),
        )
        return auth_payload(info, user, services.auth_tokens_issue(user=user))


class DeleteAccount(graphene.Mutation):
    class Arguments:
        password = graphene.String(required=True, description="The current password.")

    Output = OkPayload

    @staticmethod
    @login_required
    @auth_errors
    def mutate(root: None, info: graphene.ResolveInfo, password: str) -> object:
        services.user_delete(user=viewer(info), password=password, ip=client_ip(info.context))
        return OkPayload(ok=True)
