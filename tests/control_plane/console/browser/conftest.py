"""Real headless Chromium (Debian's, never a downloaded one) driven by Playwright against live_server."""

import os
from pathlib import Path

import pytest
from django.db import connections

ROOT = Path(__file__).resolve().parents[4]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="session")
def chromium(django_db_setup, django_db_blocker):
    """One browser for the session.

    Playwright's sync API keeps an event loop running in this thread, which Django takes for an
    async context; the tests' own ORM calls are plain synchronous code, so that check is relaxed
    while the browser runs.
    """
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
            # The tests after a Playwright call run with its event loop set in this thread, so
            # Django kept their connections apart from its synchronous ones. Closed here, while
            # they are still the ones in reach; left open, they keep the test database from being
            # dropped ("being accessed by other users").
            connections.close_all()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(chromium):
    """Opens pages in fresh contexts (own cookies) at a named viewport; closes them after the test."""
    contexts = []

    def make(viewport: str = "desktop"):
        context = chromium.new_context(viewport=VIEWPORTS[viewport])
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot(new_page):
    """Saves a full-page screenshot of ``path`` at desktop and phone widths, signed in via ``cookies``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str, url: str | None = None) -> None:
        cookies = page.context.cookies()
        for viewport in VIEWPORTS:
            shot = new_page(viewport)
            shot.context.add_cookies(cookies)
            shot.goto(url or page.url)
            shot.wait_for_load_state("networkidle")
            shot.screenshot(path=str(SCREENSHOTS / f"{name}-{viewport}.png"), full_page=True)

    return take


def sign_in(page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/console/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")


@pytest.fixture
def celery_worker(live_server, start_celery_worker, settings):
    """A real Celery worker process on this run's Redis db and test database; its hostname.

    It consumes the run's broker queue, so run the browser tests on a Redis db of their own
    (REDIS_URL), never one a development worker uses.
    """
    worker = start_celery_worker(
        "console-test",
        queues=["provisioning", "orders", "webhooks"],
        pool="solo",
        env={
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        },
    )
    return worker.hostname
