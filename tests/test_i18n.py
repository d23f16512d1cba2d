"""Chinese first: every catalog complete, Chinese by default, no header leaks."""

import gettext
import os

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEYWORDS = {"_l": None, "lazy_gettext": None, "gettext": None, "_": None}


def catalogs():
    yield "messages", os.path.join(ROOT, "core"), os.path.join(ROOT, "translations")
    for name in sorted(os.listdir(os.path.join(ROOT, "plugins"))):
        tdir = os.path.join(ROOT, "plugins", name, "translations")
        if os.path.isdir(tdir):
            yield name, os.path.join(ROOT, "plugins", name), tdir


@pytest.mark.parametrize("domain, source, tdir", list(catalogs()), ids=lambda v: v if isinstance(v, str) and "/" not in v else None)
def test_every_string_has_a_chinese_translation(domain, source, tdir):
    found = set()
    for _f, _l, msg, _c, _ctx in extract_from_dir(
        source, method_map=[("**.py", "python"), ("**/templates/**.html", "jinja2")], keywords=KEYWORDS
    ):
        found.add(msg if isinstance(msg, str) else msg[0])
    found.discard("")
    assert found, "no strings found: is the extractor configured?"
    po = read_po(open(os.path.join(tdir, "zh", "LC_MESSAGES", f"{domain}.po"), "rb"))
    missing = sorted(m for m in found if not (po.get(m) and po.get(m).string))
    assert not missing, f"{domain}: no Chinese for {missing} (run bin/catalogs, then translate)"
    mo = gettext.GNUTranslations(open(os.path.join(tdir, "zh", "LC_MESSAGES", f"{domain}.mo"), "rb"))
    stale = sorted(m for m in found if mo.gettext(m) == m and po.get(m).string != m)
    assert not stale, f"{domain}: .mo is older than .po for {stale} (run bin/catalogs)"


def test_pages_are_chinese_by_default_and_english_on_request(http, as_user):
    r = http.get("/login/")
    assert "登录" in r.text and "用户名" in r.text
    admin = as_user("admin")
    home = admin.get("/")
    assert "欢迎使用亲青汇" in home.text and "样例记事" in home.text and "团组织" in home.text
    admin.get("/lang/en", allow_redirects=False)
    home = admin.get("/")
    assert "Welcome to 亲青汇" in home.text and "League units" in home.text


def test_api_info_never_leaks_the_catalog_header(as_user):
    admin = as_user("admin")
    for resource in ("samplenote", "unit"):
        r = admin.get(f"/api/v1/{resource}/_info")
        assert r.status_code == 200
        assert "Project-Id-Version" not in r.text and "Content-Type: text/plain" not in r.text
    labels = {f["name"]: f["label"] for f in admin.get("/api/v1/samplenote/_info").json()["add_columns"]}
    assert labels["title"] == "标题"
