"""Users bound to units, the four roles, and the security manager."""

from __future__ import annotations

import datetime

from flask import abort, current_app, flash, g, has_request_context, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.actions import action
from flask_appbuilder.security.decorators import permission_name
from flask_appbuilder.security.forms import ResetPasswordForm
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import Role, User
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
from flask_appbuilder.forms import DynamicForm
from flask_appbuilder.security.views import RoleModelView, UserDBModelView, UserGroupModelView, UserInfoEditView
from wtforms import StringField
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import DateTime, ForeignKey, Integer
from wtforms.validators import DataRequired
from sqlalchemy.orm import Mapped, Session, joinedload, mapped_column, relationship
from sqlalchemy.orm.util import identity_key

from core.values import clock
from core.tenancy import accounts
from core.audit import trail as audit
from core.web import fab
from core.tenancy.accounts import EmailAddress, QqhAuthDBView
from core.web.scoped_views import ScopedInterface
from sqlalchemy import inspect as sa_inspect
from core.tenancy.units import Unit

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
    # sessions and tokens issued before this moment (UTC) are refused: logout, password change (core/tenancy/accounts.py)
    valid_after: Mapped[datetime.datetime | None] = mapped_column(DateTime, nullable=True)

    # One 姓名 field: the whole name is kept in first_name (last_name stays
    # empty). A name entered before in two parts (名 海, 姓 陈) reads 陈海;
    # a Latin name keeps its order and its space.
    def get_full_name(self) -> str:
        return person_name(self.first_name, self.last_name)

    @property
    def full_name(self) -> str:
        return self.get_full_name()

    def __repr__(self) -> str:
        return self.get_full_name() or self.username or ""


def _cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" for ch in text)


def person_name(first: str | None, last: str | None) -> str:
    """A person's name from FAB's two fields: 陈海 (surname first, no space) in Chinese."""
    first, last = (first or "").strip(), (last or "").strip()
    if not last or not first:
        return first or last
    if _cjk(first) or _cjk(last):
        return last + first
    return f"{first} {last}"


# FAB's help texts speak of LDAP and OID sign-in, which this system has not
USER_DESCRIPTIONS = {
    "first_name": _l("The person's full name, surname first, as on their identity card."),
    "username": _l("The name the user logs in with."),
    "active": _l("It's not a good policy to remove a user, just make it inactive"),
    "email": _l("The user's e-mail address."),
    "roles": _l("What the user may do in the system."),
}


# -- the four roles, as explicit permission sets --------------------------------
# A role is the set of (view, permission) pairs it holds, computed once at
# start-up from the views actually registered (core's, FAB's and the plugins'):
# see :func:`role_permissions`. A view is classified by what it *is* (its
# classes), never by a pattern on its name, so a subclass with another name
# (QqhUserDBModelView) cannot fall into the data views' rule.
READ_PERMISSIONS = frozenset(
    {"can_list", "can_show", "can_get", "can_info", "can_download", "can_export", "can_report", "can_profile"}
)
WRITE_PERMISSIONS = frozenset(
    {"can_add", "can_edit", "can_delete", "can_post", "can_put", "can_import", "can_action_post", "can_action"}
)
UNIT_PERMISSION = "Unit"  # the unit tree: read by everyone, changed by (unit) administrators
ADMIN_PREFIX, UNIT_ADMIN_PREFIX = "Admin", "UnitAdmin"  # province admins' / unit admins' own pages

# what a visitor who is not logged in may do through a permission check: nothing (the login page,
# the health check and the static files need none)
PUBLIC_PERMISSIONS: frozenset = frozenset()
# role -> its permission set; filled by install_roles() once every view is registered
FAB_ROLES: dict[str, frozenset] = {PROVINCE_ADMIN: frozenset(), UNIT_ADMIN: frozenset(), CLERK: frozenset(), INSPECTOR: frozenset()}


def _is_security_view(view) -> bool:
    """FAB's user, role, group, permission and account pages and APIs, and
    every subclass of them, whatever its name."""
    return any(cls.__module__.startswith("flask_appbuilder.security") for cls in type(view).__mro__)


