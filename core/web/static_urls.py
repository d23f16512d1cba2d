"""Static files' URLs, built once.

Every page links about twenty static files (FAB's CSS and scripts, core's),
each through ``url_for``, ~10 µs apiece. A static file's URL depends only on
its endpoint, its name and the application's script root (the URL map is
fixed once the app is built), so each is built once per script root and kept.
Every other ``url_for`` of a template is Flask's own.
"""

from __future__ import annotations

from flask import request, url_for as flask_url_for

MAX_KEPT = 4096


def install(app) -> None:
    statics = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint == "static" or rule.endpoint.endswith(".static")}
    kept: dict[tuple, str] = {}

    def url_for(endpoint, **values):
        if endpoint in statics and len(values) == 1 and "filename" in values:
            key = (endpoint, values["filename"], request.script_root)
            url = kept.get(key)
            if url is None:
                if len(kept) >= MAX_KEPT:
                    kept.clear()
                url = kept[key] = flask_url_for(endpoint, **values)
            return url
        return flask_url_for(endpoint, **values)

    app.jinja_env.globals["url_for"] = url_for
