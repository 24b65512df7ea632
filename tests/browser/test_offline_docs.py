"""GraphiQL and Swagger UI render and work with every request off this host blocked."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.factories import GenreFactory


def _offline(page: Any, origin: str) -> tuple[list[str], list[str]]:
    """Abort every request to another origin; collect them and the page's JavaScript errors."""
    blocked: list[str] = []
    errors: list[str] = []

    def route(route: Any) -> None:
        if route.request.url.startswith(origin + "/") or route.request.url.startswith("data:"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("internetdisconnected")

    page.route("**/*", route)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return blocked, errors


@pytest.fixture
def screenshot_dir(tmp_path: Path) -> Path:
    """Where screenshots go: ``SCREENSHOT_DIR`` to keep them for a look, else a tmp dir."""
    kept = os.environ.get("SCREENSHOT_DIR")
    path = Path(kept) if kept else tmp_path
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_graphiql_renders_and_runs_a_query_offline(
    live_server: Any, settings: Any, browser_page: Any, transactional_db: Any, screenshot_dir: Path
) -> None:
    settings.GRAPHIQL_ENABLED = True
    GenreFactory(name="Film-Noir")
    query = quote("{ genres { name } }")
    with browser_page(viewport={"width": 1280, "height": 800}) as page:
        blocked, errors = _offline(page, live_server.url)
        page.goto(f"{live_server.url}/graphql/#query={query}")
        page.wait_for_selector(".graphiql-container")
        page.click(".graphiql-execute-button")
        page.wait_for_selector(".result-window >> text=Film-Noir")
        page.screenshot(path=screenshot_dir / "graphiql.png")
        assert page.locator(".graphiql-container").is_visible()
    assert blocked == []
    assert errors == []


def test_swagger_ui_renders_offline(
    live_server: Any, browser_page: Any, transactional_db: Any, screenshot_dir: Path
) -> None:
    with browser_page(viewport={"width": 1280, "height": 800}) as page:
        blocked, errors = _offline(page, live_server.url)
        page.goto(f"{live_server.url}/api/docs/")
        page.wait_for_selector(".swagger-ui .opblock")
        page.screenshot(path=screenshot_dir / "swagger.png")
        assert page.locator(".swagger-ui .title").inner_text().startswith("movierec auth API")
        assert page.locator(".opblock-summary-path", has_text="/api/auth/token/").count() >= 1
    assert blocked == []
    assert errors == []
