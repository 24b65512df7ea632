"""REST sign-in for mobile (/api/auth/), OpenAPI, and one token system with GraphQL."""

from __future__ import annotations

from typing import Any

from django.test import Client

from tests.conftest import GraphQLClient
from tests.factories import PASSWORD
from tests.users.conftest import STRONG_PASSWORD

ME = "{ me { username email } }"


def _post(path: str, data: dict[str, Any]) -> Any:
    return Client().post(f"/api/auth/{path}", data=data, content_type="application/json")


def test_register_login_refresh_verify_blacklist(db: Any) -> None:
    registered = _post(
        "register/", {"username": "morpheus", "email": "m@zion.org", "password": STRONG_PASSWORD}
    )
    assert registered.status_code == 201
    assert registered.json()["user"]["username"] == "morpheus"

    login = _post("token/", {"username": "M@ZION.org", "password": STRONG_PASSWORD})
    assert login.status_code == 200
    tokens = login.json()
    assert set(tokens) == {"access", "refresh", "user"}

    refreshed = _post("token/refresh/", {"refresh": tokens["refresh"]})
    assert refreshed.status_code == 200
    new = refreshed.json()
    assert set(new) == {"access", "refresh"}
    assert _post("token/verify/", {"token": new["access"]}).status_code == 200
    assert _post("token/blacklist/", {"refresh": new["refresh"]}).status_code == 200
    assert _post("token/refresh/", {"refresh": new["refresh"]}).status_code == 401
    assert _post("token/verify/", {"token": new["access"]}).status_code == 401


def test_reusing_a_rotated_refresh_token_ends_the_session(db: Any) -> None:
    _post("register/", {"username": "trinity", "email": "t@zion.org", "password": STRONG_PASSWORD})
    tokens = _post("token/", {"username": "trinity", "password": STRONG_PASSWORD}).json()
    new = _post("token/refresh/", {"refresh": tokens["refresh"]}).json()

    # Issue 11 (reuse detection): the replay is refused and ends the session family.
    assert _post("token/refresh/", {"refresh": tokens["refresh"]}).status_code == 401
    assert _post("token/verify/", {"token": new["access"]}).status_code == 401
    assert _post("token/refresh/", {"refresh": new["refresh"]}).status_code == 401


def test_a_token_from_rest_is_accepted_by_graphql(user: Any) -> None:
    tokens = _post("token/", {"username": user.username, "password": PASSWORD}).json()
    assert GraphQLClient(tokens["access"]).data(ME) == {
        "me": {"username": user.username, "email": user.email}
    }


def test_a_token_from_graphql_is_refreshed_by_rest(user: Any) -> None:
    from tests.users.conftest import login

    tokens = login(user.username)
    assert _post("token/refresh/", {"refresh": tokens["refresh"]}).status_code == 200


def test_errors_have_the_graphql_shape(user: Any) -> None:
    bad_login = _post("token/", {"username": user.username, "password": "wrong"})
    assert bad_login.status_code == 401
    assert bad_login.json() == {
        "errors": [
            {
                "message": "No active account found with the given credentials.",
                "extensions": {"code": "UNAUTHENTICATED", "reason": "credentials"},
            }
        ]
    }

    missing = _post("token/", {"username": user.username})
    assert missing.status_code == 400
    assert missing.json() == {
        "errors": [
            {
                "message": "This field is required.",
                "extensions": {"code": "BAD_USER_INPUT", "field": "password"},
            }
        ]
    }

    taken = _post(
        "register/", {"username": user.username.upper(), "email": "x@y.org", "password": "1"}
    )
    assert taken.status_code == 400
    errors = taken.json()["errors"]
    assert [e["extensions"]["field"] for e in errors] == ["username", "password"]
    assert errors[0]["message"] == "A user with that username already exists."

    forged = _post("token/verify/", {"token": "a.b.c"})
    assert forged.status_code == 401
    assert forged.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_old_tokens_die_on_rest_after_password_change(user: Any) -> None:
    from users.services import user_password_change

    tokens = _post("token/", {"username": user.username, "password": PASSWORD}).json()
    user_password_change(user=user, old_password=PASSWORD, new_password=STRONG_PASSWORD)

    assert _post("token/refresh/", {"refresh": tokens["refresh"]}).status_code == 401
    assert _post("token/verify/", {"token": tokens["access"]}).status_code == 401


def test_openapi_document_and_swagger_ui(db: Any) -> None:
    schema = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    document = schema.json()
    assert document["openapi"].startswith("3.")
    assert {
        "/api/auth/register/",
        "/api/auth/token/",
        "/api/auth/token/refresh/",
        "/api/auth/token/verify/",
        "/api/auth/token/blacklist/",
    } <= set(document["paths"])
    login = document["paths"]["/api/auth/token/"]["post"]
    assert {"200", "400", "401", "429"} <= set(login["responses"])

    docs = Client().get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
