"""Pages of province-wide data (not unit-owned): everyone reads, province administrators change.

``ProvinceDataView`` is a Flask-AppBuilder ``ModelView`` whose add, edit and
delete need the permission ``can_manage`` (given to province administrators
only), as core's KPI targets and a plugin's checklist of requirements. A record
its model refuses (``validate()``, a uniqueness rule: :class:`InvalidInput`)
comes back as the form with the user's input and each Chinese message beside
its field, nothing written, as on every unit-owned page (FAB alone would
flash its English "Database Error" and redirect).
"""

from __future__ import annotations

from flask_appbuilder import ModelView

from core.web.scoped_views import ScopedModelView

MANAGE = "manage"  # the permission to change province-wide data


class ProvinceDataView(ModelView):
    """Page of province-wide data: ``can_list``/``can_show`` for every role
    that has them, ``can_manage`` to add, edit or delete. Use it with a
    :class:`ScopedInterface` datamodel so that the model's checks run on
    every write."""

    method_permission_name = {"add": MANAGE, "edit": MANAGE, "delete": MANAGE}

    # the refused form shown again, as ScopedModelView does (core/web/fab/crud.py)
    _refused = ScopedModelView._refused
    _all_problems = ScopedModelView._all_problems

    def _add(self):
        from core.web.fab import crud

        return crud.add(self, super()._add, self._refused, self._all_problems)

    def _edit(self, pk):
        from core.web.fab import crud

        return crud.edit(self, pk, super()._edit, self._refused, self._all_problems)
