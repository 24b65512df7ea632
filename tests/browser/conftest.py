"""Playwright driving the system Chrome/Chromium (``CHROMIUM_PATH``, else found on PATH).

``make test`` finds or installs the browser (tools/chromium/ensure.sh); Playwright never
downloads one. Playwright's sync API runs an event loop in this thread while it is open, so
tests prepare their database rows first and only talk to the live server through the browser.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

BROWSER_NAMES = ("google-chrome", "google-chrome-stable", "chromium", "chromium-browser", "chrome")


def chromium_path() -> str:
    """The browser the tests drive; a clear failure (never a skip) when there is none."""
    configured = os.environ.get("CHROMIUM_PATH", "")
    if configured and os.access(configured, os.X_OK):
        return configured
    for name in BROWSER_NAMES:
        if found := shutil.which(name):
            return found
    pytest.fail(
        "No Chrome/Chromium found: run the suite with `make test` (it installs one with apt "
        "when it can) or set CHROMIUM_PATH."
    )


@pytest.fixture
def browser_page() -> Callable[..., Any]:
    """``with browser_page() as page:`` a fresh page of a headless Chromium."""
    from playwright.sync_api import sync_playwright

    @contextmanager
    def open_page(**context_args: Any) -> Iterator[Any]:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium_path(),
                headless=True,
                args=["--no-sandbox", "--disable-dev-shm-usage"],
            )
            try:
                context = browser.new_context(**context_args)
                yield context.new_page()
            finally:
                browser.close()

    return open_page


class _PageHandler(BaseHTTPRequestHandler):
    html = b""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.html)))
        self.end_headers()
        self.wfile.write(self.html)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def page_server() -> Iterator[Callable[[str], str]]:
    """Serve one HTML page from its own origin (another port); returns its URL."""
    servers: list[ThreadingHTTPServer] = []

    def serve(html: str) -> str:
        handler = type("Handler", (_PageHandler,), {"html": html.encode()})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()
