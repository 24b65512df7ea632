"""GraphiQL and Swagger UI reference only our own static files, byte-identical to the pins."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from movierec.graphql.views import MovierecGraphQLView

# (static path, the GraphQLView attribute holding graphene-django's SRI pin)
VENDORED = [
    ("whatwg-fetch-{whatwg_fetch_version}/fetch.umd.js", "whatwg_fetch_sri"),
    ("react-{react_version}/react.production.min.js", "react_sri"),
    ("react-{react_version}/react-dom.production.min.js", "react_dom_sri"),
    ("graphiql-{graphiql_version}/graphiql.min.js", "graphiql_sri"),
    ("graphiql-{graphiql_version}/graphiql.min.css", "graphiql_css_sri"),
    (
        "graphql-ws-{subscriptions_transport_ws_version}/graphql-ws.min.js",
        "subscriptions_transport_ws_sri",
    ),
    (
        "graphiql-plugin-explorer-{graphiql_plugin_explorer_version}/graphiql-plugin-explorer.umd.js",
        "graphiql_plugin_explorer_sri",
    ),
    (
        "graphiql-plugin-explorer-{graphiql_plugin_explorer_version}/style.css",
        "graphiql_plugin_explorer_css_sri",
    ),
]


@pytest.mark.parametrize(("template", "sri_attr"), VENDORED)
def test_vendored_file_matches_graphene_djangos_pin(template: str, sri_attr: str) -> None:
    view = MovierecGraphQLView
    path = finders.find("movierec/vendor/" + template.format(**vars(view) | _versions(view)))
    assert path, f"missing vendored asset for {template}"
    with open(path, "rb") as fh:
        digest = base64.b64encode(hashlib.sha256(fh.read()).digest()).decode()
    assert f"sha256-{digest}" == getattr(view, sri_attr)


def _versions(view: type) -> dict[str, str]:
    names = (
        "whatwg_fetch_version",
        "react_version",
        "graphiql_version",
        "subscriptions_transport_ws_version",
        "graphiql_plugin_explorer_version",
    )
    return {name: getattr(view, name) for name in names}


def _external_urls(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="(https?://[^"]+)"', html)


def test_graphiql_page_loads_nothing_from_other_hosts(settings: Any, db: Any) -> None:
    settings.GRAPHIQL_ENABLED = True
    response = Client().get("/graphql/", HTTP_ACCEPT="text/html")
    html = response.content.decode()
    assert response.status_code == 200
    assert "/static/movierec/vendor/graphiql-2.4.7/graphiql.min.js" in html
    assert _external_urls(html) == []


def test_graphiql_follows_debug_unless_set(settings: Any, db: Any) -> None:
    settings.GRAPHIQL_ENABLED = None
    settings.DEBUG = False
    response = Client().get("/graphql/", HTTP_ACCEPT="text/html")
    assert response.status_code == 400  # no page, no query: a plain GraphQL request
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    settings.DEBUG = True
    assert b"graphiql.min.js" in Client().get("/graphql/", HTTP_ACCEPT="text/html").content


def test_swagger_ui_is_served_from_the_sidecar(db: Any) -> None:
    response = Client().get("/api/docs/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert _external_urls(html) == []
