"""Row-level scoping, implemented once in core: each user sees and touches
exactly their own subtree, in pages and API, whatever id they guess.

Users (tests/conftest.py): fs_clerk 佛山 440600, sd_clerk 顺德区 440606,
sz_clerk 深圳 440300, fs_inspector 佛山 (read only), fs_admin 佛山 unit admin."""

import csv
import datetime
import os
import uuid

import pytest

from tests.conftest import PASSWORD, statements_of

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def subtree_size(code):
    rows = list(csv.DictReader(open(os.path.join(ROOT, "data", "guangdong_divisions.csv"), encoding="utf-8")))
    kids = {}
    for r in rows:
        kids.setdefault(r["parent_code"], []).append(r["code"])
    return 1 + sum(subtree_size_of(k, kids) for k in kids.get(code, []))


def subtree_size_of(code, kids):
    return 1 + sum(subtree_size_of(k, kids) for k in kids.get(code, []))


def unit_id(client, code):
    r = client.get("/api/v1/unit/", params={"q": f"(filters:!((col:code,opr:eq,value:'{code}')))"})
    assert r.status_code == 200, r.text
    assert r.json()["count"] == 1, (code, r.json())
    return r.json()["ids"][0]


@pytest.fixture(scope="module")
def notes(live):
    """One note in each of 佛山 city, 顺德区, 南海区 and 深圳, made by the admin."""
    from tests.conftest import Client

    admin = Client(live.url).login("admin")
    tag = uuid.uuid4().hex[:6]
    made = {}
    for code in ("440600", "440606", "440605", "440300"):
        r = admin.post("/api/v1/memonote/", json={"title": f"{tag}-{code}", "noted_on": "2012-03-05", "unit": unit_id(admin, code)})
        assert r.status_code == 201, r.text
        made[code] = r.json()["id"]
    yield tag, made
    for pk in made.values():
        admin.delete(f"/api/v1/memonote/{pk}")
    admin.close()


def visible_titles(client, tag):
    r = client.get("/api/v1/memonote/", params={"q": f"(filters:!((col:title,opr:sw,value:'{tag}')),page_size:100)"})
    assert r.status_code == 200, r.text
    return sorted(row["title"].split("-")[1] for row in r.json()["result"])


@pytest.mark.parametrize(
    "user, expected",
    [
        ("admin", ["440300", "440600", "440605", "440606"]),
        ("fs_clerk", ["440600", "440605", "440606"]),
        ("fs_inspector", ["440600", "440605", "440606"]),
        ("sd_clerk", ["440606"]),
        ("sz_clerk", ["440300"]),
    ],
)
def test_each_user_sees_exactly_their_subtree_in_api_and_pages(as_user, notes, user, expected):
    tag, made = notes
    client = as_user(user)
    assert visible_titles(client, tag) == expected
    page = client.get("/memonoteview/list/", params={"_flt_2_title": tag, "psize_MemoNoteView": 100})
    assert page.status_code == 200
    for code in made:
        assert (f"{tag}-{code}" in page.text) == (code in expected), (user, code)


def test_guessing_an_id_of_another_city_answers_404_everywhere(as_user, notes):
    tag, made = notes
    sz = as_user("sz_clerk")
    foshan_note = made["440600"]
    assert sz.get(f"/api/v1/memonote/{foshan_note}").status_code == 404
    assert sz.put(f"/api/v1/memonote/{foshan_note}", json={"title": "hacked"}).status_code == 404
    assert sz.delete(f"/api/v1/memonote/{foshan_note}").status_code == 404
    assert sz.get(f"/memonoteview/show/{foshan_note}").status_code == 404
    assert sz.get(f"/memonoteview/edit/{foshan_note}").status_code == 404
    assert sz.post(f"/memonoteview/edit/{foshan_note}", data={"title": "hacked"}).status_code == 404
    assert sz.post(f"/memonoteview/delete/{foshan_note}").status_code == 404
    assert sz.get(f"/memonoteview/delete/{foshan_note}").status_code == 405  # POST only
    sd = as_user("sd_clerk")  # a county cannot reach its own city's records either
    assert sd.get(f"/api/v1/memonote/{foshan_note}").status_code == 404
    admin = as_user("admin")
    assert admin.get(f"/api/v1/memonote/{foshan_note}").json()["result"]["title"] == f"{tag}-440600"