def _default_permission(view) -> str | None:
    """The permission the view's default page (a menu entry's target) asks for."""
    name = getattr(view, "default_view", None)
    method = getattr(view, name, None) if name else None
    if method is None or not hasattr(method, "_permission_name"):
        return None
    raw = (view.method_permission_name or {}).get(name) or method._permission_name
    return "can_" + raw


def role_permissions(appbuilder) -> dict[str, frozenset]:
    """Each role's explicit (view, permission) pairs, from the registered views.

    - province admin: every permission of every view and menu entry;
    - unit admin: read and write on data views and the unit tree, its own
      ``UnitAdmin*`` pages (users and modules of its subtree), my account;
    - clerk: read on data views and units, write on data views, my account;
    - inspector: read on data views and units, my account.
    FAB's security pages and APIs and the ``Admin*`` pages are the province
    admins' only; "my account" is the user's profile and own password."""
    sm = appbuilder.sm
    registered: set[tuple[str, str]] = set()
    security: set[str] = set()
    for view in appbuilder.baseviews:
        for perm in view.base_permissions or ():
            registered.add((view.class_permission_name, perm))
        if _is_security_view(view):
            security.add(view.class_permission_name)
    by_class = {type(v): v.class_permission_name for v in appbuilder.baseviews}
    user_view = by_class.get(sm.userdbmodelview)
    my_account = {(user_view, "can_userinfo"), (user_view, "resetmypassword"), (user_view, "userinfoedit")}
    for form_view in (sm.resetmypasswordview, sm.userinfoeditview):
        for perm in ("can_this_form_get", "can_this_form_post"):
            my_account.add((by_class.get(form_view), perm))
    my_account &= registered

    roles = {PROVINCE_ADMIN: set(registered), UNIT_ADMIN: set(my_account), CLERK: set(my_account), INSPECTOR: set(my_account)}
    for view, perm in registered:
        if view.startswith(UNIT_ADMIN_PREFIX):
            roles[UNIT_ADMIN].add((view, perm))
            continue
        if view in security or view.startswith(ADMIN_PREFIX):
            continue
        if perm in READ_PERMISSIONS:
            for role in (UNIT_ADMIN, CLERK, INSPECTOR):
                roles[role].add((view, perm))
        elif perm in WRITE_PERMISSIONS:
            roles[UNIT_ADMIN].add((view, perm))
            if view != UNIT_PERMISSION:
                roles[CLERK].add((view, perm))

    # a menu entry is offered to a role iff its page answers that role
    def walk(items):
        shown_any = {role: False for role in roles}
        for item in items:
            if item.name == "-":
                continue
            if item.childs:
                shown = walk(item.childs)
            elif item.baseview is not None:
                perm = _default_permission(item.baseview)
                key = (item.baseview.class_permission_name, perm)
                shown = {role: perm is None or key in pairs for role, pairs in roles.items()}
            else:
                shown = {role: True for role in roles}
            for role, yes in shown.items():
                if yes or role == PROVINCE_ADMIN:
                    roles[role].add((item.name, "menu_access"))
                    shown_any[role] = True
        return shown_any

    walk(appbuilder.menu.menu)
    return {role: frozenset(pairs) for role, pairs in roles.items()}


def install_roles(appbuilder) -> None:
    """Give the security manager the four roles' permission sets (once every view is registered)."""
    fab.set_builtin_roles(appbuilder.sm, role_permissions(appbuilder))


def role_of(user) -> str | None:
    names = {r.name for r in getattr(user, "roles", [])}
    best = None
    for n in names:
        if n in ROLE_RANK and (best is None or ROLE_RANK[n] > ROLE_RANK[best]):
            best = n
    return best


class QqhUserInfoEdit(DynamicForm):
    """"My account" → edit: one 姓名 field."""

    first_name = StringField(
        _l("Full name"), validators=[DataRequired()], widget=BS3TextFieldWidget(), description=USER_DESCRIPTIONS["first_name"],
    )


