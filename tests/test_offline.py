"""Offline: no page loads anything from outside the server."""

import re

import pytest

EXTERNAL = re.compile(r"""<(script|link|img|iframe|source)\b[^>]*?\b(src|href)\s*=\s*["']?\s*(https?:)?//""", re.I)
CSS_EXTERNAL = re.compile(r"""url\(\s*["']?(https?:)?//""", re.I)

PAGES = [
    "/", "/login/", "/unitview/list/", "/unitview/add", "/memonoteview/list/", "/memonoteview/add",
    "/admin/plugins/", "/users/list/", "/users/add", "/roles/list/", "/modules/",
]


def test_no_page_references_the_internet(as_user, http):
    admin = as_user("admin")
    seen_assets = set()
    for page in PAGES:
        client = http if page == "/login/" else admin
        r = client.get(page)
        assert r.status_code == 200, (page, r.status_code)
        bad = EXTERNAL.findall(r.text)
        assert not bad, f"{page} loads external resources: {bad}"
        seen_assets |= set(re.findall(r"""(?:src|href)=["'](/[^"']+\.(?:css|js))["']""", r.text))
    assert seen_assets
    for asset in sorted(seen_assets):
        r = admin.get(asset)
        assert r.status_code == 200, asset
        if asset.endswith(".css"):
            assert not CSS_EXTERNAL.search(r.text), f"{asset} loads external resources"
