"""亲青汇 platform core. Nothing in this package names a task area."""

__version__ = "0.1.0"
