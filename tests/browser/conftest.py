"""Browser fixtures: the app served on 127.0.0.1 (werkzeug, in a thread) over the real-LA
database, and headless Debian Chromium through Playwright, every non-local request blocked."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@dataclass
class PageWatch:
    """What a page did that a test may want to refuse: console errors and off-host requests."""

    console_errors: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def live_server(la_db_url: str) -> Iterator[str]:
    """The app on the LA database, served on 127.0.0.1 on a free port; yields the base URL."""
    from werkzeug.serving import make_server

    from geo311 import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": la_db_url})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        engine = app.extensions.pop("geo311_engine", None)
        if engine is not None:
            engine.dispose()


@pytest.fixture
def watch() -> PageWatch:
    return PageWatch()


@pytest.fixture
def browser_context(chromium_browser, watch: PageWatch):
    """A fresh context (English, 1280x900) that aborts and records any request off 127.0.0.1."""
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 900},
                                           locale="en-US")

    def gate(route) -> None:
        url = route.request.url
        if urlsplit(url).scheme in ("data", "blob") or urlsplit(url).hostname == "127.0.0.1":
            route.continue_()
        else:
            watch.external_requests.append(url)
            route.abort()

    context.route("**/*", gate)
    yield context
    context.close()


@pytest.fixture
def page(browser_context, watch: PageWatch):
    """A page whose console errors and uncaught exceptions land in ``watch``."""
    page = browser_context.new_page()
    page.set_default_timeout(10_000)
    page.on("console", lambda msg: msg.type == "error" and watch.console_errors.append(msg.text))
    page.on("pageerror", lambda exc: watch.console_errors.append(str(exc)))
    yield page
    page.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """``test-artifacts/`` (gitignored) for screenshots."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


DISPATCHER = ("dispatch-test", "correct horse battery staple")


def _run_cli(la_db_url: str, args: list[str], stdin: str | None = None) -> None:
    """Run one ``geo311`` command against the LA test database; it must succeed."""
    from geo311 import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": la_db_url})
    result = app.test_cli_runner().invoke(args=args, input=stdin)
    engine = app.extensions.pop("geo311_engine", None)
    if engine is not None:
        engine.dispose()
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="session")
def dispatcher_account(la_db_url: str) -> tuple[str, str]:
    """A dispatcher login in the LA test database (the dispatcher page is staff only)."""
    _run_cli(la_db_url, ["users", "add", DISPATCHER[0], "--role", "dispatcher", "--password-stdin"],
             stdin=DISPATCHER[1] + "\n")
    return DISPATCHER


@pytest.fixture(scope="session")
def request_catalogue(la_db_url: str) -> None:
    """The request types in the LA test database (the reference load does not sync them)."""
    _run_cli(la_db_url, ["catalogue", "sync", "--dir", str(ROOT / "data" / "catalogue")])


@pytest.fixture
def sign_in(live_server: str, dispatcher_account: tuple[str, str]):
    """``sign_in(page, next_path)``: sign in as the dispatcher through the login form."""

    def go(page, next_path: str) -> None:
        page.goto(f"{live_server}/login?next={next_path}")
        page.get_by_label("Name").fill(dispatcher_account[0])
        page.get_by_label("Password").fill(dispatcher_account[1])
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server}{next_path}")

    return go
