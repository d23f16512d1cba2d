"""The plugin contract (core.testing.contract) for homes: migrations, demo data, no 500, no English, scoping."""

from core.testing import contract_tests

globals().update(contract_tests("homes"))
