"""KPI dashboard, targets, report API and the December assessment pages."""

from core.views import HomeView


class DashboardView(HomeView):
    """The landing page after login (to become the KPI dashboard)."""


def register(appbuilder) -> None:
    """Add the KPI pages and APIs to ``appbuilder``."""


def register_cli(cli) -> None:
    """Add ``qqh kpi ...`` and ``qqh targets ...`` to the ``qqh`` click group."""
