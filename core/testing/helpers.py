"""Small helpers of plugins' tests and core's: unique names, a record made through the REST API and
records counted, the SQL statements a block runs, calls released at once (races), the bytes of a file
to upload. No test framework is imported (pytest's fixtures over them are in core.testing.plugin)."""

from __future__ import annotations

import contextlib
import threading
import uuid

__all__ = ["PNG", "at_once", "count", "create", "statements_of", "unique", "unique_bytes"]

# the smallest valid PNG (1×1): an attachment the upload checks accept
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" \
      b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"


def unique(prefix: str = "测试") -> str:
    """A name nobody else uses: ``prefix`` and 8 hexadecimal digits (tests never assume an empty table)."""
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def unique_bytes(head: bytes = PNG) -> bytes:
    """``head`` and 16 random bytes: a file of another hash each time (attachments are stored by hash)."""
    return head + uuid.uuid4().bytes


def create(client, url: str, payload: dict) -> int:
    """POST ``payload`` to the REST collection ``url`` with ``client``; asserts 201 and returns the id."""
    r = client.post(url, json=payload)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def count(db, model, **where) -> int:
    """How many rows of ``model`` have the given column values, in a session of ``db`` (the fixture)."""
    from sqlalchemy import func, select

    with db() as s:
        q = select(func.count()).select_from(model)
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        return s.execute(q).scalar_one()


@contextlib.contextmanager
def statements_of(engine, every_thread: bool = False):
    """The SQL statements ``engine`` runs within the block, as a list filled meanwhile: by default only
    this thread's (the job worker's polling and the live server's requests are not the code under test;
    counting them made the set-based tests fail now and then)."""
    import sqlalchemy as sa

    seen: list[str] = []
    me = threading.get_ident()

    def listen(conn, cursor, statement, parameters, context, executemany):
        if every_thread or threading.get_ident() == me:
            seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)


def at_once(*calls):
    """Run the calls in threads released together (a barrier); their results in order."""
    results = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(i):
        barrier.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results
