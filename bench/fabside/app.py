"""Stock Flask-AppBuilder 5.3, as its documentation builds an app: one ModelView and one
ModelRestApi over a note of a unit, with the same columns, order (newest first), page size (25),
title/date search as tests/memo_plugin's MemoNoteView and MemoNoteApi. A clerk sees his unit's
subtree through a stock base filter on the same indexed path range as ours; the admin role sees all.

    FABSIDE_DB_URL=sqlite:////tmp/fab.db gunicorn -w 4 'bench.fabside.app:create_app()'

Nothing of 亲青汇 is imported here (core patches FAB at import time)."""

from __future__ import annotations

import datetime
import os

from flask import Flask, g
from flask_appbuilder import AppBuilder, Model, ModelRestApi, ModelView
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.base import SQLA
from flask_appbuilder.models.sqla.interface import SQLAInterface
from sqlalchemy import Column, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import relationship

PASSWORD = "Bench-pass-123"


class FabUnit(Model):
    __tablename__ = "fab_unit"
    id = Column(Integer, primary_key=True)
    code = Column(String(12), unique=True, nullable=False)
    name = Column(String(100), nullable=False)
    level = Column(String(20), nullable=False)
    path = Column(String(200), nullable=False, index=True)
    parent_id = Column(Integer, ForeignKey("fab_unit.id"))

    def __repr__(self):
        return self.name


class FabMember(Model):
    """The unit path of a FAB user (our ab_user.unit_id)."""

    __tablename__ = "fab_member"
    user_id = Column(Integer, primary_key=True)
    path = Column(String(200), nullable=False)


class FabNote(Model):
    __tablename__ = "fab_note"
    id = Column(Integer, primary_key=True)
    title = Column(String(200), nullable=False)
    body = Column(Text)
    noted_on = Column(Date, nullable=False, index=True)
    unit_id = Column(Integer, ForeignKey("fab_unit.id"), nullable=False, index=True)
    unit = relationship(FabUnit)
    created_on = Column(DateTime, default=datetime.datetime.now)
    changed_on = Column(DateTime, default=datetime.datetime.now)

    def __repr__(self):
        return self.title


class SubtreeFilter(BaseFilter):
    """Notes of units under the user's unit (the same path range as core.tenancy.units.subtree_of)."""

    name = "subtree"
    arg_name = "subtree"

    def apply(self, query, value):
        value = value() if callable(value) else value  # as FAB's FilterEqualFunction
        if value is None:
            return query
        return query.join(FabUnit, FabNote.unit_id == FabUnit.id).filter(
            FabUnit.path >= value, FabUnit.path < value[:-1] + "0")


def user_path():
    user = g.user
    if any(r.name == "Admin" for r in user.roles):
        return None
    member = g.appbuilder_session.get(FabMember, user.id) if hasattr(g, "appbuilder_session") else None
    return member.path if member else "~"  # no unit: nothing


class NoteView(ModelView):
    datamodel = SQLAInterface(FabNote)
    route_base = "/noteview"
    list_columns = ["title", "noted_on", "unit"]
    add_columns = ["title", "body", "noted_on", "unit"]
    edit_columns = add_columns
    show_columns = add_columns
    search_columns = ["title", "noted_on"]
    base_order = ("noted_on", "desc")
    page_size = 25
    base_filters = [["id", SubtreeFilter, user_path]]


class NoteApi(ModelRestApi):
    datamodel = SQLAInterface(FabNote)
    resource_name = "note"
    list_columns = ["id", "title", "noted_on", "unit.id", "unit.code"]
    show_columns = ["id", "title", "body", "noted_on", "unit.id", "unit.code"]
    add_columns = ["title", "body", "noted_on", "unit"]
    edit_columns = add_columns
    search_columns = ["title", "noted_on", "unit"]
    base_order = ("noted_on", "desc")
    page_size = 25
    base_filters = [["id", SubtreeFilter, user_path]]


def create_app(url: str | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=url or os.environ["FABSIDE_DB_URL"],
        SECRET_KEY="bench-" + "x" * 40,
        WTF_CSRF_ENABLED=False,
        FAB_API_SWAGGER_UI=False,
        AUTH_TYPE=1,  # AUTH_DB
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
    )
    db = SQLA(app)
    with app.app_context():
        appbuilder = AppBuilder(update_perms=False)
        appbuilder.init_app(app, db.session)
        appbuilder.add_view(NoteView, "Notes", category="Notes")
        appbuilder.add_api(NoteApi)

    @app.before_request
    def _session():
        g.appbuilder_session = db.session

    app.extensions["fabside_db"] = db
    return app


def setup(app, units, notes, members):
    """Create the schema, the roles and users, and copy the rows: units and notes as lists of dicts,
    members as {username: (unit path, admin?)}."""
    with app.app_context():
        db = app.extensions["fabside_db"]
        db.create_all()
        sm = app.appbuilder.sm
        sm.create_db()
        app.appbuilder.add_permissions(update_perms=True)
        admin = sm.find_role("Admin")
        clerk = sm.add_role("Clerk")
        for view in ("NoteView", "NoteApi"):
            for perm in ("can_list", "can_get", "can_show", "can_add", "can_edit", "can_post", "can_put",
                         "can_info", "can_delete"):
                pv = sm.find_permission_view_menu(perm, view)
                if pv:
                    sm.add_permission_role(clerk, pv)
        for name in ("menu_access",):
            pv = sm.find_permission_view_menu(name, "Notes")
            if pv:
                sm.add_permission_role(clerk, pv)
        session = db.session
        session.execute(FabUnit.__table__.insert(), units)
        for i in range(0, len(notes), 10_000):
            session.execute(FabNote.__table__.insert(), notes[i:i + 10_000])
        for username, (path, is_admin) in members.items():
            u = sm.add_user(username, username, "bench", f"{username}@b.local", admin if is_admin else clerk,
                            password=PASSWORD)
            session.add(FabMember(user_id=u.id, path=path))
        session.commit()
        if db.engine.dialect.name == "postgresql":
            from sqlalchemy import text

            for table in ("fab_unit", "fab_note"):  # the rows came with their ids
                session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"))
            session.execute(text("ANALYZE"))
            session.commit()
