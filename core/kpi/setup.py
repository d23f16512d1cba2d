"""The KPI and assessment pages and APIs added to the application."""

from __future__ import annotations




from flask_babel import lazy_gettext as _l

from core.kpi.pages import AssessmentIndicatorView, AssessmentView, CATEGORY, CATEGORY_LABEL, KpiTargetView
from core.kpi.rest import AssessmentApi, AssessmentIndicatorApi, KpiApi, KpiTargetApi

def register(appbuilder) -> None:
    """Add the KPI and assessment pages and APIs to ``appbuilder``."""
    register_kpi(appbuilder)
    register_assessment(appbuilder)


_COMMON = dict(category=CATEGORY, category_label=CATEGORY_LABEL, category_icon="fa-line-chart")


def register_kpi(appbuilder) -> None:
    """The dashboard, the targets' page and their APIs (built-in plugin ``kpi``)."""
    common = _COMMON
    appbuilder.add_link("Dashboard", href="/", label=_l("Progress dashboard"), icon="fa-dashboard", **common)
    appbuilder.add_view(KpiTargetView, "KPI targets", label=_l("KPI targets"), icon="fa-bullseye", **common)
    appbuilder.add_api(KpiApi)
    appbuilder.add_api(KpiTargetApi)


def register_assessment(appbuilder) -> None:
    """The December assessment's pages and APIs (built-in plugin ``assessment``), after the KPI ones."""
    common = _COMMON
    appbuilder.add_view(AssessmentView, "December assessment", label=_l("December assessment"), icon="fa-trophy", **common)
    appbuilder.add_view(
        AssessmentIndicatorView, "Assessment indicators", label=_l("Assessment indicators"), icon="fa-balance-scale", **common
    )
    appbuilder.add_api(AssessmentIndicatorApi)
    appbuilder.add_api(AssessmentApi)
