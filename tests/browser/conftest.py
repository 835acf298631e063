"""Browser harness: the real app served on 127.0.0.1, driven by Playwright in Debian's Chromium.

No browser is downloaded: Playwright launches /usr/bin/chromium (apt package ``chromium``).
Screenshots land in instance/screenshots/ (git-ignored) for people to look at.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "instance" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class InFlight:
    """The app, counting the requests the server is still answering: a page's last request (an
    autosave) may still be writing after the browser closed, and must finish before the test's
    rows are wiped."""

    def __init__(self, app: Flask) -> None:
        self.app, self.count, self.lock = app, 0, threading.Lock()

    def __call__(self, environ: Any, start_response: Any) -> Any:
        with self.lock:
            self.count += 1
        try:
            body = self.app(environ, start_response)
        except BaseException:
            self.done()
            raise
        return _Counted(body, self.done)  # streamed as it comes; done when the server closes it

    def done(self) -> None:
        with self.lock:
            self.count -= 1

    def wait_idle(self, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while self.count and time.monotonic() < deadline:
            time.sleep(0.02)


class _Counted:
    """A response body that tells its ``InFlight`` when the server has closed it (WSGI)."""

    def __init__(self, body: Any, done: Any) -> None:
        self.body, self._done, self.closed = body, done, False

    def __iter__(self) -> Any:
        return iter(self.body)

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            if not self.closed:
                self.closed = True
                self._done()


SERVED: list[InFlight] = []


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[str]:
    """The session's app served by a real HTTP server on a free loopback port."""
    served = InFlight(app)
    SERVED.append(served)
    server = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "install Debian's chromium (bash .ci/setup --with-browser)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def page(browser: Browser, live_server: str, db: object) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    for served in SERVED:  # the requests the page sent last are answered before the wipe
        served.wait_idle()
    assert not errors, f"the browser reported errors: {errors}"


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page: Page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    # The page it lands on, loaded with its styles and scripts (a busy machine is slow to).
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Log in").click()
