"""The optional httpOnly refresh cookie of web apps: set, read, clear, and its CSRF check.

The refresh token then never reaches JavaScript: the cookie is ``HttpOnly``, ``Secure``
(``AUTH_COOKIE_SECURE``), ``SameSite`` (``AUTH_COOKIE_SAMESITE``) and scoped to
``AUTH_COOKIE_PATH``, so the browser sends it to the cookie endpoints only, never to
``/graphql/``. The access token still travels as ``Authorization: Bearer``.

CSRF: a cookie is sent by the browser on its own, so every cookie endpoint first checks the
request's ``Origin`` against the API's own origin and ``CORS_ALLOWED_ORIGINS``. Why not
Django's CSRF token (double submit): the app runs on another origin, where script cannot read
a cookie of the API's host, so it would need a token endpoint of its own plus a second cookie
with the same cross-site settings; the ``Origin`` header is set by the browser, cannot be
changed by page script, is sent on every cross-origin request and on same-origin POSTs, and
``CORS_ALLOWED_ORIGINS`` is already the list of trusted front ends. A request without
``Origin`` is refused (fail closed): only non-browser clients omit it, and they have the Bearer
flow. SameSite is a second layer, not the defence.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from rest_framework.exceptions import PermissionDenied


def origin_check(request: HttpRequest) -> None:
    """Refuse (403 FORBIDDEN) a request whose ``Origin`` is not ours or an allowed front end."""
    origin = request.headers.get("Origin")
    own = f"{request.scheme}://{request.get_host()}"
    if not origin or (origin != own and origin not in settings.CORS_ALLOWED_ORIGINS):
        raise PermissionDenied("Origin not allowed for the refresh cookie.")


def refresh_cookie_read(request: HttpRequest) -> str | None:
    return request.COOKIES.get(settings.AUTH_COOKIE_NAME) or None


def refresh_cookie_set(response: HttpResponseBase, refresh: str) -> None:
    """Hand the refresh token to the browser, which keeps it out of script's reach."""
    response.set_cookie(
        settings.AUTH_COOKIE_NAME,
        refresh,
        max_age=int(settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"].total_seconds()),
        path=settings.AUTH_COOKIE_PATH,
        domain=settings.AUTH_COOKIE_DOMAIN,
        secure=settings.AUTH_COOKIE_SECURE,
        httponly=True,
        samesite=settings.AUTH_COOKIE_SAMESITE,
    )


def refresh_cookie_clear(response: HttpResponseBase) -> None:
    response.delete_cookie(
        settings.AUTH_COOKIE_NAME,
        path=settings.AUTH_COOKIE_PATH,
        domain=settings.AUTH_COOKIE_DOMAIN,
        samesite=settings.AUTH_COOKIE_SAMESITE,
    )
