"""Packaging. The metadata lives in setup.cfg; this file only bundles the
repository's top-level folders ``migrations/``, ``translations/`` and
``data/`` into the built package as ``core/_bundled/<folder>`` (a wheel,
``pip install .``). ``core.values.resources`` finds them there when installed, or
at the top of the checkout (editable install, PYTHONPATH)."""

import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

BUNDLED = ("migrations", "translations", "data")
HERE = os.path.dirname(os.path.abspath(__file__))


class build_py_with_bundle(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout's folders
        for name in BUNDLED:
            dst = os.path.join(self.build_lib, "core", "_bundled", name)
            shutil.rmtree(dst, ignore_errors=True)
            shutil.copytree(
                os.path.join(HERE, name), dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )


setup(cmdclass={"build_py": build_py_with_bundle})
