"""The fixtures of core.testing for the plugins' own tests (plugins/NAME/tests/). The pytest plugin
core.testing.plugin gives them wherever core is installed (entry point pytest11); importing them here
makes them one definition for every folder below, and present on a checkout not installed again."""

from core.testing.plugin import *  # noqa: F401,F403
