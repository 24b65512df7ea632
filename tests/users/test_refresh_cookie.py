"""The optional httpOnly refresh cookie for web apps (/api/auth/cookie/): flags, rotation and
reuse detection, logout, the Origin (CSRF) check, CORS credentials, and the OpenAPI document."""

from __future__ import annotations

from http.cookies import Morsel
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from tests.conftest import GraphQLClient
from tests.factories import PASSWORD

APP = "https://app.example.com"
OWN = "http://testserver"  # the test client's own origin
COOKIE = "movierec_refresh"
ME = "{ me { username } }"


@pytest.fixture(autouse=True)
def _app_allowed(settings: Any) -> None:
    settings.CORS_ALLOWED_ORIGINS = [APP]


def _post(client: Client, path: str, data: dict | None = None, origin: str | None = APP) -> Any:
    headers = {"HTTP_ORIGIN": origin} if origin else {}
    return client.post(
        f"/api/auth/cookie/{path}", data=data or {}, content_type="application/json", **headers
    )


def _sign_in(client: Client, user: Any, origin: str | None = APP) -> Any:
    return _post(client, "token/", {"username": user.username, "password": PASSWORD}, origin)


def _cookie(response: Any) -> Morsel:
    return response.cookies[COOKIE]


def _reason(response: Any) -> tuple[str, str | None]:
    extensions = response.json()["errors"][0]["extensions"]
    return extensions["code"], extensions.get("reason")


def test_sign_in_sets_an_httponly_secure_samesite_cookie_scoped_to_the_refresh_path(
    user: Any,
) -> None:
    response = _sign_in(Client(), user)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "user"}  # the refresh token never reaches script
    assert body["user"]["username"] == user.username
    cookie = _cookie(response)
    assert cookie.value.count(".") == 2  # a JWT
    assert cookie["httponly"] is True
    assert cookie["secure"] is True
    assert cookie["samesite"] == "Strict"
    assert cookie["path"] == "/api/auth/cookie/"
    assert cookie["max-age"] == 14 * 86400
    assert GraphQLClient(body["access"]).data(ME) == {"me": {"username": user.username}}


def test_refresh_rotates_the_cookie_and_a_replayed_one_ends_the_session(user: Any) -> None:
    client = Client()
    first = _cookie(_sign_in(client, user)).value
    refreshed = _post(client, "refresh/")
    assert refreshed.status_code == 200
    assert set(refreshed.json()) == {"access"}
    second = _cookie(refreshed).value
    assert second != first
    assert GraphQLClient(refreshed.json()["access"]).data(ME) == {"me": {"username": user.username}}

    # A stolen copy of the first cookie, replayed after the rotation (Bearer flow's rule).
    thief = Client()
    thief.cookies[COOKIE] = first
    replay = _post(thief, "refresh/")
    assert replay.status_code == 401
    assert _reason(replay) == ("UNAUTHENTICATED", "blacklisted")
    assert _cookie(replay).value == ""  # cleared
    # The owner's newer cookie dies with the session, and is cleared too.
    owner = _post(client, "refresh/")
    assert owner.status_code == 401
    assert _reason(owner) == ("UNAUTHENTICATED", "revoked")
    assert _cookie(owner).value == ""
    assert GraphQLClient(refreshed.json()["access"]).raw(ME).status_code == 401


def test_refresh_without_a_cookie_or_with_a_bad_one_is_401(db: Any) -> None:
    missing = _post(Client(), "refresh/")
    assert missing.status_code == 401
    assert _reason(missing) == ("UNAUTHENTICATED", "missing")
    forged = Client()
    forged.cookies[COOKIE] = "not.a.token"
    bad = _post(forged, "refresh/")
    assert bad.status_code == 401
    assert _reason(bad) == ("UNAUTHENTICATED", "invalid")
    assert _cookie(bad).value == ""


def test_logout_ends_the_session_and_clears_the_cookie(user: Any) -> None:
    client = Client()
    access = _sign_in(client, user).json()["access"]
    logout = _post(client, "logout/")
    assert logout.status_code == 200
    cleared = _cookie(logout)
    assert cleared.value == "" and cleared["max-age"] == 0
    assert cleared["path"] == "/api/auth/cookie/"
    assert GraphQLClient(access).raw(ME).status_code == 401  # the session's access tokens too
    assert _post(client, "refresh/").status_code == 401
    assert _post(client, "logout/").status_code == 200  # again, without a cookie: still fine


@pytest.mark.parametrize("path", ["token/", "refresh/", "logout/"])
@pytest.mark.parametrize("origin", [None, "https://evil.example.net", "null"])
def test_every_cookie_endpoint_refuses_a_missing_or_foreign_origin(
    user: Any, path: str, origin: str | None
) -> None:
    client = Client()
    _sign_in(client, user)
    before = client.cookies[COOKIE].value
    refused = _post(client, path, {"username": user.username, "password": PASSWORD}, origin)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert COOKIE not in refused.cookies  # nothing set, rotated or cleared
    assert _post(client, "refresh/").status_code == 200  # the session is untouched
    assert client.cookies[COOKIE].value != before


def test_the_apis_own_origin_is_allowed(user: Any, settings: Any) -> None:
    settings.CORS_ALLOWED_ORIGINS = []
    client = Client()
    assert _sign_in(client, user, origin=OWN).status_code == 200
    assert _post(client, "refresh/", origin=OWN).status_code == 200
    assert _sign_in(Client(), user, origin=APP).status_code == 403


def test_cookie_flags_follow_the_settings(user: Any, settings: Any) -> None:
    settings.AUTH_COOKIE_SECURE = False  # plain-http development
    settings.AUTH_COOKIE_SAMESITE = "Lax"
    cookie = _cookie(_sign_in(Client(), user))
    assert cookie["secure"] == "" and cookie["samesite"] == "Lax" and cookie["httponly"] is True


def _preflight(path: str, origin: str) -> Any:
    return Client().options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )


def test_cors_credentials_only_on_the_cookie_paths_and_only_for_allowed_origins(db: Any) -> None:
    granted = _preflight("/api/auth/cookie/refresh/", APP)
    assert granted["Access-Control-Allow-Origin"] == APP
    assert granted["Access-Control-Allow-Credentials"] == "true"
    foreign = _preflight("/api/auth/cookie/refresh/", "https://evil.example.net")
    assert "Access-Control-Allow-Origin" not in foreign
    assert "Access-Control-Allow-Credentials" not in foreign
    for path in ("/graphql/", "/api/auth/token/refresh/"):
        bearer = _preflight(path, APP)
        assert bearer["Access-Control-Allow-Origin"] == APP
        assert "Access-Control-Allow-Credentials" not in bearer


def test_the_openapi_document_describes_the_cookie_flow_and_validates(
    db: Any, tmp_path: Path
) -> None:
    schema = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    refresh = schema["paths"]["/api/auth/cookie/refresh/"]["post"]
    assert any(p["in"] == "cookie" and p["name"] == COOKIE for p in refresh["parameters"])
    assert {"200", "401", "403"} <= set(refresh["responses"])
    assert {"/api/auth/cookie/token/", "/api/auth/cookie/logout/"} <= set(schema["paths"])
    # drf-spectacular's own OpenAPI 3 validation, warnings as errors.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yaml"))
