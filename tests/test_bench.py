"""The benchmarks run without the test code, and what bench/list_page.py cut
from the list page (indentation, one inline script per row) changed nothing a
user sees or does."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

from core.web.compact import compact
from core.testing.browser import login
from tests.conftest import PASSWORD

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BLOCKER = """
import importlib.abc, runpy, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('pytest', 'requests', 'tests', '_pytest'):
            raise ImportError('bench imports test code: ' + name)
sys.meta_path.insert(0, Block())
for script in sys.argv[1:]:
    runpy.run_path(script, run_name='bench_check')  # defines everything, runs no main()
    mod = __import__('bench._support', fromlist=['x'])
print('ok')
"""


def test_bench_scripts_import_no_test_code():
    scripts = sorted(os.path.join(ROOT, "bench", f) for f in os.listdir(os.path.join(ROOT, "bench"))
                     if f.endswith(".py") and not f.startswith("_"))
    scripts += [os.path.join(ROOT, "bench", "fabside", f) for f in ("app.py", "side.py")]
    env = dict(os.environ, PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-c", BLOCKER, *scripts], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


def test_compact_keeps_what_a_browser_renders():
    assert compact(b"<p>a\n      b</p>\n\n\n   <i>x</i>") == b"<p>a\nb</p>\n<i>x</i>"
    kept = b"<pre>x\n   y</pre>\n   <TEXTAREA name=t>\n  q\n\n  r</TEXTAREA>"
    assert compact(kept) == b"<pre>x\n   y</pre>\n<TEXTAREA name=t>\n  q\n\n  r</TEXTAREA>"
    assert compact(b"<p>one line</p>") == b"<p>one line</p>"


def test_list_rows_written_in_one_pass_show_what_the_template_showed(as_user):
    """The rows of a list page come from core.web.list_rows, not from Jinja: each cell as ``{{ }}`` shows it
    (escaped, dates as 2012年3月5日, nothing for an empty value), each row's buttons linking to its own record."""
    admin = as_user("admin")
    unit = admin.get("/api/v1/unit/", params={"q": "(filters:!((col:code,opr:eq,value:'440606')))"}).json()["ids"][0]
    title = '<img src=x onerror="alert(1)">行' + uuid.uuid4().hex[:6]
    note = admin.post("/api/v1/memonote/", json={"title": title, "noted_on": "2012-03-05", "unit": unit}).json()["id"]
    html = admin.get("/memonoteview/list/", params={"_flt_0_title": title[-8:]}).text
    table = html[html.index('<table class="table table-bordered table-hover"'):]
    row = table[table.index("</thead>"):table.index("</table>")]
    assert row.count("<tr>") == 1
    assert "<img" not in row and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;行" in row
    assert "<td>2012年3月5日</td>" in row and "<td>None</td>" not in row
    for action, title_text in (("show", "查看记录"), ("edit", "编辑记录")):
        assert f'href="/memonoteview/{action}/{note}" class="btn btn-sm btn-default" data-toggle="tooltip" rel="tooltip"' \
               f' title="{title_text}"' in row
    assert f'data-delete="/memonoteview/delete/{note}" title="删除记录"><span class="sr-only">删除</span>' in row
    assert admin.post(f"/memonoteview/delete/{note}", data={}).status_code in (200, 302)


def test_list_page_links_written_in_one_pass_are_what_fab_s_macros_wrote(app):
    """The page links and page sizes above a list (core.web.list_rows.list_pages: one url_for for all)
    are the markup of FAB's render_pagination and render_set_page_size, whatever the page, its size,
    the count and the other arguments of the request (a search, an order) — escaped alike."""
    import re

    from core.web.list_rows import list_pages

    def squeezed(html) -> str:
        return re.sub(r"\s*(<|>)\s*", r"\1", str(html)).strip()

    query = "/memonoteview/list/?_flt_0_title=%3Cb%3E%26&_oc_MemoNoteView=noted_on&_od_MemoNoteView=asc&page_MemoNoteView=2"
    compared = 0
    with app.test_request_context(query, headers={"Accept-Language": "zh"}):
        lib = app.jinja_env.get_template("appbuilder/general/lib.html").make_module({})
        for count in (0, 1, 25, 26, 100, 101, 240, 1000, 100_000):
            for page_size in (25, 50, 100):
                for page in (None, 0, 1, 2, 3, 4, 7, 39, 3999):
                    theirs = squeezed(lib.render_pagination(page, page_size, count, "MemoNoteView")) + \
                        squeezed(lib.render_set_page_size(page, page_size, count, "MemoNoteView"))
                    ours = squeezed(list_pages(page, page_size, count, "MemoNoteView"))
                    assert ours == theirs, (count, page_size, page, ours, theirs)
                    compared += bool(theirs)
        assert compared > 100
        ours = str(list_pages(2, 25, 240, "MemoNoteView"))
    assert 'href="/memonoteview/list/?_flt_0_title=%3Cb%3E%26&amp;_oc_MemoNoteView=noted_on&amp;_od_MemoNoteView=asc&amp;page_MemoNoteView=9"' in ours
    assert '<li class="active">\n<a href="#">3</a>' in ours and "psize_MemoNoteView=100" in ours and "Page size" not in ours


