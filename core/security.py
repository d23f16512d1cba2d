"""Users bound to units, the four roles, and the security manager."""

from __future__ import annotations

import datetime

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.actions import action
from flask_appbuilder.security.decorators import permission_name
from flask_appbuilder.security.forms import ResetPasswordForm
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import Role, User
from flask_appbuilder.security.views import RoleModelView, UserDBModelView, UserGroupModelView
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import ForeignKey, Integer
from wtforms.validators import DataRequired
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock
from core.scoping import ScopedInterface
from core.units import Unit

PROVINCE_ADMIN, UNIT_ADMIN, CLERK, INSPECTOR = "province_admin", "unit_admin", "clerk", "inspector"
ROLE_LABELS = {
    PROVINCE_ADMIN: _l("Province administrator"),
    UNIT_ADMIN: _l("Unit administrator"),
    CLERK: _l("Clerk"),
    INSPECTOR: _l("Inspector"),
}
ROLE_RANK = {INSPECTOR: 0, CLERK: 1, UNIT_ADMIN: 2, PROVINCE_ADMIN: 3}


class QqhUser(User):
    """ab_user with the League unit the user belongs to (single-table: the
    column lives in ab_user). Scoped like unit-owned records where a unit
    admin manages users."""

    __qqh_unit_owned__ = True

    unit_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("qqh_unit.id"), nullable=True, index=True)
    unit = relationship(Unit, foreign_keys=[unit_id])


# Views and menu entries that only a province administrator may use: FAB's
# own security pages and every core page whose permission name starts "Admin".
_ADMIN_ONLY = (
    r"UserDBModelView|RoleModelView|PermissionModelView|ViewMenuModelView|PermissionViewModelView|"
    r"ResetPasswordView|UserStatsChartView|RegisterUserModelView|UserGroupModelView|ApiKeyModelView|"
    r"Security|List Users|List Roles|List Groups|User's Statistics|Base Permissions|Views/Menus|"
    r"Permission on Views/Menus|Admin.*"
)
DATA_VIEWS = rf"^(?!(?:{_ADMIN_ONLY})$).*$"
# the unit tree is read by everyone but changed only by (unit) administrators
DATA_WRITE_VIEWS = rf"^(?!(?:{_ADMIN_ONLY}|Unit)$).*$"
READ = r"^(can_list|can_show|can_get|can_info|can_download|can_export|can_report|can_profile|menu_access)$"
WRITE = r"^can_(add|edit|delete|post|put|import|action_post|action)$"
SELF_SERVICE = [
    [r"^(ResetMyPasswordView|UserInfoEditView)$", r"^can_this_form_(get|post)$"],
    [r"^UserDBModelView$", r"^can_userinfo$"],
    [r"^(Menu|OpenApi)$", r"^can_get$"],
]

FAB_ROLES = {
    PROVINCE_ADMIN: [[r".*", r".*"]],
    UNIT_ADMIN: [[DATA_VIEWS, READ], [DATA_VIEWS, WRITE], [r"^UnitAdmin.*$", r".*"], *SELF_SERVICE],
    CLERK: [[DATA_VIEWS, READ], [DATA_WRITE_VIEWS, WRITE], *SELF_SERVICE],
    INSPECTOR: [[DATA_VIEWS, READ], *SELF_SERVICE],
}


def role_of(user) -> str | None:
    names = {r.name for r in getattr(user, "roles", [])}
    best = None
    for n in names:
        if n in ROLE_RANK and (best is None or ROLE_RANK[n] > ROLE_RANK[best]):
            best = n
    return best


class QqhUserDBModelView(UserDBModelView):
    """FAB's user admin (province admins), with the unit picker."""

    add_columns = UserDBModelView.add_columns + ["unit"]
    edit_columns = UserDBModelView.edit_columns + ["unit"]
    list_columns = ["first_name", "last_name", "username", "unit", "roles", "active"]
    show_fieldsets = [
        (_l("User info"), {"fields": ["username", "active", "roles", "unit", "login_count"]}),
        (_l("Personal Info"), {"fields": ["first_name", "last_name", "email"], "expanded": True}),
    ]
    label_columns = {**UserDBModelView.label_columns, "unit": _l("Unit")}

    unit_required = False

    def __init__(self, **kwargs):
        from core.pickers import unit_picker

        picker = unit_picker(_l("Unit"), required=self.unit_required)
        self.add_form_extra_fields = {**UserDBModelView.add_form_extra_fields, "unit": picker}
        self.edit_form_extra_fields = {"unit": picker}
        super().__init__(**kwargs)


def assignable_roles() -> list[str]:
    """Roles the current user may give: never one above their own."""
    from core.scoping import current_user

    mine = role_of(current_user())
    if mine is None:
        return []
    return [r for r, rank in ROLE_RANK.items() if rank <= ROLE_RANK[mine]]


def may_manage(user_record) -> bool:
    """Whether the current user may manage ``user_record``: none of its roles
    is above their own (nor outside the four)."""
    return {r.name for r in user_record.roles} <= set(assignable_roles())


