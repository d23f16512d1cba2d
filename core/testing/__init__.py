"""``core.testing``: what a plugin's tests need (the pytest plugin ``core.testing.plugin``, entry point
``pytest11``, gives the fixtures; ``contract_tests`` the plugin contract). docs/plugins.md, "Testing".

This package imports neither pytest nor requests when imported: the benchmarks (bench/) use
``core.testing.support`` without them."""

from __future__ import annotations

from core.testing.pages import untranslated
from core.testing.support import (
    PASSWORD, TEST_PASSWORD_HASH, USERS, LiveServer, close_app, fresh_database, initialise, make_app, make_test_app,
)

__all__ = [
    "PASSWORD", "TEST_PASSWORD_HASH", "USERS", "LiveServer", "close_app", "contract_tests", "fresh_database",
    "initialise", "make_app", "make_test_app", "untranslated",
]


def contract_tests(name: str, shared_reads: tuple[str, ...] = ()) -> dict:
    """The plugin contract's tests for plugin ``name`` (core.testing.contract), for a test module's globals."""
    from core.testing.contract import contract_tests as tests

    return tests(name, shared_reads)
