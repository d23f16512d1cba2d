"""Background jobs (issue 20, point 3): long work — imports (check and
commit), big exports — never runs inside a request, so no request meets a
timeout.

* The job table ``qqh_job`` holds everything about a job (kind, owner, unit,
  parameters, state, progress done/total, result or Chinese error message,
  heartbeat, times): any worker of any app server reports on it and can
  finish it.
* By default every app process runs one worker thread (started with the
  first request). It claims jobs atomically from the table — ``SELECT … FOR
  UPDATE SKIP LOCKED`` on PostgreSQL, a conditional ``UPDATE`` on SQLite — so
  two servers never run the same job. While it runs a job it writes the
  progress and a heartbeat every second; a job whose heartbeat stopped for
  ``QQH_JOB_STALE_SECONDS`` (its worker was killed) is claimed again, and
  after ``MAX_ATTEMPTS`` is marked failed with a message.
* With ``QQH_REDIS_URL`` the jobs go to an RQ queue instead (``qqh worker``
  runs an RQ worker); the table stays the record.
* ``QQH_JOBS=inline`` runs a job in the request that starts it (unit-level
  tests, scripts).
* A job may keep a file (a big export) in :func:`files_folder` — the shared
  upload folder, so any server can hand it out — named after the job's id.
  Finished jobs older than ``QQH_JOB_KEEP_DAYS`` (default 30) are deleted,
  with their files, by the workers (:func:`purge`, at most once an hour per
  process).

A job kind is a function registered with :func:`kind`: ``fn(params, ctx)``
returns the result (JSON); it runs in a request context of its own made for
the job's owner (``g`` user, address, query string), so scoping and the
audit log see the owner as in the request that started it.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import socket
import threading
import time
import uuid
import weakref

from flask import current_app, g
from flask_appbuilder import Model
from flask_babel import gettext
from sqlalchemy import DateTime, Integer, String, Text, and_, delete, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
FINISHED = (DONE, FAILED)
MAX_ATTEMPTS = 2  # a job whose worker died twice is not tried a third time
HEARTBEAT_SECONDS = 1.0

KINDS: dict[str, callable] = {}


def kind(name: str):
    """Register ``fn(params: dict, ctx: JobContext) -> dict`` as job kind ``name``."""

    def register(fn):
        KINDS[name] = fn
        return fn

    return register


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class Job(Model):
    """One piece of long work, its progress and its outcome."""

    __tablename__ = "qqh_job"
    __qqh_audit__ = False  # bookkeeping: the work itself is audited

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random: not guessable
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default=QUEUED, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)  # no foreign key: rows outlive users
    unit_id: Mapped[int | None] = mapped_column(Integer)
    params: Mapped[str | None] = mapped_column(Text)  # JSON
    result: Mapped[str | None] = mapped_column(Text)  # JSON
    error: Mapped[str | None] = mapped_column(Text)  # for the user, in their language
    stage: Mapped[str | None] = mapped_column(String(16))
    done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    worker: Mapped[str | None] = mapped_column(String(100))
    created: Mapped[datetime.datetime] = mapped_column(DateTime, nullable=False, default=_now)
    started: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    finished: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    heartbeat: Mapped[datetime.datetime | None] = mapped_column(DateTime)

    @property
    def outcome(self):
        """The result, parsed (None until done)."""
        return json.loads(self.result) if self.result else None

    @property
    def request_params(self) -> dict:
        """The parameters the job was started with."""
        return (json.loads(self.params) if self.params else {}).get("params") or {}

    def as_dict(self) -> dict:
        def t(v):
            return v.replace(microsecond=0).isoformat() + "Z" if v else None

        return dict(
            id=self.id, kind=self.kind, state=self.state, stage=self.stage, done=self.done, total=self.total,
            percent=percent(self.stage, self.done, self.total, self.state),
            result=json.loads(self.result) if self.result else None, error=self.error,
            created=t(self.created), started=t(self.started), finished=t(self.finished),
        )


# the share of the work each stage stands for, in per cent (reading, checking, writing, exporting)
STAGES = {"read": (0, 20), "check": (20, 60), "write": (80, 20), "export": (0, 100)}


def percent(stage, done, total, state=None) -> int:
    if state in FINISHED:
        return 100
    start, width = STAGES.get(stage or "", (0, 0))
    share = (done / total) if total else 0
    return max(0, min(99, int(start + width * share)))


def _engine(app):
    return app.extensions["qqh_db"].engine


def _sqlite(app) -> bool:
    return _engine(app).dialect.name == "sqlite"


def thread_wanted(app) -> bool:
    """Whether this process runs a worker thread (QQH_JOB_WORKER_THREAD, default on in thread mode)."""
    return mode(app) == "thread" and bool(app.config.get("QQH_JOB_WORKER_THREAD", True))


def mode(app) -> str:
    if app.config.get("QQH_REDIS_URL"):
        return "rq"
    return "inline" if app.config.get("QQH_JOBS") == "inline" else "thread"


def stale_seconds(app) -> float:
    return float(_setting(app, "QQH_JOB_STALE_SECONDS", 60))


def _setting(app, key, default):
    """A setting from the app's config, else the environment, else ``default``."""
    value = app.config.get(key)
    if value is None:
        value = os.environ.get(key)
    return default if value in (None, "") else value


