"""Tenancy: the League unit tree, the scope of a user (their subtree), unit-owned records, roles and permissions,
module switches, accounts, personal data. Imports values (the exceptions are listed in tests/test_layers.py)."""