def test_records_cannot_be_created_or_moved_outside_the_subtree(as_user, notes):
    tag, made = notes
    fs = as_user("fs_clerk")
    shenzhen = unit_id(as_user("admin"), "440300")
    before = visible_titles(as_user("admin"), tag)
    r = fs.post("/api/v1/memonote/", json={"title": f"{tag}-x", "noted_on": "2012-03-05", "unit": shenzhen})
    assert r.status_code == 422
    assert "只能填报本单位及下级单位的记录" in r.json()["message"]["unit"][0]
    r = fs.put(f"/api/v1/memonote/{made['440605']}", json={"unit": shenzhen})
    assert r.status_code == 422
    assert visible_titles(as_user("admin"), tag) == before
    # the page refuses the same way, and shows the form again with the input kept
    r = fs.post("/memonoteview/add", data={"title": f"{tag}-y", "noted_on": "2012-03-05", "unit": shenzhen})
    assert visible_titles(as_user("admin"), tag) == before
    assert r.status_code == 200 and f'value="{tag}-y"' in r.text
    r = fs.post(f"/memonoteview/edit/{made['440605']}", data={"title": f"{tag}-440605", "noted_on": "2099-01-01", "unit": unit_id(fs, "440605")})
    assert r.status_code == 200 and "日期不能晚于今天" in r.text and 'value="2099-01-01"' in r.text
    assert visible_titles(as_user("admin"), tag) == before
    # and its own subtree works
    r = fs.post("/api/v1/memonote/", json={"title": f"{tag}-z", "noted_on": "2012-03-05", "unit": unit_id(fs, "440605")})
    assert r.status_code == 201
    assert fs.delete(f"/api/v1/memonote/{r.json()['id']}").status_code == 200


def test_inspector_reads_but_writes_nothing(as_user, notes):
    tag, made = notes
    insp = as_user("fs_inspector")
    assert insp.get(f"/api/v1/memonote/{made['440600']}").status_code == 200
    assert insp.put(f"/api/v1/memonote/{made['440600']}", json={"title": "x"}).status_code == 403
    assert insp.delete(f"/api/v1/memonote/{made['440600']}").status_code == 403
    assert insp.post("/api/v1/memonote/", json={"title": "x", "noted_on": "2012-03-05", "unit": unit_id(insp, "440600")}).status_code == 403


def test_audit_columns_record_who_and_when(app, as_user):
    fs = as_user("fs_clerk")
    r = fs.post("/api/v1/memonote/", json={"title": "audit", "noted_on": "2012-03-05", "unit": unit_id(fs, "440600")})
    pk = r.json()["id"]
    try:
        with app.app_context():
            from tests.memo_plugin.models import MemoNote

            note = app.appbuilder.session.get(MemoNote, pk)
            assert note.created_by.username == "fs_clerk" and note.changed_by.username == "fs_clerk"
            assert note.created_on is not None and note.changed_on is not None
            app.appbuilder.session.remove()
    finally:
        fs.delete(f"/api/v1/memonote/{pk}")


def test_unit_tree_api_and_picker_are_scoped(as_user):
    fs, sz, admin = as_user("fs_clerk"), as_user("sz_clerk"), as_user("admin")
    assert fs.get("/api/v1/unit/").json()["count"] == subtree_size("440600") == 47
    assert sz.get("/api/v1/unit/").json()["count"] == subtree_size("440300")
    assert admin.get("/api/v1/unit/").json()["count"] >= 1901
    assert fs.get(f"/api/v1/unit/{unit_id(admin, '440300')}").status_code == 404
    hits = fs.get("/api/v1/unit/picker", params={"q": "顺德"}).json()["results"]
    assert [h["text"] for h in hits] == ["顺德区（440606）"]
    assert sz.get("/api/v1/unit/picker", params={"q": "顺德"}).json()["results"] == []
    assert len(admin.get("/api/v1/unit/picker").json()["results"]) == 20  # never the whole tree
    # clerks read the tree but cannot change it
    assert fs.post("/api/v1/unit/", json={"code": "X1", "name": "x", "level": "town", "tier": "town", "parent": unit_id(fs, "440605")}).status_code == 403


