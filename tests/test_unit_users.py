"""A unit administrator resets the password of a user of their own subtree
(/unitusers, 重置密码) over the live server: only inside the subtree (others
answer 404), never a user whose role is above their own, FAB's form with
its confirmation, nothing written on bad input; province administrators
keep FAB's own reset page."""

from __future__ import annotations

import re

from tests.conftest import PASSWORD, Client

NEW_PASSWORD = "Neu-pass-456"


def logs_in(live, username: str, password: str) -> bool:
    with Client(live.url) as c:
        r = c.post("/login/", data={"username": username, "password": password})
        return r.status_code == 302 and "/login" not in r.headers.get("Location", "")


def message(app, msgid: str, **values) -> str:
    """A message as the pages show it (the catalog's Chinese)."""
    from flask_babel import gettext

    with app.test_request_context():
        return gettext(msgid, **values)


def user_id(app, username: str) -> int:
    with app.app_context():
        return app.appbuilder.sm.find_user(username=username).id


def test_unit_admin_resets_the_password_of_a_user_below(app, live, as_user, make_user):
    pk, name = make_user("440606", "clerk")  # 顺德区, under 佛山
    fs_admin = as_user("fs_admin")

    # the user's page offers 重置密码; the action leads to the unit admin's own form
    show = fs_admin.get(f"/unitusers/show/{pk}")
    assert show.status_code == 200 and f"/unitusers/action/resetpasswords/{pk}" in show.text
    r = fs_admin.post(f"/unitusers/action/resetpasswords/{pk}")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/unitusers/resetpassword/{pk}")
    form = fs_admin.get(f"/unitusers/resetpassword/{pk}")
    assert form.status_code == 200
    assert 'name="password"' in form.text and 'name="conf_password"' in form.text and name in form.text
    assert "确认密码" in form.text  # FAB's form, in Chinese

    # bad input: the form again with the message, nothing written
    url = f"/unitusers/resetpassword/{pk}"
    r = fs_admin.post(url, data={"password": NEW_PASSWORD, "conf_password": NEW_PASSWORD + "x"})
    assert r.status_code == 200 and "密码必须一致" in r.text
    r = fs_admin.post(url, data={"password": "", "conf_password": ""})
    assert r.status_code == 200 and 'name="password"' in r.text
    assert logs_in(live, name, PASSWORD) and not logs_in(live, name, NEW_PASSWORD)

    r = fs_admin.post(url, data={"password": NEW_PASSWORD, "conf_password": NEW_PASSWORD})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/unitusers/show/{pk}")
    assert message(app, "The password of %(user)s has been reset.", user=name) in fs_admin.get(r.headers["Location"]).text
    assert logs_in(live, name, NEW_PASSWORD) and not logs_in(live, name, PASSWORD)
    with app.app_context():
        from core.tenancy.security import QqhUser

        changed_by = app.appbuilder.session.get(QqhUser, pk).changed_by_fk
    assert changed_by == user_id(app, "fs_admin")


def test_users_outside_the_subtree_are_not_found(app, live, as_user, make_user):
    fs_admin = as_user("fs_admin")
    sz_pk, sz_name = make_user("440300", "clerk")  # 深圳: beside 佛山
    for pk in (sz_pk, user_id(app, "sz_clerk"), user_id(app, "admin")):  # admin: 广东省, above
        assert fs_admin.get(f"/unitusers/show/{pk}").status_code == 404
        assert fs_admin.get(f"/unitusers/resetpassword/{pk}").status_code == 404
        r = fs_admin.post(f"/unitusers/resetpassword/{pk}", data={"password": NEW_PASSWORD, "conf_password": NEW_PASSWORD})
        assert r.status_code == 404
        assert fs_admin.post(f"/unitusers/action/resetpasswords/{pk}").status_code == 404
    assert fs_admin.get("/unitusers/resetpassword/999999999").status_code == 404
    assert fs_admin.get("/unitusers/resetpassword/abc").status_code == 404
    assert logs_in(live, sz_name, PASSWORD) and logs_in(live, "sz_clerk", PASSWORD) and logs_in(live, "admin", PASSWORD)
    # nor through FAB's own reset page, which is the province administrators'
    r = fs_admin.post(f"/resetpassword/form?pk={sz_pk}", data={"password": NEW_PASSWORD, "conf_password": NEW_PASSWORD})
    assert r.status_code == 403
    assert logs_in(live, sz_name, PASSWORD) and not logs_in(live, sz_name, NEW_PASSWORD)


def test_no_reset_for_a_role_above_ones_own(app, live, as_user, make_user):
    fs_admin = as_user("fs_admin")
    pk, name = make_user("440606", "province_admin")  # in the subtree, but a province administrator
    show = fs_admin.get(f"/unitusers/show/{pk}")
    assert show.status_code == 200 and "resetpasswords" not in show.text
    # the form is refused, with a message on the user's page, and nothing is written
    attempts = (
        lambda: fs_admin.get(f"/unitusers/resetpassword/{pk}", allow_redirects=False),
        lambda: fs_admin.post(f"/unitusers/resetpassword/{pk}", data={"password": NEW_PASSWORD, "conf_password": NEW_PASSWORD}),
    )
    for attempt in attempts:
        r = attempt()
        assert r.status_code == 302 and r.headers["Location"].endswith(f"/unitusers/show/{pk}")
        page = fs_admin.get(r.headers["Location"]).text
        assert "alert-danger" in page and 'name="conf_password"' not in page
        assert message(app, "You cannot reset the password of a user whose role is above your own.") in page
    r = fs_admin.post(f"/unitusers/action/resetpasswords/{pk}", allow_redirects=True)
    assert r.status_code == 200 and 'name="conf_password"' not in r.text
    assert logs_in(live, name, PASSWORD) and not logs_in(live, name, NEW_PASSWORD)

    # a peer (another unit administrator of the subtree) is not above: allowed
    peer, peer_name = make_user("440606", "unit_admin")
    r = fs_admin.post(f"/unitusers/resetpassword/{peer}", data={"password": NEW_PASSWORD, "conf_password": NEW_PASSWORD})
    assert r.status_code == 302 and logs_in(live, peer_name, NEW_PASSWORD)


def test_only_unit_admins_use_it(app, live, as_user, make_user):
    pk, name = make_user("440606", "clerk")
    for username in ("fs_clerk", "fs_inspector"):
        client = as_user(username)
        r = client.post(f"/unitusers/resetpassword/{pk}", data={"password": NEW_PASSWORD, "conf_password": NEW_PASSWORD})
        assert r.status_code == 403, username
    assert logs_in(live, name, PASSWORD)


def test_province_admins_keep_fabs_reset(app, live, as_user, make_user):
    pk, name = make_user("440300", "clerk")
    admin = as_user("admin")
    r = admin.post(f"/users/action/resetpasswords/{pk}")
    assert r.status_code == 302 and re.search(r"/resetpassword/form\?pk=%s$" % pk, r.headers["Location"])
    r = admin.post(f"/resetpassword/form?pk={pk}", data={"password": NEW_PASSWORD, "conf_password": NEW_PASSWORD})
    assert r.status_code == 302 and logs_in(live, name, NEW_PASSWORD)
    # and may use the unit page too, for anyone: their subtree is the province
    r = admin.post(f"/unitusers/resetpassword/{pk}", data={"password": PASSWORD, "conf_password": PASSWORD})
    assert r.status_code == 302 and logs_in(live, name, PASSWORD)
