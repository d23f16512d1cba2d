"""`qqh backup` / `qqh restore`: a restore into an empty database gives back
every table row by row (both engines) and the attachments folder; a backup
from a newer schema or with plugins not installed is refused with one line."""

from __future__ import annotations

import io
import json
import tarfile

import sqlalchemy as sa
from click.testing import CliRunner

from tests.conftest import initialise, make_app, new_database


def qqh(app, *args):
    from core.cli import cli

    result = CliRunner().invoke(cli, list(args), obj={"app": app})
    return result.exit_code, result.output


def rows(engine) -> dict[str, list]:
    md = sa.MetaData()
    md.reflect(engine)
    out = {}
    with engine.connect() as conn:
        for name, table in md.tables.items():
            cols = list(table.columns)
            out[name] = [tuple(r) for r in conn.execute(sa.select(table).order_by(*cols))]
    return out


def rewrite_manifest(src, dst, change):
    with tarfile.open(src) as tin, tarfile.open(dst, "w") as tout:
        for member in tin.getmembers():
            data = tin.extractfile(member).read() if member.isfile() else None
            if member.name == "manifest.json":
                info = json.loads(data)
                change(info)
                data = json.dumps(info).encode()
                member.size = len(data)
            tout.addfile(member, io.BytesIO(data) if data is not None else None)


def test_backup_and_restore_row_by_row(engine_name, tmp_path_factory, tmp_path):
    from core.ops.demo import load_demo

    url, drop = new_database(engine_name, tmp_path_factory)
    url2, drop2 = new_database(engine_name, tmp_path_factory)
    files, files2 = tmp_path / "att", tmp_path / "att2"
    (files / "2012").mkdir(parents=True)
    (files / "2012" / "证明.pdf").write_bytes(b"%PDF-1.4 attachment")
    source = make_app(url, tmp_path / "i1", QQH_ATTACHMENT_PATH=str(files))
    target = make_app(url2, tmp_path / "i2", QQH_ATTACHMENT_PATH=str(files2))
    try:
        initialise(source)
        with source.app_context():
            load_demo(source)
        code, out = qqh(source, "backup", str(tmp_path / "b.qqh"))
        assert code == 0, out
        with tarfile.open(tmp_path / "b.qqh") as tar:
            info = json.load(tar.extractfile("manifest.json"))
        assert info["engine"] == engine_name and info["version"]
        assert info["migrations"]["core"] and info["migrations"]["memo"]
        assert "memo" in info["plugins"] and info["folders"] == ["attachments"]

        # refusals, one line each, nothing written
        for name, change, words in [
            ("ghost.qqh", lambda i: i["plugins"].update(ghost="1.0"), "not installed here: ghost"),
            ("newer.qqh", lambda i: i["alembic_heads"].append("9999_future"), "newer schema"),
        ]:
            rewrite_manifest(tmp_path / "b.qqh", tmp_path / name, change)
            code, out = qqh(target, "restore", str(tmp_path / name))
            lines = [l for l in out.splitlines() if l.strip()]
            assert code != 0 and len(lines) == 1 and words in lines[0], out
        with target.app_context():
            assert sa.inspect(target.extensions["qqh_db"].engine).get_table_names() == []

        code, out = qqh(target, "restore", str(tmp_path / "b.qqh"))
        assert code == 0, out
        with source.app_context():
            before = rows(source.extensions["qqh_db"].engine)
        with target.app_context():
            after = rows(target.extensions["qqh_db"].engine)
        assert set(before) == set(after) and len(before) > 10
        for table in before:
            assert before[table] == after[table], table
        assert sum(len(v) for v in after.values()) > 2000
        assert (files2 / "2012" / "证明.pdf").read_bytes() == b"%PDF-1.4 attachment"

        # a database that is not empty any more is refused without --replace
        code, out = qqh(target, "restore", str(tmp_path / "b.qqh"))
        assert code != 0 and "not empty" in out
    finally:
        for a in (source, target):
            with a.app_context():
                a.extensions["qqh_db"].session.remove()
                a.extensions["qqh_db"].engine.dispose()
        drop()
        drop2()
