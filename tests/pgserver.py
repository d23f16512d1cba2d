"""A throwaway PostgreSQL server of a test's own (it can be stopped and
restarted without touching the shared one), as bin/test starts its server."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile


def pg_bin() -> str | None:
    found = shutil.which("initdb")
    if found:
        return os.path.dirname(os.path.realpath(found))
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.access(os.path.join(d, "pg_ctl"), os.X_OK):
            return d
    return None


class PgServer:
    def __init__(self):
        self.bin = pg_bin()
        if self.bin is None:
            raise RuntimeError("no PostgreSQL server binaries (initdb)")
        self.dir = tempfile.mkdtemp(prefix="qqh-own-pg.")
        self.data = os.path.join(self.dir, "data")
        self.prefix = []
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            shutil.chown(self.dir, "postgres", "postgres")
            self.prefix = ["runuser", "-u", "postgres", "--"]
        os.chmod(self.dir, 0o700)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._run("initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
        conf = (f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\nunix_socket_directories = '{self.dir}'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")
        subprocess.run(self.prefix + ["tee", "-a", os.path.join(self.data, "postgresql.conf")], input=conf,
                       text=True, check=True, capture_output=True)
        self.start()

    def _run(self, tool, *args):
        subprocess.run(self.prefix + [os.path.join(self.bin, tool), *args], check=True, capture_output=True,
                       cwd=self.dir)

    def start(self):
        self._run("pg_ctl", "start", "-D", self.data, "-l", os.path.join(self.dir, "server.log"), "-w", "-t", "60", "-s")

    def stop(self):
        self._run("pg_ctl", "stop", "-D", self.data, "-m", "fast", "-w", "-s")

    def url(self, database="postgres") -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{database}"

    def createdb(self, name: str) -> str:
        subprocess.run([os.path.join(self.bin, "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                        name], check=True, capture_output=True)
        return self.url(name)

    def destroy(self):
        try:
            self._run("pg_ctl", "stop", "-D", self.data, "-m", "immediate", "-s")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