class QqhUserInfoEditView(UserInfoEditView):
    form = QqhUserInfoEdit
    route_base = "/userinfoeditview"  # FAB's address and permission name, unchanged
    class_permission_name = "UserInfoEditView"

    def form_get(self, form) -> None:
        form.first_name.data = self.appbuilder.sm.get_user_by_id(g.user.id).get_full_name()

    def form_post(self, form) -> None:
        item = self.appbuilder.sm.get_user_by_id(g.user.id)
        item.first_name, item.last_name = (form.first_name.data or "").strip(), ""
        self.appbuilder.sm.update_user(item)
        flash(gettext("Your information was saved."), "info")


class QqhUserDBModelView(UserDBModelView):
    """FAB's user admin (province admins), with the unit picker."""

    add_columns = [c for c in UserDBModelView.add_columns if c != "last_name"] + ["unit"]
    edit_columns = [c for c in UserDBModelView.edit_columns if c != "last_name"] + ["unit"]
    list_columns = ["full_name", "username", "unit", "roles", "active"]
    search_columns = [c for c in UserDBModelView.search_columns if c != "last_name"]
    show_fieldsets = [
        (_l("User info"), {"fields": ["username", "active", "roles", "unit", "login_count"]}),
        (_l("Personal Info"), {"fields": ["full_name", "email"], "expanded": True}),
    ]
    user_show_fieldsets = [
        (_l("User info"), {"fields": ["username", "active", "roles", "login_count"]}),
        (_l("Personal Info"), {"fields": ["full_name", "email"], "expanded": True}),
    ]
    label_columns = {
        **UserDBModelView.label_columns, "unit": _l("Unit"), "first_name": _l("Full name"), "full_name": _l("Full name"),
    }
    description_columns = {**USER_DESCRIPTIONS}
    validators_columns = {"email": [EmailAddress()]}

    unit_required = False

    def prefill_form(self, form, pk):
        # a name entered in two parts is edited as one (陈海)
        item = self.datamodel.get(pk, fab.base_filters(self))
        if item is not None and "first_name" in form and (item.last_name or "").strip():
            form.first_name.data = item.get_full_name()

    def pre_add(self, item):
        item.first_name, item.last_name = (item.first_name or "").strip(), ""
        accounts.check_user_fields(item.username, item.email, item.password)
        super().pre_add(item)

    def pre_update(self, item):
        if (item.first_name or "").strip():
            item.first_name, item.last_name = item.first_name.strip(), ""
        accounts.check_user_fields(item.username, item.email, check_pw=False)
        history = sa_inspect(item).attrs.roles.history
        before = sorted(r.name for r in [*history.unchanged, *history.deleted])
        after = sorted(r.name for r in [*history.unchanged, *history.added])
        self._qqh_role_change = (before, after) if before != after else None
        super().pre_update(item)

    def post_update(self, item):
        change = getattr(self, "_qqh_role_change", None)
        if change:
            actor = getattr(g, "user", None)
            audit.log_event(
                "role_change", username=getattr(actor, "username", None), user_id=getattr(actor, "id", None),
                unit_id=item.unit_id, detail={"user": item.username, "user_id": item.id, "from": change[0], "to": change[1]},
            )
            self._qqh_role_change = None
        super().post_update(item)

    @action("unlock", _l("Unlock"), "", "fa-unlock", multiple=False)
    def unlock(self, item):
        if item is None or not may_manage(item):
            abort(404)
        accounts.unlock(self.datamodel.session, item.username)
        flash(gettext("%(user)s can log in again.", user=item.username), "success")
        return redirect(url_for(f"{self.endpoint}.show", pk=item.id))

    def __init__(self, **kwargs):
        from core.web.pickers import unit_picker

        picker = unit_picker(_l("Unit"), required=self.unit_required)
        self.add_form_extra_fields = {**UserDBModelView.add_form_extra_fields, "unit": picker}
        self.edit_form_extra_fields = {"unit": picker}
        super().__init__(**kwargs)


