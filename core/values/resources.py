"""Where the app's own files are: the same code runs from a checkout
(editable install, PYTHONPATH) and from an installed wheel.

The repository keeps ``migrations/``, ``translations/`` and ``data/`` at its
top level; a built package carries them as ``core/_bundled/<name>``
(setup.py). Instance data (database, secret key, pending uploads) never goes
here: see :func:`default_instance_path`."""

from __future__ import annotations

import os

CORE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # core/, above values/
ROOT_DIR = os.path.dirname(CORE_DIR)
BUNDLE_DIR = os.path.join(CORE_DIR, "_bundled")


def bundled(name: str) -> str:
    """Folder ``name`` of the installed package, or of the checkout."""
    installed = os.path.join(BUNDLE_DIR, name)
    if os.path.isdir(installed):
        return installed
    return os.path.join(ROOT_DIR, name)


MIGRATIONS_DIR = bundled("migrations")
TRANSLATIONS_DIR = bundled("translations")
DATA_DIR = bundled("data")


def default_instance_path() -> str:
    """QQH_INSTANCE_PATH, else ``instance/`` in the current directory (never
    inside site-packages)."""
    return os.environ.get("QQH_INSTANCE_PATH") or os.path.join(os.getcwd(), "instance")