def count_statements(app, fn):
    with app.app_context():
        engine = app.extensions["qqh_db"].engine
    with statements_of(engine, every_thread=True) as seen:  # the live server's thread runs them
        fn()
    return seen


def test_subtree_filter_is_one_query_whatever_the_size_of_the_tree(app, as_user, notes):
    counts = {}
    for user in ("admin", "fs_clerk", "sd_clerk", "sz_clerk"):
        client = as_user(user)
        client.get("/api/v1/memonote/")  # warm caches
        stmts = count_statements(app, lambda: client.get("/api/v1/memonote/"))
        counts[user] = len([s for s in stmts if "memo_note" in s])
    assert counts["fs_clerk"] == counts["sd_clerk"] == counts["sz_clerk"] == 1  # the page (its count kept: memo_note unwritten)
    stmt = [s for s in count_statements(app, lambda: as_user("fs_clerk").get("/api/v1/memonote/")) if "memo_note" in s][-1]
    assert "qqh_unit.path >=" in stmt  # the subtree is a sub-select on the indexed path, not a list of ids


def test_moving_a_unit_moves_its_subtree(app, as_user, notes):
    tag, made = notes
    admin = as_user("admin")
    shunde, foshan, province = unit_id(admin, "440606"), unit_id(admin, "440600"), unit_id(admin, "440000")
    r = admin.put(f"/api/v1/unit/{shunde}", json={"parent": province, "tier": "city"})
    assert r.status_code == 200, r.text
    try:
        town = admin.get("/api/v1/unit/", params={"q": "(filters:!((col:code,opr:sw,value:'440606')),page_size:100)"}).json()
        paths = [admin.get(f"/api/v1/unit/{pk}").json()["result"]["path"] for pk in town["ids"]]
        assert len(paths) == 11 and all(p.startswith("440000/440606/") for p in paths)
        assert visible_titles(as_user("fs_clerk"), tag) == ["440600", "440605"]  # 顺德 left 佛山
        assert visible_titles(as_user("sd_clerk"), tag) == ["440606"]
        # a unit cannot go under its own subtree
        r = admin.put(f"/api/v1/unit/{province}", json={"parent": shunde})
        assert r.status_code == 422
    finally:
        assert admin.put(f"/api/v1/unit/{shunde}", json={"parent": foshan, "tier": "county"}).status_code == 200
    assert visible_titles(as_user("fs_clerk"), tag) == ["440600", "440605", "440606"]


def test_a_unit_switches_a_module_off_for_its_subtree_without_losing_data(app, as_user, notes):
    tag, made = notes
    fs_admin, fs, sd, sz, admin = (as_user(u) for u in ("fs_admin", "fs_clerk", "sd_clerk", "sz_clerk", "admin"))
    assert "测试记事" in fs.get("/").text
    r = fs_admin.post("/modules/", data={})  # nothing ticked: every module off for 佛山
    assert r.status_code == 302
    try:
        for client in (as_user("fs_clerk"), as_user("sd_clerk")):
            home = client.get("/")
            assert "测试记事" not in home.text
            assert client.get("/memonoteview/list/").status_code == 404
            assert client.get("/api/v1/memonote/").status_code == 404
        assert as_user("sz_clerk").get("/api/v1/memonote/").status_code == 200
        assert "测试记事" in as_user("sz_clerk").get("/").text  # same role, another unit: its own menu
        assert visible_titles(admin, tag) == ["440300", "440600", "440605", "440606"]  # nothing deleted
        # the province makes it mandatory: back for everyone
        admin.post("/admin/plugins/mandatory/memo", data={"mandatory": "1"})
        assert as_user("fs_clerk").get("/api/v1/memonote/").status_code == 200
        admin.post("/admin/plugins/mandatory/memo", data={"mandatory": "0"})
        assert as_user("fs_clerk").get("/api/v1/memonote/").status_code == 404
    finally:
        # every module back on: other tests of this session use 佛山's pages too
        fs_admin.post("/modules/", data={"plugin": list(app.extensions["qqh_plugins"].order)})
    assert as_user("fs_clerk").get("/api/v1/memonote/").status_code == 200


