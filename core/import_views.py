"""Import/export pages, REST endpoints and CLI commands (issue: Excel-native import and export)."""


def register(appbuilder) -> None:
    """Add the import/export pages and APIs to ``appbuilder``."""


def register_cli(cli) -> None:
    """Add ``qqh import`` / ``qqh export`` to the ``qqh`` click group."""
