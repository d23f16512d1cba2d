"""core.testing's fixtures for every test of this checkout, core's (tests/) and the plugins'
(plugins/NAME/tests/). The pytest plugin core.testing.plugin gives them wherever core is installed (entry
point pytest11); importing them here, once, makes them present on a checkout not installed again, and one
definition for both folders — a conftest serves its own folder, so a copy in tests/conftest.py and another in
plugins/conftest.py would each build their own session apps (~10–15 s per engine and xdist worker)."""

from core.testing.plugin import *  # noqa: F401,F403
from core.testing.plugin import pytest_sessionstart  # noqa: F401 (QQH_TEST_REQUIRE_PG without a server)