def user_unit(app, username):
    with app.app_context():
        from core.tenancy.security import QqhUser

        session = app.appbuilder.session
        user = session.query(QqhUser).filter_by(username=username).one_or_none()
        code = user.unit.code if user else None
        session.remove()
        return code


def test_unit_admin_manages_users_of_their_subtree_only(app, as_user):
    import re

    fs_admin, admin = as_user("fs_admin"), as_user("admin")
    name = "u" + uuid.uuid4().hex[:8]
    page = fs_admin.get("/unitusers/add")
    assert page.status_code == 200

    # roles read as users know them (省级管理员 …), never above the unit admin's own
    role_ids = dict((n, i) for i, n in re.findall(r'<option value="(\d+)">(\w+)</option>', page.text))
    assert set(role_ids) == {"单位管理员", "填报员", "督查员"}
    form = {"first_name": "测", "last_name": "试", "username": name, "email": f"{name}@t.local", "active": "y",
            "roles": role_ids["填报员"], "password": PASSWORD, "conf_password": PASSWORD}
    fs_admin.post("/unitusers/add", data={**form, "unit": unit_id(admin, "440300")})
    assert user_unit(app, name) is None  # beside their unit: refused
    province_role = re.search(r'<option value="(\d+)">省级管理员</option>', admin.get("/users/add").text).group(1)
    fs_admin.post("/unitusers/add", data={**form, "unit": unit_id(admin, "440606"), "roles": province_role})
    assert user_unit(app, name) is None  # a role above their own: refused
    r = fs_admin.post("/unitusers/add", data={**form, "unit": unit_id(admin, "440606")})
    assert r.status_code == 302 and user_unit(app, name) == "440606"
    listing = fs_admin.get("/unitusers/list/", params={"psize_UnitAdminUserView": 100}).text
    assert name in listing and "sz_clerk" not in listing and "fs_clerk" in listing
    from tests.conftest import Client

    c = Client(fs_admin.base).login(name)
    assert c.get("/api/v1/unit/").json()["count"] == 11
    c.close()


def test_unit_filter_takes_the_whole_subtree_and_stays_scoped(as_user, notes):
    tag, made = notes
    fs, sz = as_user("fs_clerk"), as_user("sz_clerk")
    foshan = unit_id(fs, "440600")
    q = f"(filters:!((col:unit,opr:unit_sub,value:{foshan}),(col:title,opr:sw,value:'{tag}')),page_size:100)"
    rows = fs.get("/api/v1/memonote/", params={"q": q}).json()["result"]
    assert sorted(r["title"].split("-")[1] for r in rows) == ["440600", "440605", "440606"]
    assert sz.get("/api/v1/memonote/", params={"q": q}).json()["count"] == 0  # not theirs
    page = fs.get("/memonoteview/list/", params={"_flt_0_unit": unit_id(fs, "440606"), "_flt_2_title": tag})
    assert f"{tag}-440606" in page.text and f"{tag}-440605" not in page.text
    # the search form offers a picker, never a list of every unit
    assert page.text.count("<option") < 100 and "qqh-picker" in page.text


def test_related_field_choices_are_scoped(as_user):
    fs = as_user("fs_clerk")
    info = fs.get("/api/v1/memonote/_info", params={"q": "(keys:!(add_columns))"}).json()
    unit_field = next(f for f in info["add_columns"] if f["name"] == "unit")
    assert unit_field["count"] == 47


