"""Chinese first: every catalog complete, Chinese by default, no header leaks."""

import gettext
import os

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from core.testing.pages import untranslated

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEYWORDS = {"_l": None, "lazy_gettext": None, "gettext": None, "_": None}


def catalogs():
    yield "messages", os.path.join(ROOT, "core"), os.path.join(ROOT, "translations")
    for name in sorted(os.listdir(os.path.join(ROOT, "plugins"))):
        tdir = os.path.join(ROOT, "plugins", name, "translations")
        if os.path.isdir(tdir):
            yield name, os.path.join(ROOT, "plugins", name), tdir
    yield "memo", os.path.join(ROOT, "tests", "memo_plugin"), os.path.join(ROOT, "tests", "memo_plugin", "translations")


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


def test_catalogs_never_translate_one_string_two_ways():
    """Flask-Babel merges every domain into one catalog: a plugin translating
    core's msgid differently would change core's pages (last one wins)."""
    seen = {}
    for domain, _source, tdir in catalogs():
        for m in read_po(open(os.path.join(tdir, "zh", "LC_MESSAGES", f"{domain}.po"), "rb")):
            if m.id and m.string:
                msgid = m.id if isinstance(m.id, str) else m.id[0]
                seen.setdefault(msgid, {}).setdefault(m.string if isinstance(m.string, str) else m.string[0], domain)
    clashes = {msgid: ways for msgid, ways in seen.items() if len(ways) > 1}
    assert not clashes, f"one msgid, two translations (use a more specific msgid in the plugin): {clashes}"


def test_pages_are_chinese_by_default_and_english_on_request(http, as_user):
    r = http.get("/login/")
    assert "登录" in r.text and "用户名" in r.text
    admin = as_user("admin")
    home = admin.get("/")
    assert "欢迎使用亲青汇" in home.text and "测试记事" in home.text and "团组织" in home.text
    admin.get("/lang/en", allow_redirects=False)
    home = admin.get("/")
    assert "Welcome to 亲青汇" in home.text and "League units" in home.text


def test_api_info_never_leaks_the_catalog_header(as_user):
    admin = as_user("admin")
    for resource in ("memonote", "unit"):
        r = admin.get(f"/api/v1/{resource}/_info")
        assert r.status_code == 200
        assert "Project-Id-Version" not in r.text and "Content-Type: text/plain" not in r.text
    labels = {f["name"]: f["label"] for f in admin.get("/api/v1/memonote/_info").json()["add_columns"]}
    assert labels["title"] == "标题"


# what counts as English on a page: core.testing.pages (the plugin contract checks plugins' pages the same way)
NOT_CRAWLED = ("/api/", "/static/", "/qqh-static/", "/appbuilder/", "/logout", "/lang/", "/back",
               "/roles/add")  # FAB's role form lists permission identifiers (can_list on UnitView): not words


def test_no_page_shows_english_in_chinese(app, as_user):
    """Crawls every page without arguments, plus a record's show and edit pages,
    as a province admin and a unit admin: FAB's strings included, no English
    (nor Python's None/True/False) reaches a Chinese user."""
    admin = as_user("admin")
    unit = admin.get("/api/v1/unit/", params={"q": "(filters:!((col:code,opr:eq,value:'440600')))"}).json()["ids"][0]
    r = admin.post("/api/v1/memonote/", json={"title": "界面语言检查", "noted_on": "2012-03-05", "unit": unit})
    assert r.status_code == 201, r.text
    note = r.json()["id"]
    paths = sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and not rule.arguments and not rule.rule.startswith(NOT_CRAWLED)
    ) + [f"/memonoteview/show/{note}", f"/memonoteview/edit/{note}"]
    english, crawled = {}, 0
    try:
        for username in ("admin", "fs_admin"):
            client = admin if username == "admin" else as_user(username)
            for path in paths:
                r = client.get(path)
                if r.status_code != 200 or "text/html" not in r.headers.get("Content-Type", ""):
                    continue
                crawled += 1
                for text in untranslated(r.text):
                    english.setdefault(text, path)
    finally:
        admin.delete(f"/api/v1/memonote/{note}")
    assert crawled > 50
    assert not english, f"English on Chinese pages (text: first page): {english}"


def test_templates_gettext_gives_what_jinja_s_newstyle_gettext_gave(app):
    """The templates' ``_()`` (core.web.display.page_gettext, which needs no template context) writes
    what Jinja's newstyle gettext wrote under autoescape: the translation, its values escaped, ``%%``
    as ``%``, in a block with variables of its own and in ``{% trans %}`` alike."""
    import jinja2
    from flask_babel import get_translations

    source = ("{% block b %}{% set n = 3 %}{{ _('Record Count') }}|{{ _('Search') }}|{{ gettext('Page size') }}|"
              "{{ _('%(name)s and %(n)s', name='<b>&', n=n) }}|{{ _('100%% sure') }}|{{ _(v) }}|"
              "{% trans who='<i>' %}Hello {{ who }}{% endtrans %}{% endblock %}")
    reference = jinja2.Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    reference.install_gettext_callables(lambda s: get_translations().ugettext(s),
                                        lambda s, p, n: get_translations().ungettext(s, p, n), newstyle=True)
    for language in ("zh", "en"):
        with app.test_request_context("/", headers={"Accept-Language": language}):
            ours = app.jinja_env.from_string(source).render(v="Back")
            theirs = reference.from_string(source).render(v="Back")
            assert ours == theirs, (language, ours, theirs)
            assert "&lt;b&gt;&amp;" in ours and "100% sure" in ours and "&lt;i&gt;" in ours
    with app.test_request_context("/", headers={"Accept-Language": "zh"}):
        assert app.jinja_env.from_string(source).render(v="Back").startswith("记录数目|搜索|")
