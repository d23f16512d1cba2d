"""The plugin contract (core.testing.contract) for the reference plugin: migrations, demo data, no 500, no
English, scoping — what every plugin runs (a generated one has the same two lines)."""

from core.testing import contract_tests

globals().update(contract_tests("sample"))
