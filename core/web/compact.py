"""HTML pages without their template indentation.

Jinja keeps every template's indentation and the blank lines its block tags
leave: on a list page of 25 rows that was ~30 KB of 75 KB. Browsers render a
run of white space between words or tags as one space, so each run that holds
a line break is sent as one line break: the page looks and behaves the same
(inline scripts keep their line breaks, so their meaning does not change);
``<pre>`` and ``<textarea>``, where white space is content, are left as they are.
"""

from __future__ import annotations

import re

_KEEP = re.compile(rb"(<pre\b.*?</pre>|<textarea\b.*?</textarea>)", re.S | re.I)
_RUN = re.compile(rb"\n\s+")  # a line break and the indentation and blank lines after it (~1 ms for 75 KB)


def compact(html: bytes) -> bytes:
    low = html.lower()
    if b"<pre" not in low and b"<textarea" not in low:
        return _RUN.sub(b"\n", html)
    parts = _KEEP.split(html)
    for i in range(0, len(parts), 2):  # even parts lie outside <pre>/<textarea>
        parts[i] = _RUN.sub(b"\n", parts[i])
    return b"".join(parts)


def install(app) -> None:
    @app.after_request
    def _compact(response):
        if (response.mimetype == "text/html" and not response.direct_passthrough and not response.is_streamed
                and response.status_code != 304):
            body = response.get_data()
            small = compact(body)
            if len(small) != len(body):
                response.set_data(small)
        return response
