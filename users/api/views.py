"""REST sign-in for mobile clients (and web apps keeping the refresh token in an httpOnly
cookie): thin views over users.services, the tokens of GraphQL."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from movierec.throttling import client_ip
from users import selectors, services
from users.api import cookies, serializers
from users.exceptions import AuthenticationError, TokenRejected
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


_COOKIE_ERRORS = {
    **_ERRORS,
    403: OpenApiResponse(
        serializers.ErrorSerializer,
        description="FORBIDDEN: `Origin` missing, or neither the API's nor in CORS_ALLOWED_ORIGINS",
    ),
}
_SET_COOKIE = OpenApiParameter(
    "Set-Cookie",
    str,
    OpenApiParameter.HEADER,
    response=[200],
    description="The refresh token: HttpOnly, Secure, SameSite, Path=/api/auth/cookie/.",
)


def _cookie_schema(
    summary: str, description: str, *, sets: bool, reads: bool, ok: Any, request: Any = None
) -> Any:
    """The OpenAPI description of a refresh-cookie endpoint; ``ok`` describes its 200."""
    parameters = []
    if reads:
        parameters.append(
            OpenApiParameter(
                settings.AUTH_COOKIE_NAME,
                str,
                OpenApiParameter.COOKIE,
                required=False,
                description="Set by /api/auth/cookie/token/; the browser sends it, script never "
                "sees it.",
            )
        )
    if sets:
        parameters.append(_SET_COOKIE)
    return extend_schema(
        summary=summary,
        description=description,
        request=request,
        parameters=parameters,
        responses={200: ok, **_COOKIE_ERRORS},
        tags=["auth"],
    )


class CookieTokenObtainView(AuthView):
    @_cookie_schema(
        "Sign in, the refresh token in an httpOnly cookie (web apps)",
        "Like /api/auth/token/, but the refresh token is set as an httpOnly cookie scoped to "
        "/api/auth/cookie/ instead of returned. Send with `credentials: 'include'`.",
        sets=True,
        reads=False,
        request=serializers.LoginSerializer,
        ok=serializers.CookieAuthPayloadSerializer,
    )
    def post(self, request: Request) -> Response:
        cookies.origin_check(request)
        data = self.validated(serializers.LoginSerializer, request)
        user, tokens = services.auth_login(
            identifier=data["username"], password=data["password"], ip=client_ip(request)
        )
        payload = _auth_payload(user, tokens)
        del payload["refresh"]
        response = Response(payload)
        cookies.refresh_cookie_set(response, tokens.refresh)
        return response


class CookieTokenRefreshView(AuthView):
    @_cookie_schema(
        "New access token from the refresh cookie",
        "Rotates the cookie's refresh token (the new one replaces the cookie) with the Bearer "
        "flow's reuse detection. On 401 the cookie is cleared: sign in again.",
        sets=True,
        reads=True,
        ok=serializers.AccessSerializer,
    )
    def post(self, request: Request) -> Response:
        cookies.origin_check(request)
        try:
            refresh = cookies.refresh_cookie_read(request)
            if refresh is None:
                raise TokenRejected("No refresh cookie; sign in again.", reason="missing")
            _, tokens = services.auth_tokens_refresh(refresh=refresh)
        except AuthenticationError as exc:
            response = self.handle_exception(exc)
            cookies.refresh_cookie_clear(response)  # a dead token: keep nothing of it
            return response
        response = Response({"access": tokens.access})
        cookies.refresh_cookie_set(response, tokens.refresh)
        return response


class CookieLogoutView(AuthView):
    @_cookie_schema(
        "Log out: end the cookie's session and clear the cookie",
        "Ends the session like /api/auth/token/blacklist/ (its access tokens too). Idempotent: "
        "200 also without a cookie or with a dead one.",
        sets=False,
        reads=True,
        ok=OpenApiResponse(description="Logged out."),
    )
    def post(self, request: Request) -> Response:
        cookies.origin_check(request)
        refresh = cookies.refresh_cookie_read(request)
        # Expired, forged or of a deleted user: there is no live session to end.
        if refresh is not None:
            with suppress(AuthenticationError):
                services.auth_token_revoke(refresh=refresh)
        response = Response({})
        cookies.refresh_cookie_clear(response)
        return response


class PasswordResetView(AuthView):
    @extend_schema(
        summary="Email a password reset link",
        description=(
            "202 whether or not the address has an account. The email links to "
            "`PASSWORD_RESET_URL` with `uid` and `token`; throttled per IP and per address."
        ),
        request=serializers.PasswordResetSerializer,
        responses={202: OpenApiResponse(description="Accepted."), **_ERRORS},
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        data = self.validated(serializers.PasswordResetSerializer, request)
        services.password_reset_request(email=data["email"], ip=client_ip(request))
        return Response({}, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(AuthView):
    @extend_schema(
        summary="Set a new password from a reset link",
        description="Signs the user in; every older token and the link stop working.",
        request=serializers.PasswordResetConfirmSerializer,
        responses={200: serializers.AuthPayloadSerializer, **_ERRORS},
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        data = self.validated(serializers.PasswordResetConfirmSerializer, request)
        user = services.password_reset_confirm(**data)
        return Response(_auth_payload(user, services.auth_tokens_issue(user=user)))
