"""A web app on another origin keeps its refresh token in the API's httpOnly cookie: it signs in,
survives a page reload by refreshing from the cookie, queries GraphQL and logs out, in Chromium.

The app and the API are two origins of one site (``localhost`` on two ports), as an app at
``app.example.com`` calling ``api.example.com`` is, so the default ``SameSite=Strict`` and
``Secure`` cookie works (Chromium treats ``http://localhost`` as a secure context).
"""

from __future__ import annotations

import json
from typing import Any

from tests.factories import PASSWORD, UserFactory

APP = """<!doctype html>
<html><body><pre id="result">pending</pre>
<script>
  const api = new URLSearchParams(location.search).get("api");
  let access = null;  // in memory only: a reload loses it, the cookie does not
  async function auth(path, body) {
    const response = await fetch(api + "/api/auth/cookie/" + path, {
      method: "POST", credentials: "include",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify(body || {}),
    });
    return {status: response.status, body: await response.json()};
  }
  async function me() {
    const response = await fetch(api + "/graphql/", {
      method: "POST",
      headers: {"Content-Type": "application/json", Authorization: "Bearer " + access},
      body: JSON.stringify({query: "{ me { username } }"}),
    });
    return {status: response.status, body: await response.json()};
  }
  async function firstVisit() {
    const signIn = await auth("token/", {username: "switch", password: "%(password)s"});
    access = signIn.body.access;
    sessionStorage.setItem("signedIn", "yes");
    return {signIn: {status: signIn.status, keys: Object.keys(signIn.body).sort()},
            me: await me(), scriptCookies: document.cookie};
  }
  async function afterReload() {
    const lostAccess = access === null;
    const refreshed = await auth("refresh/");
    access = refreshed.body.access;
    const meNow = await me();
    const logout = await auth("logout/");
    const afterLogout = await auth("refresh/");
    return {lostAccess, refreshed: {status: refreshed.status, keys: Object.keys(refreshed.body)},
            me: meNow, logout: logout.status, afterLogout,
            meAfterLogout: (await me()).status};
  }
  (async () => {
    try {
      const result = sessionStorage.getItem("signedIn") ? await afterReload() : await firstVisit();
      document.getElementById("result").textContent = JSON.stringify(result);
    } catch (error) {
      document.getElementById("result").textContent = "error: " + error;
    }
  })();
</script></body></html>
"""


def _result(page: Any) -> dict:
    page.wait_for_function("document.getElementById('result').textContent !== 'pending'")
    text = page.text_content("#result")
    assert not text.startswith("error"), text
    return json.loads(text)


def test_web_app_signs_in_with_the_cookie_refreshes_after_a_reload_and_queries(
    live_server: Any, page_server: Any, settings: Any, browser_page: Any, transactional_db: Any
) -> None:
    UserFactory(username="switch")
    app = page_server(APP % {"password": PASSWORD}).replace("127.0.0.1", "localhost")
    api = live_server.url
    assert api.startswith("http://localhost:") and app.rstrip("/") != api  # two origins
    settings.CORS_ALLOWED_ORIGINS = [app.rstrip("/")]

    with browser_page() as page:
        page.goto(f"{app}?api={api}")
        first = _result(page)
        cookies = {c["name"]: c for c in page.context.cookies(f"{api}/api/auth/cookie/")}
        page.reload()
        second = _result(page)
        after_logout = {c["name"] for c in page.context.cookies(f"{api}/api/auth/cookie/")}

    assert first["signIn"] == {"status": 200, "keys": ["access", "user"]}
    assert first["me"] == {"status": 200, "body": {"data": {"me": {"username": "switch"}}}}
    assert first["scriptCookies"] == ""  # nothing of the session is readable by script
    cookie = cookies["movierec_refresh"]
    assert cookie["httpOnly"] is True and cookie["secure"] is True
    assert cookie["sameSite"] == "Strict" and cookie["path"] == "/api/auth/cookie/"

    assert second["lostAccess"] is True
    assert second["refreshed"] == {"status": 200, "keys": ["access"]}
    assert second["me"] == {"status": 200, "body": {"data": {"me": {"username": "switch"}}}}
    assert second["logout"] == 200
    assert second["afterLogout"]["status"] == 401
    assert second["afterLogout"]["body"]["errors"][0]["extensions"]["reason"] == "missing"
    assert second["meAfterLogout"] == 401  # logout ended the session's access tokens too
    assert "movierec_refresh" not in after_logout


def test_an_app_on_an_origin_not_allowed_gets_no_cookie_session(
    live_server: Any, page_server: Any, settings: Any, browser_page: Any, transactional_db: Any
) -> None:
    UserFactory(username="switch")
    app = page_server(APP % {"password": PASSWORD}).replace("127.0.0.1", "localhost")
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]

    with browser_page() as page:
        page.goto(f"{app}?api={live_server.url}")
        page.wait_for_function("document.getElementById('result').textContent !== 'pending'")
        text = page.text_content("#result")
        cookies = page.context.cookies()

    assert text == "error: TypeError: Failed to fetch"  # CORS blocks the read
    assert cookies == []  # and the Origin check refused it server-side: no cookie was set
