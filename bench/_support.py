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

# the bench uses the example plugin (plugins/sample is enabled only by name): its notes are bench records
os.environ.setdefault("QQH_PLUGINS", "cultivation,homes,sample,training")

# one implementation for the benchmarks, core's tests and plugins' tests (core.testing imports no test framework)
from core.testing.support import PASSWORD, USERS, LiveServer, fresh_database, initialise, make_app  # noqa: E402,F401
