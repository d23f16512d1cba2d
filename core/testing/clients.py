"""HTTP clients of a live server (requests): a cookie session and a bearer token."""

from __future__ import annotations

import requests

from core.testing.support import PASSWORD


class Client(requests.Session):
    """requests.Session bound to the live server's base URL."""

    def __init__(self, base):
        super().__init__()
        self.base = base

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("timeout", 30)
        kwargs.setdefault("allow_redirects", False)
        return super().request(method, self.base + url, *args, **kwargs)

    def login(self, username, password=PASSWORD):
        r = self.post("/login/", data={"username": username, "password": password})
        assert r.status_code == 302, r.text[:500]
        assert "/login" not in r.headers.get("Location", ""), f"login of {username} failed"
        return self


class TokenClient(Client):
    """A client as a machine client is: a bearer token from
    POST /api/v1/security/login on every request, no cookie."""

    def login(self, username, password=PASSWORD):
        r = self.post("/api/v1/security/login", json={"username": username, "password": password, "provider": "db"})
        assert r.status_code == 200, r.text[:500]
        self.headers["Authorization"] = "Bearer " + r.json()["access_token"]
        self.cookies.clear()
        return self