def test_menu_is_kept_only_for_built_in_roles(app):
    """The navbar menu is rendered once per language, roles and modules switched
    off (core/web/menu.py) — but only for built-in roles: a role stored in the
    database may change at any time, so its menu is rendered afresh."""
    from types import SimpleNamespace

    from flask import g

    from core.web import menu

    def user(*roles):
        return SimpleNamespace(roles=[SimpleNamespace(name=r) for r in roles], groups=[], unit=None, is_authenticated=True)

    with app.test_request_context("/", headers={"Accept-Language": "zh"}):
        g._qqh_user = user("clerk", "inspector")
        assert menu._key()[1:] == (("clerk", "inspector"), frozenset())
        g._qqh_user = user("clerk", "区县自定义角色")
        assert menu._key() is None
        app.extensions.pop("qqh_menu_cache", None)
        menu.navbar_menu()
        assert not app.extensions.get("qqh_menu_cache")
        g._qqh_user, g._qqh_off = user("clerk"), {"memo"}
        menu.navbar_menu()
        assert list(app.extensions["qqh_menu_cache"]) == [menu._key()] and "memo" in menu._key()[2]


def test_a_kept_record_count_follows_writes_from_elsewhere(app, as_user, unit_ids):
    """A list's record count is kept between requests while none of the tables its statement reads is
    written (core.tenancy.versions.kept_count), per subtree and per search; a note written from another
    connection — another gunicorn worker's, a script's — counts at the very next request, in the REST
    list and the page's 记录数目 alike, for the units above it only."""
    import re

    import sqlalchemy as sa

    from tests.memo_plugin.models import MemoNote

    title = "计数" + uuid.uuid4().hex[:8]
    fs, sz = as_user("fs_clerk"), as_user("sz_clerk")

    def count(client, search: str = "") -> int:
        q = f"(filters:!((col:title,opr:ct,value:'{search}')),page_size:1)" if search else "(page_size:1)"
        r = client.get("/api/v1/memonote/", params={"q": q})
        assert r.status_code == 200, r.text[:300]
        return r.json()["count"]

    def page_count(client) -> int:
        m = re.search(r"<strong>记录数目:</strong>\s*(\d+)", client.get("/memonoteview/list/").text)
        assert m
        return int(m.group(1))

    before = {"fs": count(fs), "sz": count(sz), "fs page": page_count(fs)}
    assert count(fs) == before["fs"] and count(fs, title) == 0  # kept, and a search counted on its own
    notes = MemoNote.__table__
    with app.app_context():
        other = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])  # not the app's engine: another process's
    try:
        with other.begin() as c:
            c.execute(notes.insert().values(title=title, noted_on=datetime.date(2012, 3, 5), unit_id=unit_ids["440606"],
                                            created_on=datetime.datetime(2012, 3, 5), changed_on=datetime.datetime(2012, 3, 5)))
        assert count(fs) == before["fs"] + 1 and count(fs, title) == 1 and page_count(fs) == before["fs page"] + 1
        assert count(sz) == before["sz"]  # 深圳's count is not 佛山's
        with other.begin() as c:
            c.execute(notes.delete().where(notes.c.title == title))
        assert count(fs) == before["fs"] and count(fs, title) == 0 and page_count(fs) == before["fs page"]
    finally:
        other.dispose()


