"""The Excel pages and APIs added to the application."""

from __future__ import annotations




from flask import current_app
from flask_babel import lazy_gettext as _l

from core.ops import jobs


from core.excel.pages import ExcelView
from core.excel.rest import ExportApi, ImportApi, JobApi, _too_large
from core.excel.service import collect_importables, excel_links

def register(appbuilder) -> None:
    """Add the import/export pages and APIs to ``appbuilder``."""
    app = current_app._get_current_object()
    collect_importables(app)
    appbuilder.add_view(
        ExcelView,
        "Excel import and export",
        label=_l("Excel import and export"),
        icon="fa-file-excel-o",
        category="Organization",
        category_label=_l("Organization"),
    )
    appbuilder.add_api(ImportApi)
    appbuilder.add_api(ExportApi)
    appbuilder.add_api(JobApi)
    jobs.install(app)
    app.jinja_env.globals["qqh_excel_links"] = excel_links
    app.register_error_handler(413, _too_large)
