"""A single-page app on another origin signs in and queries the API, in Chromium."""

from __future__ import annotations

import json
from typing import Any

from tests.factories import PASSWORD, UserFactory

SPA = """<!doctype html>
<html><body><pre id="result">pending</pre>
<script>
  const api = new URLSearchParams(location.search).get("api") + "/graphql/";
  async function post(body, token) {
    const headers = {"Content-Type": "application/json"};
    if (token) headers.Authorization = "Bearer " + token;
    const response = await fetch(api, {method: "POST", headers, body: JSON.stringify(body)});
    return {status: response.status, body: await response.json()};
  }
  (async () => {
    try {
      const signIn = await post({
        query: "mutation($u: String!, $p: String!) "
          + "{ tokenAuth(username: $u, password: $p) { access } }",
        variables: {u: "trinity", p: "%(password)s"},
      });
      const me = await post(
        {query: "{ me { username } genres { name } }"}, signIn.body.data.tokenAuth.access);
      const badToken = await post({query: "{ me { username } }"}, "not-a-token");
      document.getElementById("result").textContent = JSON.stringify({me, badToken});
    } catch (error) {
      document.getElementById("result").textContent = "error: " + error;
    }
  })();
</script></body></html>
"""


def _run_spa(browser_page: Any, url: str) -> str:
    with browser_page() as page:
        page.goto(url)
        page.wait_for_function("document.getElementById('result').textContent !== 'pending'")
        return page.text_content("#result")


def test_spa_on_another_origin_signs_in_and_queries(
    live_server: Any, page_server: Any, settings: Any, browser_page: Any, transactional_db: Any
) -> None:
    UserFactory(username="trinity")
    spa = page_server(SPA % {"password": PASSWORD})
    settings.CORS_ALLOWED_ORIGINS = [spa.rstrip("/")]
    assert spa.split(":")[2] != live_server.url.split(":")[2]  # two origins

    result = json.loads(_run_spa(browser_page, f"{spa}?api={live_server.url}"))

    assert result["me"] == {
        "status": 200,
        "body": {"data": {"me": {"username": "trinity"}, "genres": []}},
    }
    # The 401 of a bad token reaches the page, so it can refresh and retry.
    assert result["badToken"]["status"] == 401
    assert result["badToken"]["body"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_origin_not_allowed_is_blocked_by_the_browser(
    live_server: Any, page_server: Any, settings: Any, browser_page: Any, transactional_db: Any
) -> None:
    UserFactory(username="trinity")
    spa = page_server(SPA % {"password": PASSWORD})
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]

    result = _run_spa(browser_page, f"{spa}?api={live_server.url}")

    assert result == "error: TypeError: Failed to fetch"