def test_a_large_subtree_s_page_is_read_along_its_order_and_shows_the_same_rows(app, engine_name, unit_ids):
    """On SQLite a subtree's page ordered by an indexed column is read along that index when the
    subtree holds many of the table's rows (its rows spread over the table: a few hundred index
    entries find the page), and through the unit index when it holds few — the same rows, in the
    same order, either way (ScopedInterface.query; core.tenancy.scope.read_along_order). SQLite
    cannot tell how many units the scope's subquery yields and otherwise fetched and sorted every
    row of 佛山's subtree for a page of 25."""
    import sqlalchemy as sa
    from flask import g

    from core.tenancy.scope import Scope
    from core.tenancy.units import Unit
    from core.web.scoped_views import ScopedInterface
    from tests.memo_plugin.models import MemoNote

    title = "顺序" + uuid.uuid4().hex[:8]
    with app.test_request_context("/"):
        session = app.appbuilder.session
        # 佛山's and 深圳's, some on the same day (the id breaks the tie)
        session.add_all(MemoNote(title=f"{title} {i}", noted_on=datetime.date(2012, 1 + i % 12, 1 + i % 5),
                                 unit_id=unit_ids[("440606", "440605", "440300")[i % 3]]) for i in range(60))
        session.commit()
        g._qqh_user, g._qqh_scope = None, Scope(path="440000/440600/")
        iface = ScopedInterface(MemoNote, session)
        total = session.query(MemoNote).count()
        edge = int((25 * total) ** 0.5)
        chosen = {c: iface._quicker_along_order(c, "noted_on", 0, 25) for c in (edge - 1, edge + 1)}
        if engine_name == "sqlite":
            assert chosen == {edge - 1: False, edge + 1: True}
            assert iface._quicker_along_order(edge + 1, "noted_on", 3, 25) is False  # page 4 needs 4 × the reading
            assert iface._quicker_along_order(total, "title", 0, 25) is False  # no index to walk
        else:
            assert set(chosen.values()) == {False}  # PostgreSQL's planner knows the subtree's size

        pages = {}
        for along in (False, True):
            iface._quicker_along_order = lambda *a, along=along: along
            seen = []

            def record(conn, cursor, statement, parameters, context, many):
                seen.append((statement, parameters))

            sa.event.listen(session.get_bind(), "before_cursor_execute", record)
            try:
                count, rows = iface.query(order_column="noted_on", order_direction="desc", page=0, page_size=25)
            finally:
                sa.event.remove(session.get_bind(), "before_cursor_execute", record)
            statement, parameters = [s for s in seen if "ORDER BY" in s[0] and "memo_note" in s[0]][-1]
            assert ("unit_id + 0" in statement) is along, statement
            if engine_name == "sqlite":
                plan = " ".join(str(r) for r in session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters))
                assert ("USING INDEX ix_memo_note_noted_on" in plan) is along and ("TEMP B-TREE FOR ORDER BY" in plan) is not along, plan
            pages[along] = (count, [(r.id, r.unit.path) for r in rows])
        assert pages[True] == pages[False] and pages[True][1]
        in_foshan = sa.and_(Unit.path >= "440000/440600/", Unit.path < "440000/4406000")
        expected = session.execute(sa.select(MemoNote.id).join(Unit, Unit.id == MemoNote.unit_id).where(in_foshan)
                                   .order_by(MemoNote.noted_on.desc(), MemoNote.id.desc()).limit(25)).scalars().all()
        assert [i for i, _p in pages[True][1]] == expected
        session.rollback()
        session.execute(sa.delete(MemoNote).where(MemoNote.title.startswith(title)))
        session.commit()


def test_a_rest_list_read_page_by_page_holds_every_record_once_while_they_change(as_token):
    """A REST list asked for in no order comes by primary key (ScopedModelRestApi; FAB sent no ORDER BY,
    and the database may hand a row out on two pages or on none — PostgreSQL writes an updated row
    elsewhere in the table): read page by page while each page's records are edited, it yields every
    record once, in order."""
    title = "分页" + uuid.uuid4().hex[:8]
    sd = as_token("sd_clerk")
    unit = sd.get("/api/v1/unit/picker", params={"q": "顺德"}).json()["results"][0]["id"]
    made = []
    for i in range(30):
        r = sd.post("/api/v1/memonote/", json={"title": f"{title} {i}", "noted_on": f"2012-0{1 + i % 9}-05", "unit": unit})
        assert r.status_code == 201, r.text[:300]
        made.append(r.json()["id"])
    seen = []
    for page in range(6):
        r = sd.get("/api/v1/memonote/", params={"q": f"(filters:!((col:title,opr:ct,value:'{title}')),page:{page},page_size:7)"})
        assert r.status_code == 200, r.text[:300]
        assert r.json()["count"] == 30
        for pk in r.json()["ids"]:
            seen.append(pk)
            # a new date too: an indexed column, so PostgreSQL writes the row anew (no HOT update)
            assert sd.put(f"/api/v1/memonote/{pk}", json={"title": f"{title} 改 {pk}", "noted_on": "2012-11-30"}).status_code == 200
    assert seen == sorted(made)
    for pk in made:
        assert sd.delete(f"/api/v1/memonote/{pk}").status_code == 200
