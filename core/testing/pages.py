"""What a Chinese page must not show: visible English (tests/test_i18n.py and the plugin contract)."""

from __future__ import annotations

import html
import re

ENGLISH_WORD = re.compile(r"[A-Za-z]*[a-z][A-Za-z]*")  # an English word has a lower-case letter
DATA_TOKEN = re.compile(r"^[a-z0-9_.@-]+$")  # user names, e-mail addresses: data, not interface
CHINESE = re.compile(r"[\u4e00-\u9fff]")
LANGUAGE_NAMES = {"- English"}  # the language switch names English in English


def untranslated(page: str) -> set[str]:
    """Visible English on a page: text, tooltips, placeholders, confirm messages."""
    texts = re.findall(r'\b(?:title|placeholder|alt)="([^"]*)"', page)
    texts += re.findall(r"execute_single_delete\('[^']*','([^']*)'", page)
    texts += re.findall(r'\bdata-confirm[\w-]*="([^"]*)"', page)
    body = re.sub(r"<script.*?</script>|<style.*?</style>|<code>.*?</code>|<title>.*?</title>", "", page, flags=re.S)
    texts += html.unescape(re.sub(r"<[^>]+>", "\n", body)).splitlines()
    found = set()
    for text in texts:
        text = text.strip()
        if not text or text in LANGUAGE_NAMES or DATA_TOKEN.match(text) or CHINESE.search(text):
            continue
        if any(len(w) > 1 for w in ENGLISH_WORD.findall(text)):
            found.add(text)
    return found