def assignable_roles() -> list[str]:
    """Roles the current user may give: never one above their own."""
    from core.tenancy.scope import current_user

    mine = role_of(current_user())
    if mine is None:
        return []
    return [r for r, rank in ROLE_RANK.items() if rank <= ROLE_RANK[mine]]


def may_manage(user_record) -> bool:
    """Whether the current user may manage ``user_record``: none of its roles
    is above their own (nor outside the four)."""
    return {r.name for r in user_record.roles} <= set(assignable_roles())


def check_roles(user_record) -> None:
    from core.tenancy.scope import InvalidInput

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
    add_columns = ["first_name", "username", "active", "email", "unit", "roles", "password", "conf_password"]
    edit_columns = ["first_name", "username", "active", "email", "unit", "roles"]
    search_columns = ["username", "first_name", "email", "active"]
    validators_columns = {"roles": [DataRequired()], "email": [EmailAddress()]}  # FAB's needs a groups field

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
        item = self.datamodel.get(pk, fab.base_filters(self))
        if item is None:
            abort(404)
        return item

    def _refuse_unmanaged(self, item):
        """None when the current user may change ``item`` (its stored roles are
        not above their own), else the answer that refuses it."""
        if may_manage(item):
            return None
        flash(gettext("You cannot change a user whose role is above your own."), "danger")
        return redirect(url_for(f"{self.endpoint}.show", pk=item.id))

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        item = self._user_or_404(int(pk) if str(pk).isdigit() else -1)
        return self._refuse_unmanaged(item) or super().edit(pk)

    @expose("/delete/<pk>", methods=["GET", "POST"])
    @has_access
    def delete(self, pk):
        item = self._user_or_404(int(pk) if str(pk).isdigit() else -1)
        if item.id == getattr(g.user, "id", None):
            flash(gettext("You cannot delete your own account."), "danger")
            return redirect(url_for(f"{self.endpoint}.show", pk=item.id))
        return self._refuse_unmanaged(item) or super().delete(pk)

    @expose("/show/<int:pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        item = self._user_or_404(pk)
        actions = {name: self.actions[name] for name in ("resetpasswords", "unlock")} if may_manage(item) else {}
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


_USER_WITH = (joinedload(QqhUser.unit), joinedload(QqhUser.roles), joinedload(QqhUser.groups))


# The user of every request, as last read in this process while nothing was written anywhere since
# (core.tenancy.versions.write_counter: read once per transaction, before the user): a detached copy with its
# unit, roles and groups, merged into the request's session without a query (SQLAlchemy's
# merge(load=False)); the request changes its own instance, never the copy. A write anywhere — a role
# granted, a user switched off, a password changed, on any worker — is seen at the next request.
# user id → (counter, copy); bounded: emptied when it holds KEPT_USERS users.
KEPT_USERS = 2000


def kept_user(session, model, pk):
    from core.tenancy.versions import write_counter

    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    counter = write_counter(session)
    if counter is None or session.identity_map.get(identity_key(model, pk)) is not None:
        # in the session already (maybe changed, not yet written): that one, as session.get gives it
        return session.get(model, pk, options=_USER_WITH)
    kept = current_app.extensions.setdefault("qqh_users_kept", {})
    hit = kept.get(pk)
    if hit is not None and hit[0] == counter:
        return session.merge(hit[1], load=False)
    user = session.get(model, pk, options=_USER_WITH)
    if user is not None and not session.is_modified(user):
        scratch = Session()  # no database: only to hold the copy while it is made
        try:
            copy = scratch.merge(user, load=False)
            scratch.expunge_all()
        finally:
            scratch.close()
        if len(kept) >= KEPT_USERS:
            kept.clear()
        kept[pk] = (counter, copy)
    return user


class QqhSecurityManager(SecurityManager):
    user_model = QqhUser
    authdbview = QqhAuthDBView
    userdbmodelview = QqhUserDBModelView
    groupmodelview = QqhGroupModelView
    rolemodelview = QqhRoleModelView
    userinfoeditview = QqhUserInfoEditView
    userstatschartview = None  # draws with Google Charts from the internet

    def _has_access_builtin_roles(self, role, permission_name: str, view_name: str) -> bool:
        """A built-in role holds exactly the pairs of its permission set (no patterns)."""
        return (view_name, permission_name) in self.builtin_roles.get(role.name, ())

    def has_access(self, permission_name: str, view_name: str) -> bool:
        """FAB's check; for a logged-in, active user whose roles (their groups' too) are all built-in,
        one look-up in the union of those roles' permission sets, made once per request (a list page
        asks nine times; through FAB each asked for the user seven times: 0.25 ms)."""
        pairs = self._request_pairs()
        if pairs is None:
            return super().has_access(permission_name, view_name)
        return (view_name, permission_name) in pairs

    def _request_pairs(self) -> frozenset | None:
        if not has_request_context() or getattr(g, "_api_key_user", False):
            return None
        user = g.get("user")
        user = user._get_current_object() if hasattr(user, "_get_current_object") else user  # FAB's g.user: a proxy
        kept = g.get("_qqh_pairs")
        if kept is not None and kept[0] is user:
            return kept[1]
        pairs = None
        if user is not None and getattr(user, "is_authenticated", False) and getattr(user, "is_active", False):
            roles = list(user.roles) + [r for group in user.groups for r in group.roles]
            if all(r.name in self.builtin_roles for r in roles):
                pairs = frozenset().union(*(self.builtin_roles[r.name] for r in roles))
        g._qqh_pairs = (user, pairs)
        return pairs

    def is_item_public(self, permission_name, view_name) -> bool:
        """Nobody logged in holds a permission: the Public role is an explicit, empty set, like the four
        roles' (FAB read its permissions from the database on every protected request, so a permission
        granted to it on the role pages opened that page or API to anonymous visitors)."""
        return (view_name, permission_name) in PUBLIC_PERMISSIONS

    def get_user_by_id(self, pk):
        """The user with their unit, roles and groups (every request reads all four: the scope, the
        menu's permissions): in a request, kept between requests while nothing is written anywhere
        (:func:`kept_user`); otherwise one statement."""
        if has_request_context():
            return kept_user(self.session, self.user_model, pk)
        return self.session.get(self.user_model, pk, options=_USER_WITH)

    # -- accounts (core/tenancy/accounts.py) --
    def auth_user_db(self, username, password):
        return accounts.authenticate(self, super().auth_user_db, username, password)

    def load_user(self, pk):
        """The user of a cookie session, if the session still holds (not
        logged out, password unchanged since, younger than QQH_SESSION_HOURS)."""
        user = super().load_user(pk)
        return user if user is not None and accounts.session_valid(user) else None

    def load_user_jwt(self, _jwt_header, jwt_data):
        user = self.get_user_by_id(int(jwt_data["sub"])) if str(jwt_data.get("sub", "")).isdigit() else None
        if user and user.is_active:
            g.user = user
            return user
        return None

    def create_jwt_manager(self, app):
        jwt_manager = super().create_jwt_manager(app)
        accounts.install_jwt(jwt_manager)
        return jwt_manager

    def add_user(self, username, first_name, last_name, email, role, password="", hashed_password="", **kwargs):
        if not hashed_password:
            accounts.check_user_fields(username, email, password)
        return super().add_user(username, first_name, last_name, email, role, password=password, hashed_password=hashed_password, **kwargs)

    def reset_password(self, userid, password):
        """Set a password (the policy holds) and end the user's other sessions and tokens."""
        user = self.get_user_by_id(userid)
        accounts.check_password(password, user.username)
        super().reset_password(userid, password)
        own = getattr(getattr(g, "user", None), "id", None) == user.id
        accounts.revoke(user, keep_current=own)
        self.update_user(user)
        actor = getattr(g, "user", None)
        audit.log_event(
            "password_change", username=getattr(actor, "username", None) or user.username,
            user_id=getattr(actor, "id", None), unit_id=user.unit_id, detail={"user": user.username, "own": own},
        )
