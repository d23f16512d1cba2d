"""Playwright on Debian's Chromium (no browser download: executable_path)."""

import os

import pytest

CHROMIUM = os.environ.get("QQH_TEST_CHROMIUM") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def need_browser():
    if not CHROMIUM:
        if os.environ.get("CI"):
            pytest.fail("CI needs Chromium for the browser tests (bin/test installs Debian's chromium)")
        pytest.skip("no Chromium: set QQH_TEST_CHROMIUM or install Debian's chromium")


@pytest.fixture(scope="session")
def browser():
    need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def login(page, base, username, password):
    page.goto(base + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_load_state()


def wait_for_options(page, count: int, timeout: int = 10000) -> None:
    """Wait until a select2 picker shows ``count`` answers (not its "Searching…" line)."""
    page.wait_for_function(
        "!document.querySelector('.select2-results__option.loading-results')"
        f" && document.querySelectorAll('.select2-results__option').length === {count}",
        timeout=timeout,
    )
