"""Sign-in and token lifecycle: tokenAuth, refreshToken, revokeToken, verifyToken."""

from __future__ import annotations

import graphene

from movierec.graphql.types import OkPayload
from movierec.throttling import client_ip
from users import selectors, services
from users.graphql.mutations.base import auth_errors, auth_payload
from users.graphql.types import AuthPayload


class TokenAuth(graphene.Mutation):
    class Arguments:
        username = graphene.String(required=True, description="Username or email, any case.")
        password = graphene.String(required=True, description="The account's password.")

    Output = AuthPayload

    @staticmethod
    @auth_errors
    def mutate(root: None, info: graphene.ResolveInfo, username: str, password: str) -> object:
        user, tokens = services.auth_login(
            identifier=username, password=password, ip=client_ip(info.context)
        )
        return auth_payload(info, user, tokens)


class RefreshToken(graphene.Mutation):
    class Arguments:
        refresh = graphene.String(required=True, description="The current refresh token.")

    Output = AuthPayload

    @staticmethod
    @auth_errors
    def mutate(root: None, info: graphene.ResolveInfo, refresh: str) -> object:
        user, tokens = services.auth_tokens_refresh(refresh=refresh)
        return auth_payload(info, user, tokens)


class RevokeToken(graphene.Mutation):
    class Arguments:
        refresh = graphene.String(required=True, description="A refresh token of the session.")

    Output = OkPayload

    @staticmethod
    @auth_errors
    def mutate(root: None, info: graphene.ResolveInfo, refresh: str) -> object:
        services.auth_token_revoke(refresh=refresh)
        return OkPayload(ok=True)


class VerifyToken(graphene.Mutation):
    class Arguments:
        token = graphene.String(required=True, description="An access or refresh token.")

    Output = OkPayload

    @staticmethod
    @auth_errors
    def mutate(root: None, info: graphene.ResolveInfo, token: str) -> object:
        selectors.auth_token_verify(token=token)
        return OkPayload(ok=True)
