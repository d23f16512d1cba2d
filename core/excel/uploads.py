"""The store of uploaded files awaiting confirmation."""

from __future__ import annotations



import json
import os
import re
import secrets
import time



# -- uploads kept between the check and the confirmation ---------------------------
class UploadStore:
    """Uploaded files waiting for confirmation, in the instance folder under
    a random token (no table): ``<token>.bin`` and ``<token>.json`` (owner,
    list, file name, time, last report). Expire after ``max_age`` seconds."""

    TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")

    def __init__(self, folder: str, max_age: int = 3600):
        self.folder = folder
        self.max_age = max_age

    def _paths(self, token: str) -> tuple[str, str]:
        return os.path.join(self.folder, token + ".bin"), os.path.join(self.folder, token + ".json")

    def purge(self) -> None:
        if not os.path.isdir(self.folder):
            return
        limit = time.time() - self.max_age
        for name in os.listdir(self.folder):
            path = os.path.join(self.folder, name)
            try:
                if os.path.getmtime(path) < limit:
                    os.remove(path)
            except OSError:
                pass

    def save(self, data: bytes, meta: dict) -> str:
        os.makedirs(self.folder, mode=0o700, exist_ok=True)
        try:
            os.chmod(self.folder, 0o700)  # the raw uploads: the app's user only (whatever the umask)
        except OSError:
            pass
        self.purge()
        token = secrets.token_urlsafe(24)
        bin_path, json_path = self._paths(token)
        with os.fdopen(os.open(bin_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as fh:
            fh.write(data)
        self.save_meta(token, dict(meta, created=time.time()))
        return token

    def save_meta(self, token: str, meta: dict) -> None:
        _, json_path = self._paths(token)
        tmp = json_path + ".tmp"
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as fh:
            json.dump(meta, fh, ensure_ascii=False)
        os.replace(tmp, json_path)

    def load(self, token: str, user_id, name: str) -> tuple[bytes, dict] | None:
        """The file and its notes, if ``token`` exists, has not expired and
        belongs to ``user_id`` and list ``name``."""
        if not self.TOKEN.fullmatch(token or ""):
            return None
        bin_path, json_path = self._paths(token)
        try:
            with open(json_path, encoding="utf-8") as fh:
                meta = json.load(fh)
            if meta.get("user_id") != user_id or meta.get("name") != name:
                return None
            if time.time() - meta.get("created", 0) > self.max_age:
                self.drop(token)
                return None
            with open(bin_path, "rb") as fh:
                return fh.read(), meta
        except (OSError, ValueError):
            return None

    def drop(self, token: str) -> None:
        for p in self._paths(token):
            try:
                os.remove(p)
            except OSError:
                pass
