"""Users bound to units, the four roles, and the security manager."""

from __future__ import annotations

from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import User
from flask_appbuilder.security.views import UserDBModelView
from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column, relationship

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
    column lives in ab_user)."""

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
    CLERK: [[DATA_VIEWS, READ], [DATA_VIEWS, WRITE], *SELF_SERVICE],
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
    add_columns = UserDBModelView.add_columns + ["unit"]
    edit_columns = UserDBModelView.edit_columns + ["unit"]
    list_columns = ["first_name", "last_name", "username", "unit", "roles", "active"]
    show_fieldsets = [
        (_l("User info"), {"fields": ["username", "active", "roles", "unit", "login_count"]}),
        (_l("Personal Info"), {"fields": ["first_name", "last_name", "email"], "expanded": True}),
    ]
    label_columns = {**UserDBModelView.label_columns, "unit": _l("Unit")}


class QqhSecurityManager(SecurityManager):
    user_model = QqhUser
    userdbmodelview = QqhUserDBModelView
