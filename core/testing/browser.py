"""Pages in a real browser: Playwright on Debian's Chromium (no browser download: ``executable_path``,
``QQH_TEST_CHROMIUM`` or /usr/bin/chromium), and the steps every page test takes — log in, search a
picker, choose, type a date, submit. The ``browser`` fixture (core.testing.plugin) is one Chromium for
the whole session; without Chromium its tests are skipped (failed under ``CI``). Playwright is imported
when a browser starts (the ``test`` extra)."""

from __future__ import annotations

import os
from urllib.parse import parse_qs, urlparse

import pytest

from core.testing.support import PASSWORD

__all__ = ["CHROMIUM", "choose", "launch", "login", "need_browser", "search", "submit", "type_date",
           "wait_for_options", "wait_until"]

CHROMIUM = os.environ.get("QQH_TEST_CHROMIUM") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def need_browser():
    """Skip the test without Chromium (fail it under CI, which must have one)."""
    if not CHROMIUM:
        if os.environ.get("CI"):
            pytest.fail("CI needs Chromium for the browser tests (bin/test installs Debian's chromium)")
        pytest.skip("no Chromium: set QQH_TEST_CHROMIUM or install Debian's chromium")


def launch():
    """A Chromium, as a generator that yields it and closes it (the ``browser`` fixture's body)."""
    need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def login(page, base, username, password=PASSWORD):
    """Log ``username`` in on the live server at ``base`` (the users of core.testing.USERS)."""
    page.goto(base + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_load_state()


def wait_until(page, expression: str, timeout: int = 10000):
    """Wait until the JavaScript ``expression`` (a function, "() => …") is truthy.
    Playwright's wait_for_function evaluates its predicate with eval(), which the
    pages' Content-Security-Policy forbids; page.evaluate() is not subject to it."""
    import time

    deadline = time.monotonic() + timeout / 1000
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(50)


def wait_for_options(page, count: int, timeout: int = 10000) -> None:
    """Wait until a select2 picker shows ``count`` answers (not its "Searching…" line)."""
    wait_until(
        page,
        "() => !document.querySelector('.select2-results__option.loading-results')"
        f" && document.querySelectorAll('.select2-results__option').length === {count}",
        timeout=timeout,
    )


def search(page, field: str, query: str, expected: list[str]):
    """Type ``query`` into the search-as-you-type picker of ``field`` and see
    exactly ``expected`` offered, once the server has answered the whole
    query; returns the offered options (to click one)."""
    from playwright.sync_api import expect

    page.click(f"#{field} + .select2 .select2-selection")
    box = page.locator(".select2-container--open .select2-search__field")
    box.fill("")
    with page.expect_response(lambda r: parse_qs(urlparse(r.url).query).get("q") == [query], timeout=10000) as answer:
        box.press_sequentially(query, delay=30)
    assert answer.value.status == 200
    options = page.locator(".select2-container--open .select2-results__option")
    expect(options).to_have_text(expected)
    return options


def choose(page, field: str, text: str):
    """Choose ``text`` in the drop-down (select2) of ``field``."""
    page.click(f"#{field} + .select2 .select2-selection")
    page.locator(".select2-container--open .select2-results__option", has_text=text).first.click()


def type_date(page, field: str, day: str):
    """Type a date as a user does, key by key: the date picker reads the
    field on keyup, and would clear a value that appeared without keys."""
    page.locator(f"#{field}").press_sequentially(day)


def submit(page):
    page.click("form:not(.qqh-logout) button[type=submit], form:not(.qqh-logout) input[type=submit]")
    page.wait_for_load_state()
