"""The plugin works with every other plugin disabled except the one it
requires, and refuses to start without it."""

import pytest

from core.api import PluginError
from core.testing.engines import PluginRegistry
from core.testing import PASSWORD, close_app, initialise, make_app, new_database


def test_training_needs_cultivation():
    with pytest.raises(PluginError, match="requires plugin 'cultivation'"):
        PluginRegistry(enabled=["training"])
    reg = PluginRegistry(enabled=["training", "cultivation"])
    assert reg.switchable() == ["cultivation", "training"]


@pytest.fixture(scope="module")
def alone(engine_name, tmp_path_factory):
    url, drop = new_database(engine_name, tmp_path_factory)
    app = make_app(url, tmp_path_factory.mktemp("inst"), QQH_PLUGINS=["cultivation", "training"])
    initialise(app, {"fs_clerk": ("440600", "clerk")})
    yield app
    close_app(app)
    drop()


def test_pages_work_with_only_cultivation_beside_it(alone):
    assert alone.extensions["qqh_plugins"].switchable() == ["cultivation", "training"]
    c = alone.test_client()
    assert c.post("/login/", data={"username": "fs_clerk", "password": PASSWORD}).status_code == 302
    for path in ("/trainingcamp/list/", "/trainingcamp/add", "/trainingenrolment/list/", "/traininglecturer/list/",
                 "/trainingtrainee/list/", "/api/v1/trainingcamp/", "/youthorg/list/"):
        assert c.get(path).status_code == 200, path
    assert c.get("/memonoteview/list/").status_code == 404
