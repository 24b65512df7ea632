"""CORS: real preflights and simple requests against the GraphQL and REST endpoints."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

APP = "https://app.example.com"


@pytest.fixture
def cors(settings: Any) -> Any:
    settings.CORS_ALLOWED_ORIGINS = [APP]
    return settings


def _preflight(path: str, origin: str, headers: str = "authorization, content-type") -> Any:
    return Client().options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=headers,
    )


@pytest.mark.parametrize("path", ["/graphql/", "/api/auth/token/", "/api/auth/token/refresh/"])
def test_preflight_from_an_allowed_origin_is_answered(cors: Any, db: Any, path: str) -> None:
    response = _preflight(path, APP)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == APP
    allowed_headers = {h.strip() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed_headers
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert int(response["Access-Control-Max-Age"]) == 86400
    # Bearer tokens, not cookies: browsers must not send credentials.
    assert "Access-Control-Allow-Credentials" not in response


def test_preflight_from_another_origin_gets_no_grant(cors: Any, db: Any) -> None:
    response = _preflight("/graphql/", "https://evil.example.net")
    assert "Access-Control-Allow-Origin" not in response


def test_no_origin_is_allowed_unless_configured(settings: Any, db: Any) -> None:
    settings.CORS_ALLOWED_ORIGINS = []
    assert "Access-Control-Allow-Origin" not in _preflight("/graphql/", APP)


def test_cross_origin_post_carries_the_grant_on_success_and_on_errors(
    cors: Any, api_client: Any
) -> None:
    ok = api_client.raw("{ genres { name } }", HTTP_ORIGIN=APP)
    assert ok.status_code == 200
    assert ok["Access-Control-Allow-Origin"] == APP
    # A 401 must be readable by the page too, or it cannot tell "refresh your token".
    refused = api_client.raw("{ me { username } }", HTTP_ORIGIN=APP, HTTP_AUTHORIZATION="Bearer x")
    assert refused.status_code == 401
    assert refused["Access-Control-Allow-Origin"] == APP


def test_other_paths_never_get_cors_headers(cors: Any, db: Any) -> None:
    response = Client().get("/healthz", HTTP_ORIGIN=APP)
    assert "Access-Control-Allow-Origin" not in response


def test_local_settings_allow_the_usual_dev_servers(monkeypatch: Any) -> None:
    import importlib

    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "https://staging.example.com")
    import movierec.settings.local as local

    local = importlib.reload(local)
    assert "https://staging.example.com" in local.CORS_ALLOWED_ORIGINS
    assert {"http://localhost:5173", "http://localhost:3000", "http://127.0.0.1:4200"} <= set(
        local.CORS_ALLOWED_ORIGINS
    )