# -- files of jobs, and deleting old jobs --------------------------------------------------
def files_folder(app) -> str:
    """Where jobs keep their files: ``jobs/`` in the shared upload folder
    (QQH_UPLOAD_PATH), readable by the app's user only."""
    base = app.config.get("QQH_UPLOAD_PATH") or os.path.join(app.config["QQH_INSTANCE_PATH"], "imports")
    return os.path.join(base, "jobs")


def file_path(app, job_id: str, suffix: str = ".xlsx") -> str:
    return os.path.join(files_folder(app), job_id + suffix)


def open_file(app, job_id: str, suffix: str = ".xlsx"):
    """A new file of the job, mode 0600 in a 0700 folder (whatever the umask); binary, for writing."""
    folder = files_folder(app)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    for path in (os.path.dirname(folder), folder):
        try:
            os.chmod(path, 0o700)
        except OSError:
            pass
    return os.fdopen(os.open(file_path(app, job_id, suffix), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")


def keep_days(app) -> float:
    return float(_setting(app, "QQH_JOB_KEEP_DAYS", 30))


def purge(app) -> int:
    """Delete the jobs finished more than QQH_JOB_KEEP_DAYS ago, and their
    files (one SELECT, one DELETE); how many were deleted."""
    t = Job.__table__
    old = and_(t.c.state.in_(FINISHED), t.c.finished < _now() - datetime.timedelta(days=keep_days(app)))
    with _engine(app).begin() as conn:
        ids = conn.execute(select(t.c.id).where(old)).scalars().all()
        if not ids:
            return 0
        conn.execute(delete(t).where(old))  # the same cut-off: the same jobs
    folder = files_folder(app)
    if os.path.isdir(folder):
        gone = set(ids)
        for name in os.listdir(folder):
            if name.split(".", 1)[0] in gone:
                try:
                    os.remove(os.path.join(folder, name))
                except OSError:
                    pass
    log.info("deleted %d jobs finished more than %g days ago", len(ids), keep_days(app))
    return len(ids)


_purged: dict[int, float] = {}  # id(app) → when this process last purged


def maybe_purge(app) -> None:
    """:func:`purge`, at most every QQH_JOB_PURGE_SECONDS (default 3600) in this process."""
    now = time.monotonic()
    last = _purged.get(id(app))
    if last is not None and now - last < float(_setting(app, "QQH_JOB_PURGE_SECONDS", 3600)):
        return
    _purged[id(app)] = now
    purge(app)


# -- starting and reading jobs ---------------------------------------------------------
class JobRefused(Exception):
    """A job that cannot be done, with the reason for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.user_message = message


def new_id() -> str:
    return uuid.uuid4().hex


def submit(kind_name: str, params: dict, user=None, address: str | None = None, query_string: str = "",
           job_id: str | None = None) -> str:
    """Record a job for ``user`` and hand it to the workers; its id."""
    app = current_app._get_current_object()
    if kind_name not in KINDS:
        raise ValueError(kind_name)
    job_id = job_id or new_id()
    body = dict(params=params, address=address, query_string=query_string)
    with _engine(app).begin() as conn:
        conn.execute(Job.__table__.insert().values(
            id=job_id, kind=kind_name, state=QUEUED, user_id=getattr(user, "id", None),
            unit_id=getattr(user, "unit_id", None), params=json.dumps(body, ensure_ascii=False),
            done=0, total=0, attempts=0, created=_now(),
        ))
    m = mode(app)
    if m == "inline":
        run_claimed(app, job_id, inline=True)
    elif m == "rq":
        _rq_enqueue(app, job_id)
    elif thread_wanted(app):
        worker_for(app).wake()
    return job_id


def get(job_id: str) -> Job | None:
    """The job, read fresh from the database."""
    if not isinstance(job_id, str) or len(job_id) != 32:
        return None
    with _engine(current_app).connect() as conn:
        row = conn.execute(select(Job.__table__).where(Job.id == job_id)).mappings().first()
    return Job(**row) if row else None


def visible_to(job: Job | None, user) -> bool:
    """A user sees their own jobs; province administrators (scope: everything) all."""
    from core.tenancy.scope import user_scope

    if job is None or user is None:
        return False
    return job.user_id == getattr(user, "id", None) or user_scope(user).everything


def wait(job_id: str, seconds: float) -> Job | None:
    """The job once it has finished, or as it is after ``seconds``."""
    deadline = time.monotonic() + max(0.0, seconds)
    while True:
        job = get(job_id)
        if job is None or job.state in FINISHED or time.monotonic() >= deadline:
            return job
        time.sleep(0.1)


def wait_seconds(app) -> float:
    """How long a request waits for its job before showing progress instead."""
    return float(_setting(app, "QQH_JOB_WAIT_SECONDS", 2))


# -- claiming and running ----------------------------------------------------------------
def _claimable(app, job_id=None):
    t = Job.__table__
    stale = _now() - datetime.timedelta(seconds=stale_seconds(app))
    cond = or_(t.c.state == QUEUED, and_(t.c.state == RUNNING, t.c.heartbeat < stale))
    return and_(t.c.id == job_id, cond) if job_id else cond


def claim(app, worker: str, job_id: str | None = None) -> tuple[str, int] | None:
    """Take one waiting (or abandoned) job for ``worker``, atomically: (id, attempts) or None."""
    t = Job.__table__
    now = _now()
    values = dict(state=RUNNING, worker=worker, heartbeat=now, started=now, attempts=t.c.attempts + 1)
    with _engine(app).begin() as conn:
        if not _sqlite(app):
            pick = (select(t.c.id).where(_claimable(app, job_id)).order_by(t.c.created).limit(1)
                    .with_for_update(skip_locked=True).scalar_subquery())
            row = conn.execute(update(t).where(t.c.id == pick).values(**values).returning(t.c.id, t.c.attempts)).first()
            return (row[0], row[1]) if row else None
        for _ in range(5):
            cand = conn.execute(select(t.c.id, t.c.state, t.c.heartbeat, t.c.attempts)
                                .where(_claimable(app, job_id)).order_by(t.c.created).limit(1)).first()
            if cand is None:
                return None
            same = t.c.heartbeat.is_(None) if cand.heartbeat is None else t.c.heartbeat == cand.heartbeat
            hit = conn.execute(update(t).where(t.c.id == cand.id, t.c.state == cand.state, same,
                                               t.c.attempts == cand.attempts).values(**values))
            if hit.rowcount == 1:
                return cand.id, cand.attempts + 1
    return None


def _finish(app, job_id: str, worker: str, state: str, result=None, error=None, progress=None) -> None:
    t = Job.__table__
    stage, done, total = progress or (None, 0, 0)
    more = dict(stage=stage, done=done, total=total) if stage else {}
    for attempt in range(20):  # SQLite: wait for the write lock rather than lose the outcome
        try:
            with _engine(app).begin() as conn:
                conn.execute(update(t).where(t.c.id == job_id, t.c.worker == worker).values(
                    state=state, error=error, finished=_now(), heartbeat=_now(),
                    result=json.dumps(result, ensure_ascii=False) if result is not None else None, **more,
                ))
            return
        except SQLAlchemyError:
            if attempt == 19:
                raise
            time.sleep(0.5)


class JobContext:
    """What a running job may use: ``progress(stage, done, total)`` (kept in
    memory; the heartbeat thread writes it)."""

    def __init__(self, app, job_id: str, worker: str, user_id):
        self.app, self.job_id, self.worker, self.user_id = app, job_id, worker, user_id
        self.engine = _engine(app)  # in the job's app context: the heartbeat thread has none
        self.state = (None, 0, 0)
        self._written = None
        self._stop = threading.Event()

    def progress(self, stage: str, done: int, total: int) -> None:
        self.state = (stage, done, total)

    def _beat(self) -> None:
        t = Job.__table__
        while not self._stop.wait(HEARTBEAT_SECONDS):
            stage, done, total = self.state
            try:
                with self.engine.begin() as conn:
                    conn.execute(update(t).where(t.c.id == self.job_id, t.c.worker == self.worker, t.c.state == RUNNING)
                                 .values(stage=stage, done=done, total=total, heartbeat=_now()))
            except SQLAlchemyError:
                pass  # SQLite while the import holds the write lock; the next beat will do

    def __enter__(self):
        self._thread = threading.Thread(target=self._beat, name=f"qqh-job-beat-{self.job_id[:8]}", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(10)


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:100]


def run_claimed(app, job_id: str | None = None, worker: str | None = None, inline: bool = False) -> str | None:
    """Claim a job (this one, or the next waiting) and run it to its end; its id, or None."""
    worker = worker or _worker_name()
    claimed = claim(app, worker, job_id)
    if claimed is None:
        return None
    job_id, attempts = claimed
    if attempts > MAX_ATTEMPTS:
        with app.app_context():
            with app.test_request_context():
                message = gettext("The job was interrupted twice (its worker stopped) and was given up: start it again.")
        _finish(app, job_id, worker, FAILED, error=message)
        log.warning("job %s given up after %d interrupted attempts", job_id, attempts - 1)
        return job_id
    execute(app, job_id, worker, inline)
    return job_id


def execute(app, job_id: str, worker: str, inline: bool = False) -> None:
    """Run a claimed job in a request context of its owner's; record the outcome."""
    with app.app_context():
        with _engine(app).connect() as conn:
            row = conn.execute(select(Job.__table__).where(Job.id == job_id)).mappings().first()
        body = json.loads(row["params"] or "{}")
        environ = {"REMOTE_ADDR": body.get("address") or "127.0.0.1"}
        with app.test_request_context("/", query_string=body.get("query_string") or "", environ_base=environ):
            session = app.appbuilder.session
            user = session.get(app.appbuilder.sm.user_model, row["user_id"]) if row["user_id"] else None
            g._qqh_user = user
            g.user = user
            started = time.monotonic()
            try:
                fn = KINDS[row["kind"]]
                ctx = JobContext(app, job_id, worker, row["user_id"])
                with ctx:
                    result = fn(body.get("params") or {}, ctx)
                _finish(app, job_id, worker, DONE, result=result, progress=ctx.state)
                log.info("job %s (%s) done in %.1f s", job_id, row["kind"], time.monotonic() - started)
            except Exception as exc:  # the outcome must be recorded whatever happened
                session.rollback()
                log.exception("job %s (%s) failed", job_id, row["kind"])
                message = getattr(exc, "user_message", None) or gettext(
                    "The job failed and nothing was saved: %(reason)s", reason=type(exc).__name__)
                _finish(app, job_id, worker, FAILED, error=message)
            finally:
                if not inline:  # inline: the request's own session goes on
                    session.remove()


# -- the worker thread ------------------------------------------------------------------
class Worker:
    """One thread per app process running jobs from the table."""

    def __init__(self, app):
        self._app = weakref.ref(app)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="qqh-jobs", daemon=True)
        self.pid = os.getpid()

    def start(self):
        self.thread.start()
        return self

    def wake(self):
        self._wake.set()

    def stop(self, timeout: float = 30):
        self._stop.set()
        self._wake.set()
        if self.thread.is_alive() and threading.current_thread() is not self.thread:
            self.thread.join(timeout)

    def _run(self):
        failing = False
        while not self._stop.is_set():
            app = self._app()
            if app is None or not thread_wanted(app):
                return
            poll = float(app.config.get("QQH_JOB_POLL_SECONDS", 2))
            try:
                with app.app_context():
                    maybe_purge(app)
                    ran = run_claimed(app)
                failing = False
            except Exception as exc:
                ran = None
                if not failing:  # one line per outage, not one per poll (the traceback only at DEBUG)
                    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
                    log.error("the job worker cannot reach the database (%s: %s); it will retry",
                              type(exc).__name__, reason)
                    log.debug("the job worker's error", exc_info=True)
                failing = True
            del app
            if ran is None:
                self._wake.wait(poll)
                self._wake.clear()


_lock = threading.Lock()


def worker_for(app) -> Worker:
    """This process's worker thread of ``app`` (started on first use, again after a fork)."""
    w = app.extensions.get("qqh_job_worker")
    if w is None or w.pid != os.getpid() or not w.thread.is_alive():
        with _lock:
            w = app.extensions.get("qqh_job_worker")
            if w is None or w.pid != os.getpid() or not w.thread.is_alive():
                w = app.extensions["qqh_job_worker"] = Worker(app).start()
    return w


def stop_worker(app) -> None:
    w = app.extensions.pop("qqh_job_worker", None)
    if w is not None and w.pid == os.getpid():
        w.stop()


def install(app) -> None:
    """Start the worker thread with the first request (thread mode only)."""

    @app.before_request
    def _start_job_worker():
        if thread_wanted(app):
            w = app.extensions.get("qqh_job_worker")
            if w is None or w.pid != os.getpid() or not w.thread.is_alive():
                worker_for(app)


# -- RQ, when Redis is configured ----------------------------------------------------------
def _rq_queue(app):
    from redis import Redis
    from rq import Queue

    return Queue(app.config.get("QQH_RQ_QUEUE", "qqh"), connection=Redis.from_url(app.config["QQH_REDIS_URL"]))


def _rq_enqueue(app, job_id: str) -> None:
    _rq_queue(app).enqueue("core.ops.jobs.rq_run", job_id, job_id=f"qqh-{job_id}",
                           job_timeout=int(app.config.get("QQH_RQ_JOB_TIMEOUT", 3600)))


_rq_app = None


def rq_run(job_id: str) -> None:
    """What an RQ worker runs: this job, claimed from the table like the thread does."""
    global _rq_app
    if _rq_app is None:
        from core.app import create_app

        _rq_app = create_app()
    with _rq_app.app_context():
        maybe_purge(_rq_app)
        run_claimed(_rq_app, job_id)


def rq_requeue_stale(app) -> int:
    """RQ mode: hand the abandoned jobs of the table to the queue again."""
    t = Job.__table__
    with _engine(app).connect() as conn:
        ids = conn.execute(select(t.c.id).where(_claimable(app))).scalars().all()
    for job_id in ids:
        _rq_enqueue(app, job_id)
    return len(ids)
