"""``core.testing``: what a plugin's tests need. The pytest plugin ``core.testing.plugin`` (entry point
``pytest11``, so present wherever core is installed) gives the fixtures — ``app`` on SQLite and
PostgreSQL, ``live``, ``http``, ``as_user``, ``as_token``, ``as_api_user``, ``make_user``, ``db``,
``unit_ids``, ``pages_once``, ``browser`` — and ``contract_tests`` the plugin contract
(core.testing.contract). docs/plugins.md, "Testing".

The helpers an app of a test's own needs are here too (``make_app``, ``new_database``, ``initialise``,
``LiveServer``, ``Client``, ``TokenClient``, ``ENGINES``), and small ones of any test (core.testing.helpers:
``unique``, ``create``, ``count``, ``statements_of``, ``at_once``, ``PNG``, ``unique_bytes``); the steps of a
page test in Chromium are in core.testing.browser. Importing this package imports neither pytest nor
requests (the benchmarks, bench/, use ``core.testing.support`` without them): those names are loaded when used."""

from __future__ import annotations

from core.testing.helpers import PNG, at_once, count, create, statements_of, unique, unique_bytes
from core.testing.pages import untranslated
from core.testing.support import (
    PASSWORD, TEST_PASSWORD_HASH, USERS, LiveServer, close_app, fresh_database, initialise, make_test_app,
)

make_app = make_test_app  # a test's app: the cheap password hash of the tests' users

__all__ = [
    "ENGINES", "PASSWORD", "PNG", "TEST_PASSWORD_HASH", "USERS", "Client", "LiveServer", "TokenClient", "at_once",
    "close_app", "contract_tests", "count", "create", "fresh_database", "initialise", "make_app", "make_test_app",
    "new_database", "statements_of", "unique", "unique_bytes", "untranslated",
]

_LAZY = {"Client": "core.testing.clients", "TokenClient": "core.testing.clients",
         "ENGINES": "core.testing.plugin", "new_database": "core.testing.plugin"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def contract_tests(name: str, shared_reads: tuple[str, ...] = ()) -> dict:
    """The plugin contract's tests for plugin ``name`` (core.testing.contract), for a test module's globals."""
    from core.testing.contract import contract_tests as tests

    return tests(name, shared_reads)