def check_roles(user_record) -> None:
    from core.scoping import InvalidInput

    allowed = set(assignable_roles())
    given = {r.name for r in user_record.roles}
    if not given:
        raise InvalidInput({"roles": gettext("Give the user a role.")})
    if not given <= allowed:
        raise InvalidInput({"roles": gettext("You cannot give a role above your own.")})


class UnitAdminUserView(QqhUserDBModelView):
    """Users of the unit admin's own subtree (单位用户管理)."""

    datamodel = ScopedInterface(QqhUser)
    route_base = "/unitusers"
    class_permission_name = "UnitAdminUsers"
    list_title = _l("Users of my units")
    add_columns = ["first_name", "last_name", "username", "active", "email", "unit", "roles", "password", "conf_password"]
    edit_columns = ["first_name", "last_name", "username", "active", "email", "unit", "roles"]
    search_columns = ["username", "first_name", "last_name", "email", "active"]
    validators_columns = {"roles": [DataRequired()]}  # FAB's needs a groups field

    unit_required = True

    def __init__(self, **kwargs):
        from flask_appbuilder.models.sqla.filters import FilterInFunction

        self.add_form_query_rel_fields = {"roles": [["name", FilterInFunction, assignable_roles]]}
        self.edit_form_query_rel_fields = self.add_form_query_rel_fields
        super().__init__(**kwargs)

    def pre_add(self, item):
        check_roles(item)
        super().pre_add(item)

    def pre_update(self, item):
        try:
            check_roles(item)
        except Exception:
            self.datamodel.session.rollback()
            raise
        super().pre_update(item)

    # -- 重置密码: FAB's own reset page is the province admins' (any user); this
    # one is limited to the subtree (others answer 404) and to users whose
    # roles are not above the unit admin's own.
    def _user_or_404(self, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            abort(404)
        return item

    @expose("/show/<int:pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        item = self._user_or_404(pk)
        actions = {"resetpasswords": self.actions["resetpasswords"]} if may_manage(item) else {}
        widgets = self._get_show_widget(pk, item, actions=actions)
        widgets["show"].template_args["actions"] = actions  # FAB shows every action when none is given
        self.update_redirect()
        return self.render_template(
            self.show_template, pk=pk, title=self.show_title, widgets=widgets, appbuilder=self.appbuilder,
            related_views=self._related_views,
        )

    @action("resetpasswords", _l("Reset password"), "", "fa-lock", multiple=False)
    def resetpasswords(self, item):
        if item is None:  # FAB's action route looks the user up through the scoped datamodel
            abort(404)
        return redirect(url_for(f"{self.endpoint}.reset_password", pk=item.id))

    @expose("/resetpassword/<int:pk>", methods=["GET", "POST"])
    @has_access
    @permission_name("resetpasswords")
    def reset_password(self, pk):
        item = self._user_or_404(pk)
        if not may_manage(item):
            flash(gettext("You cannot reset the password of a user whose role is above your own."), "danger")
            return redirect(url_for(f"{self.endpoint}.show", pk=item.id))
        form = ResetPasswordForm()
        if request.method == "POST" and form.validate():
            item.changed_on = clock.now()
            item.changed_by_fk = g.user.id
            self.appbuilder.sm.reset_password(item.id, form.password.data)
            flash(gettext("The password of %(user)s has been reset.", user=item.username), "success")
            return redirect(url_for(f"{self.endpoint}.show", pk=item.id))
        widget = self.edit_widget(route_base=self.route_base, form=form, include_cols=["password", "conf_password"])
        return self.render_template(
            "appbuilder/general/model/edit.html",
            title=gettext("Reset the password of %(user)s", user=item.username),
            widgets={"edit": widget},
            appbuilder=self.appbuilder,
        )


class QqhGroupModelView(UserGroupModelView):
    """FAB's user groups, with labels in the catalog (FAB leaves them untranslated)."""

    label_columns = {
        "name": _l("Name"),
        "label": _l("Label"),
        "description": _l("Description"),
        "users": _l("Users"),
        "roles": _l("Roles"),
    }


def _role_str(role) -> str:
    """A role as users read it: 省级管理员, not province_admin (FAB shows the name)."""
    return str(ROLE_LABELS.get(role.name, role.name))


Role.__str__ = _role_str


class QqhRoleModelView(RoleModelView):
    """FAB's roles page: a built-in role reads as 省级管理员（province_admin）, the
    name `qqh user add --role` takes; its permissions are defined in this module."""

    list_columns = ["name"]
    search_columns = ["name"]
    formatters_columns = {
        "name": lambda name: f"{ROLE_LABELS[name]}（{name}）" if name in ROLE_LABELS else name,
    }


class QqhSecurityManager(SecurityManager):
    user_model = QqhUser
    userdbmodelview = QqhUserDBModelView
    groupmodelview = QqhGroupModelView
    rolemodelview = QqhRoleModelView
    userstatschartview = None  # draws with Google Charts from the internet
