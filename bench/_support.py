"""What the benchmarks and the tests both need, with no test framework:
an app on a fresh SQLite or PostgreSQL database, the unit tree and users
loaded as `qqh init` loads them, and a live HTTP server in a thread.

The bench scripts import this module (they must run without pytest or
requests installed); tests/conftest.py imports it too, so both build the
app the same way.
"""

from __future__ import annotations

import os
import tempfile
import threading
import uuid

# the benches and core's tests use core's test fixture plugin (tests/memo_plugin, no package of the
# product: added by QQH_PLUGIN_MODULES, see core/plugins.py): its notes are bench records. The reference
# plugin (plugins/sample) is not theirs: it may change freely and has its own tests.
os.environ.setdefault("QQH_PLUGIN_MODULES", "memo=tests.memo_plugin")
os.environ.setdefault("QQH_PLUGINS", "cultivation,homes,memo,training")

# one implementation for the benchmarks, core's tests and plugins' tests (core.testing imports no test framework)
from core.testing.support import PASSWORD, USERS, LiveServer, fresh_database, initialise, make_app  # noqa: E402,F401
