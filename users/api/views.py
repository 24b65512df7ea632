"""REST sign-in for mobile clients: thin views over users.services, the tokens of GraphQL."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from movierec.throttling import client_ip
from users import selectors, services
from users.api import serializers
from users.models import User
from users.tokens import TokenPair

_ERRORS = {
    400: OpenApiResponse(serializers.ErrorSerializer, description="BAD_USER_INPUT"),
    401: OpenApiResponse(serializers.ErrorSerializer, description="UNAUTHENTICATED"),
    429: OpenApiResponse(serializers.ErrorSerializer, description="RATE_LIMITED (Retry-After)"),
}


def _auth_payload(user: User, tokens: TokenPair) -> dict[str, Any]:
    return {
        "access": tokens.access,
        "refresh": tokens.refresh,
        "user": {"id": user.pk, "username": user.username, "email": user.email},
    }


class AuthView(APIView):
    """Credentials travel in the body: an Authorization header is neither needed nor read."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    def validated(self, serializer_class: type, request: Request) -> dict[str, Any]:
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class RegisterView(AuthView):
    @extend_schema(
        summary="Create an account and sign in",
        request=serializers.RegisterSerializer,
        responses={201: serializers.AuthPayloadSerializer, **_ERRORS},
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        data = self.validated(serializers.RegisterSerializer, request)
        user = services.user_register(**data, ip=client_ip(request))
        tokens = services.auth_tokens_issue(user=user)
        return Response(_auth_payload(user, tokens), status=status.HTTP_201_CREATED)


class TokenObtainView(AuthView):
    @extend_schema(
        summary="Sign in with username or email",
        request=serializers.LoginSerializer,
        responses={200: serializers.AuthPayloadSerializer, **_ERRORS},
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        data = self.validated(serializers.LoginSerializer, request)
        user, tokens = services.auth_login(
            identifier=data["username"], password=data["password"], ip=client_ip(request)
        )
        return Response(_auth_payload(user, tokens))


class TokenRefreshView(AuthView):
    @extend_schema(
        summary="Rotate a refresh token",
        description="Returns a new pair; the refresh token sent is blacklisted.",
        request=serializers.RefreshSerializer,
        responses={200: serializers.TokenPairSerializer, **_ERRORS},
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        data = self.validated(serializers.RefreshSerializer, request)
        _, tokens = services.auth_tokens_refresh(refresh=data["refresh"])
        return Response({"access": tokens.access, "refresh": tokens.refresh})


class TokenVerifyView(AuthView):
    @extend_schema(
        summary="Check a token",
        description="200 `{}` when the token would be accepted now, else 401.",
        request=serializers.VerifySerializer,
        responses={200: OpenApiResponse(description="Valid."), **_ERRORS},
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        data = self.validated(serializers.VerifySerializer, request)
        selectors.auth_token_verify(token=data["token"])
        return Response({})


class TokenBlacklistView(AuthView):
    @extend_schema(
        summary="Log out",
        description="Blacklists the refresh token and ends its session (its access tokens too).",
        request=serializers.RefreshSerializer,
        responses={200: OpenApiResponse(description="Logged out."), **_ERRORS},
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        data = self.validated(serializers.RefreshSerializer, request)
        services.auth_token_revoke(refresh=data["refresh"])
        return Response({})
