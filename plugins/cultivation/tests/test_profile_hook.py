"""The profile-section hook that cultivation offers to other plugins, tested
with tiny fake plugins in an app of their own."""

import types

import pytest
from markupsafe import Markup

from core.api import hookimpl, Manifest, PluginError
from core.testing.engines import PluginRegistry
from core.api import Scope
from plugins import cultivation
from plugins.cultivation import hookspecs
from plugins.cultivation.profile import ProfileSection, normalise
from core.testing import PASSWORD, close_app, initialise, make_app, new_database


def fake_plugin(name, requires=("cultivation",), **hooks):
    mod = types.ModuleType(f"fake_{name}")

    @hookimpl
    def qqh_manifest():
        return Manifest(name=name, version="1.0", label=name, requires=tuple(requires), core=">=0")

    mod.qqh_manifest = qqh_manifest
    for k, v in hooks.items():
        setattr(mod, k, v)
    return mod


@hookimpl
def trainings_section(org, session, scope):
    assert session is not None and isinstance(scope, Scope)
    return [
        ProfileSection("骨干培训记录", columns=("训练营", "日期"), rows=[("第一期亲青汇训练营", org.founded_on)], order=10),
        ("入驻的亲青家园", Markup("<b>南海桂城创益中心</b>")),
        ("未转义", "<script>alert(1)</script>"),
        ("团建情况", [{"模式": "枢纽式", "联络员": "王青"}]),
    ]


@hookimpl
def broken_section(org):
    raise RuntimeError("boom")


@pytest.fixture(scope="module")
def hook_app(engine_name, tmp_path_factory):
    url, drop = new_database(engine_name, tmp_path_factory)
    extra = {
        "fakeprofile": fake_plugin("fakeprofile", qqh_youthorg_profile_sections=trainings_section),
        "brokenprofile": fake_plugin("brokenprofile", qqh_youthorg_profile_sections=broken_section),
    }
    # only cultivation and the fakes: the sections of real plugins are theirs to test
    app = make_app(url, tmp_path_factory.mktemp("inst"), QQH_EXTRA_PLUGINS=extra,
                   QQH_PLUGINS=["cultivation", *extra])
    initialise(app, {"fs_clerk": ("440600", "clerk"), "sz_clerk": ("440300", "clerk")})
    yield app
    close_app(app)
    drop()


def test_plugins_add_sections_to_the_profile(hook_app):
    import datetime

    from core.testing.engines import unit_by_code
    from plugins.cultivation.models import YouthOrg

    with hook_app.app_context():
        s = hook_app.appbuilder.session
        org = YouthOrg(name="钩子测试组织", unit=unit_by_code(s, "440606"), category="interest", service_field="other",
                       reg_status="unregistered", founded_on=datetime.date(2011, 5, 4))
        s.add(org)
        s.commit()
        pk = org.id
    c = hook_app.test_client()
    assert c.post("/login/", data={"username": "fs_clerk", "password": PASSWORD}).status_code == 302
    r = c.get(f"/youthorg/profile/{pk}")
    assert r.status_code == 200
    html = r.data.decode()
    assert "钩子测试组织" in html
    # order: the section with order=10 comes before the others
    assert html.index("骨干培训记录") < html.index("入驻的亲青家园") < html.index("团建情况")
    assert "第一期亲青汇训练营" in html and "2011年5月4日" in html
    assert "<b>南海桂城创益中心</b>" in html  # Markup is kept
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html  # text is escaped
    assert "枢纽式" in html and "联络员" in html
    # a failing plugin costs only its own section
    assert "本栏目暂时无法显示" in html
    other = hook_app.test_client()
    other.post("/login/", data={"username": "sz_clerk", "password": PASSWORD})
    assert other.get(f"/youthorg/profile/{pk}").status_code == 404  # the hook never runs outside the scope


def test_hook_is_declared_and_documented():
    reg = PluginRegistry(extra={"cultivation": cultivation}, use_entry_points=False)
    assert "qqh_youthorg_profile_sections" in reg.hook_names
    assert (hookspecs.qqh_youthorg_profile_sections.__doc__ or "").strip()


def test_a_misspelt_section_hook_fails_at_start_up():
    @hookimpl
    def qqh_youthorg_profile_section(org):
        return []

    bad = fake_plugin("typo", qqh_youthorg_profile_section=qqh_youthorg_profile_section)
    with pytest.raises(PluginError, match="not a hook|unknown hook"):
        PluginRegistry(extra={"cultivation": cultivation, "typo": bad}, use_entry_points=False)


def test_a_plugin_using_the_hook_needs_cultivation_enabled():
    user = fake_plugin("user", qqh_youthorg_profile_sections=trainings_section)
    with pytest.raises(PluginError, match="requires plugin 'cultivation'"):
        PluginRegistry(enabled=["user"], extra={"cultivation": cultivation, "user": user}, use_entry_points=False)


def test_normalise_refuses_nonsense():
    with pytest.raises(TypeError):
        normalise("x", 42)
    assert normalise("x", ("t", [])).rows == []
