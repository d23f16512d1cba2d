"""Users bound to units, the four roles, and the security manager."""

from __future__ import annotations

from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import User
from flask_appbuilder.security.views import UserDBModelView
from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Integer
from wtforms.validators import DataRequired
from sqlalchemy.orm import Mapped, mapped_column, relationship

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


def check_roles(user_record) -> None:
    from flask_babel import gettext

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


class QqhSecurityManager(SecurityManager):
    user_model = QqhUser
    userdbmodelview = QqhUserDBModelView
    userstatschartview = None  # draws with Google Charts from the internet