def test_the_search_form_kept_between_requests_is_fab_s_with_each_request_s_nonce(as_user, app, monkeypatch):
    """A list page's search form is kept between requests while no filter is active and nothing is
    written (core/web/search_form.py): the markup FAB renders afresh, each page's script carrying the
    nonce of its own Content-Security-Policy; a search is rendered with its filters, and the next
    page without one is the plain form again."""
    import re

    from flask_appbuilder.widgets import SearchWidget

    from core.web.scoped_views import ScopedModelView

    fs = as_user("fs_clerk")

    def form(params=None) -> str:
        r = fs.get("/memonoteview/list/", params=params)
        assert r.status_code == 200
        nonce = re.search(r"'nonce-([^']+)'", r.headers["Content-Security-Policy"]).group(1)
        start = r.text.index('<form id="filter_form"')
        markup = r.text[start:r.text.index("</script>", start)]
        assert f'<script nonce="{nonce}">' in markup, markup[-400:]
        return markup.replace(nonce, "NONCE")

    kept = [form(), form()]
    assert any(key[0] == "/memonoteview" for key in app.extensions.get("qqh_search_forms_kept", {}))
    assert kept[0] == kept[1] and "new AdminFilters" in kept[0] and kept[0].rstrip().endswith("[]\n);\n})(jQuery);")
    with monkeypatch.context() as m:
        m.setattr(ScopedModelView, "search_widget", SearchWidget)
        assert form() == kept[0]  # FAB's own, rendered afresh
    searched = form({"_flt_0_title": "检索词"})
    assert searched != kept[0] and '[["title", "\\u5305\\u542b", ["\\u68c0\\u7d22\\u8bcd"]]]' in searched  # 包含 检索词
    assert form() == kept[0]


def test_list_page_is_light_and_its_delete_button_still_asks_and_deletes(browser, live, as_user, app):  # noqa: F811
    admin = as_user("admin")
    unit = admin.get("/api/v1/unit/", params={"q": "(filters:!((col:code,opr:eq,value:'440606')))"}).json()["ids"][0]
    title = "删除检查" + uuid.uuid4().hex[:6]
    note = admin.post("/api/v1/memonote/", json={"title": title, "noted_on": "2012-03-05", "unit": unit}).json()["id"]
    html = admin.get("/memonoteview/list/").text
    assert "\n " not in html  # no indentation is sent
    assert html.count("<script") < 15  # not one per row
    page = browser.new_page()
    try:
        login(page, live.url, "fs_clerk", PASSWORD)
        page.goto(live.url + "/memonoteview/list/?_flt_0_title=" + title)
        page.click(f'a[data-delete="/memonoteview/delete/{note}"]')
        page.wait_for_selector("#modal-confirm .modal-body:has-text('确定要删除这条记录吗')", timeout=10000)
        page.click("#modal-confirm-ok")
        page.wait_for_load_state("load")
        page.wait_for_function(f"!document.querySelector('a[data-delete=\"/memonoteview/delete/{note}\"]')",
                               timeout=10000)
    finally:
        page.close()
    assert admin.get(f"/api/v1/memonote/{note}").status_code == 404


def test_static_urls_built_once_follow_the_script_root(app):
    """A page's static links are built once per script root (core/web/static_urls.py): served under a
    prefix (SCRIPT_NAME, as behind a reverse proxy's /qqh/), the same page links the prefixed files."""
    client = app.test_client()
    plain = client.get("/login/").text
    prefixed = client.get("/login/", base_url="http://localhost/qqh/").text
    assert 'href="/static/appbuilder/css/bootstrap.min.css"' in plain
    assert 'href="/qqh/static/appbuilder/css/bootstrap.min.css"' in prefixed
    assert 'href="/static/appbuilder/css/bootstrap.min.css"' not in prefixed
    assert 'href="/static/appbuilder/css/bootstrap.min.css"' in client.get("/login/").text
