"""Background jobs (core/ops/jobs.py, issue 20 point 3): claimed once, taken
again when their worker died, given up after that; imports through the API
(202 + the job's address) and the pages (a progress bar) run in the worker
thread of the live server; a user sees only their own jobs."""

from __future__ import annotations

import datetime
import threading
import time
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from tests.test_importing import config, db, delete_notes, notes, tag, xlsx


def _insert(app, kind="import", state="queued", heartbeat=None, attempts=0, user_id=None):
    from core.ops import jobs

    job_id = jobs.new_id()
    with app.app_context():
        with app.extensions["qqh_db"].engine.begin() as conn:
            conn.execute(jobs.Job.__table__.insert().values(
                id=job_id, kind=kind, state=state, user_id=user_id, params="{}", done=0, total=0,
                attempts=attempts, created=jobs._now(), heartbeat=heartbeat, worker="old" if state == "running" else None))
    return job_id


def _row(app, job_id):
    from core.ops import jobs

    with db(app) as s:
        return s.execute(sa.select(jobs.Job.__table__).where(jobs.Job.id == job_id)).mappings().one()


def test_a_job_is_claimed_once_taken_again_when_its_worker_died_then_given_up(app):
    from core.ops import jobs

    with config(app, QQH_JOB_WORKER_THREAD=False):
        jobs.stop_worker(app)  # this test claims by hand
        _claims(app)


def _claims(app):
    from core.ops import jobs

    job_id = _insert(app, kind="qqh-test-none")
    won = []

    def race(i):
        with app.app_context():
            got = jobs.claim(app, f"w{i}", job_id)
            if got:
                won.append((f"w{i}", got))

    threads = [threading.Thread(target=race, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1 and won[0][1] == (job_id, 1)
    row = _row(app, job_id)
    assert (row["state"], row["worker"], row["attempts"]) == ("running", won[0][0], 1)
    with app.app_context():
        assert jobs.claim(app, "other", job_id) is None  # its worker is alive (fresh heartbeat)
        # the worker was killed: no heartbeat for longer than QQH_JOB_STALE_SECONDS
        old = jobs._now() - datetime.timedelta(seconds=jobs.stale_seconds(app) + 5)
        with app.extensions["qqh_db"].engine.begin() as conn:
            conn.execute(sa.update(jobs.Job.__table__).where(jobs.Job.id == job_id).values(heartbeat=old))
        assert jobs.claim(app, "second", job_id) == (job_id, 2)
        with app.extensions["qqh_db"].engine.begin() as conn:
            conn.execute(sa.update(jobs.Job.__table__).where(jobs.Job.id == job_id).values(heartbeat=old))
        assert jobs.run_claimed(app, job_id) == job_id  # a third time: given up, with a reason
    row = _row(app, job_id)
    assert row["state"] == "failed" and "中断" in row["error"] and row["finished"] is not None


def test_a_job_runs_in_a_request_of_its_owner_and_a_failure_is_explained(app):
    from core.ops import jobs
    from core.tenancy.scope import current_scope, current_user

    seen = {}

    @jobs.kind("qqh-test-whoami")
    def whoami(params, ctx):
        ctx.progress("check", 3, 4)
        seen.update(user=current_user().username, scope=current_scope().path, arg=params["arg"])
        if params.get("fail"):
            raise RuntimeError("boom")
        return {"ok": True}

    with app.app_context():
        sm = app.appbuilder.sm
        user = sm.find_user(username="fs_clerk")
        with app.test_request_context():
            with config(app, QQH_JOBS="inline"):
                ok = jobs.submit("qqh-test-whoami", {"arg": 1}, user=user, address="10.0.0.9")
                bad = jobs.submit("qqh-test-whoami", {"arg": 2, "fail": True}, user=user)
            done, failed = jobs.get(ok), jobs.get(bad)
    assert seen["user"] == "fs_clerk" and seen["scope"].endswith("/") and seen["arg"] == 2
    assert (done.state, done.outcome, done.stage, done.done, done.total) == ("done", {"ok": True}, "check", 3, 4)
    assert done.as_dict()["percent"] == 100 and done.user_id == user.id and done.unit_id == user.unit_id
    assert failed.state == "failed" and "未保存任何数据" in failed.error and "RuntimeError" in failed.error


def test_import_api_answers_202_and_the_job_reports_progress_and_result(app, as_user):
    t = tag()
    clerk = as_user("fs_clerk")
    rows = [(f"{t}-1", "", "2012-03-01", "440600"), (f"{t}-2", "", "2012-03-02", "440604")]
    r = clerk.post("/api/v1/import/memonote", params={"dry_run": 0}, headers={"Prefer": "respond-async"},
                   files={"file": ("名单.xlsx", xlsx(rows))})
    assert r.status_code == 202, r.text
    location = r.headers["Location"]
    assert location.startswith("/api/v1/job/") and r.json()["job"]["state"] in ("queued", "running", "done")
    deadline = time.time() + 60
    while True:
        job = clerk.get(location).json()["result"]
        if job["state"] in ("done", "failed") or time.time() > deadline:
            break
        time.sleep(0.2)
    assert job["state"] == "done", job
    assert job["percent"] == 100 and job["stage"] == "write" and job["done"] == job["total"] == 2
    assert job["result"]["ok"] and job["result"]["report"]["new"] == 2 and job["result"]["written"]
    assert sorted(notes(app, t)) == [f"{t}-1", f"{t}-2"]
    # audited as the clerk's own work
    from core.audit.trail import AuditLog
    from tests.memo_plugin.models import MemoNote

    with db(app) as s:
        ids = [str(i) for i in s.execute(sa.select(MemoNote.id).where(MemoNote.title.startswith(t))).scalars()]
        # by label too: SQLite gives a deleted note's id to a new one, and other files' notes were audited
        who = set(s.execute(sa.select(AuditLog.username).where(
            AuditLog.model == "memo_note", AuditLog.record_id.in_(ids), AuditLog.label.startswith(t))).scalars())
    assert who == {"fs_clerk"}, who
    # a check with an invalid row: the job says so (the synchronous answer would be 422)
    r = clerk.post("/api/v1/import/memonote", headers={"Prefer": "wait=20"},
                   files={"file": ("x.xlsx", xlsx([(f"{t}-3", "", "2012-02-30", "440600")]))})
    assert r.status_code == 422 and "日期" in r.json()["message"]
    # somebody else's job is not there; a province administrator sees it
    job_id = location.rsplit("/", 1)[1]
    assert as_user("sd_clerk").get(location).status_code == 404
    assert job_id not in [j["id"] for j in as_user("sd_clerk").get("/api/v1/job/").json()["result"]]
    assert as_user("admin").get(location).json()["result"]["state"] == "done"
    assert job_id in [j["id"] for j in clerk.get("/api/v1/job/").json()["result"]]
    assert clerk.get("/api/v1/job/" + "0" * 32).status_code == 404
    r = clerk.get("/excel/jobs/" + job_id, allow_redirects=False)
    assert r.status_code == 302  # the page of a finished job leads to its outcome
    assert as_user("sd_clerk").get("/excel/jobs/" + job_id, allow_redirects=False).status_code == 404
    delete_notes(app, t)


@pytest.mark.browser
def test_import_pages_show_a_progress_bar_until_the_worker_is_done(engine_name, browser, live, app):
    if engine_name != "sqlite":
        pytest.skip("the pages are the same on both engines; once is enough for the suite's time (HTTP tests cover both)")
    from core.ops import jobs
    from core.testing.browser import login
    from tests.conftest import PASSWORD

    t = tag()
    path = f"/tmp/{t}.xlsx"
    with open(path, "wb") as fh:
        fh.write(xlsx([(f"{t}-1", "", "2012-03-01", "440600")]))
    page = browser.new_page()
    try:
        login(page, live.url, "fs_clerk", PASSWORD)
        with config(app, QQH_JOB_WAIT_SECONDS=0, QQH_JOB_WORKER_THREAD=False):
            jobs.stop_worker(app)  # the job waits in the table until a worker runs
            page.goto(live.url + "/excel/memonote/import")
            page.set_input_files("input[type=file]", path)
            page.click("button.btn-primary[type=submit]")
            page.wait_for_load_state()
            assert "/excel/jobs/" in page.url, page.content()[-3000:]
            assert page.locator("#qqh-job-bar").get_attribute("aria-valuenow") == "0"
            assert "等待处理" in page.inner_text("#qqh-job-stage")
            app.config["QQH_JOB_WORKER_THREAD"] = True
            with app.app_context():
                jobs.worker_for(app)  # a worker comes; the page finds out and shows the report
            page.wait_for_url("**/excel/memonote/import/*", timeout=30000)
            assert "所有行都正确" in page.content()
            page.click("button.qqh-confirm")  # the commit: progress, then the list with the outcome
            page.wait_for_url("**/memonoteview/list/**", timeout=30000)
            assert "导入完成" in page.content()
        assert sorted(notes(app, t)) == [f"{t}-1"]
    finally:
        page.close()
        delete_notes(app, t)


def test_with_redis_the_jobs_go_through_rq(engine_name, app, as_user, tmp_path):
    """QQH_REDIS_URL: the import job is queued in RQ and run by `qqh worker`
    (a process of its own), reported through the table as before."""
    if engine_name != "sqlite":
        pytest.skip("the pages are the same on both engines; once is enough for the suite's time (HTTP tests cover both)")
    import os
    import shutil
    import socket
    import subprocess
    import sys

    server = shutil.which("redis-server")
    if server is None:
        if os.environ.get("CI"):
            pytest.fail("CI needs redis-server (bin/test installs Debian's redis-server)")
        pytest.skip("no redis-server: bin/test installs Debian's redis-server")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    redis = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                              "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    t = tag()
    try:
        with config(app, QQH_REDIS_URL=url):
            clerk = as_user("fs_clerk")
            r = clerk.post("/api/v1/import/memonote", params={"dry_run": 0}, headers={"Prefer": "respond-async"},
                           files={"file": ("a.xlsx", xlsx([(f"{t}-1", "", "2012-03-01", "440600")]))})
            assert r.status_code == 202, r.text
            location = r.headers["Location"]
            assert clerk.get(location).json()["result"]["state"] == "queued"  # no thread runs it: RQ does
            env = {k: v for k, v in os.environ.items() if not k.startswith("QQH_")}
            env.update(QQH_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], QQH_REDIS_URL=url,
                       QQH_INSTANCE_PATH=app.instance_path, QQH_UPLOAD_PATH=app.config["QQH_UPLOAD_PATH"],
                       QQH_SECRET_KEY="r" * 48, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       QQH_PLUGINS=os.environ["QQH_PLUGINS"],  # the memo list: core's test fixture plugin, named
                       QQH_PLUGIN_MODULES=os.environ["QQH_PLUGIN_MODULES"])
            done = subprocess.run([sys.executable, "-m", "core", "worker", "--burst"], env=env, capture_output=True,
                                  text=True, timeout=120)
            assert done.returncode == 0, done.stdout + done.stderr
            job = clerk.get(location).json()["result"]
            assert job["state"] == "done" and job["result"]["report"]["new"] == 1, job
        assert sorted(notes(app, t)) == [f"{t}-1"]
    finally:
        redis.terminate()
        redis.wait(10)
        delete_notes(app, t)


def _job_done(client, location, seconds=30):
    deadline = time.time() + seconds
    while True:
        job = client.get(location).json()["result"]
        if job["state"] in ("done", "failed") or time.time() > deadline:
            return job
        time.sleep(0.2)


def test_big_exports_run_as_a_job_scoped_like_the_export_and_only_its_owner_gets_the_file(app, as_user):
    """Above QQH_EXPORT_JOB_ROWS an export (API and page) is a job of its
    owner's; its file (mode 0600, in the shared upload folder) is theirs only."""
    import os
    import stat

    from core.ops import jobs
    from tests.test_importing import upload, workbook

    t = tag()
    admin, clerk = as_user("admin"), as_user("fs_clerk")
    rows = [(f"{t}-1", "", "2012-03-01", "440600"), (f"{t}-2", "", "2012-03-02", "440604"),
            (f"{t}-3", "", "2012-03-03", "440605"), (f"{t}-sz", "", "2012-03-04", "440300")]
    assert upload(admin, xlsx(rows), dry_run=0).status_code == 200

    def titles(content):
        ws = workbook(content).worksheets[0]
        return sorted(r[0] for r in ws.iter_rows(min_row=2, values_only=True))

    try:
        with config(app, QQH_EXPORT_JOB_ROWS=2):
            # the API: 202 and the job's address; the job exports what the clerk may see, with the filter
            r = clerk.get("/api/v1/export/memonote", params={"_flt_0_title": t}, headers={"Prefer": "respond-async"})
            assert r.status_code == 202, r.text[:300]
            location = r.headers["Location"]
            job = _job_done(clerk, location)
            assert job["state"] == "done" and job["kind"] == "export" and job["percent"] == 100, job
            assert job["result"]["rows"] == 3 and job["result"]["download"].startswith("/api/v1/job/")
            f = clerk.get(job["result"]["download"])
            assert f.status_code == 200 and f.headers["Content-Type"].startswith("application/vnd.openxml")
            assert titles(f.content) == [f"{t}-1", f"{t}-2", f"{t}-3"]  # not 深圳's
            path = jobs.file_path(app, job["id"])
            assert path.startswith(app.config["QQH_UPLOAD_PATH"]) and stat.S_IMODE(os.stat(path).st_mode) == 0o600
            # nobody else gets the file, not even a province administrator who sees the job
            seen = admin.get(location).json()["result"]
            assert seen["state"] == "done" and "download" not in seen["result"]
            for other in (admin, as_user("sd_clerk")):
                r = other.get(job["result"]["download"])
                assert r.status_code == 404 and "导出" in r.json()["message"], r.text[:200]
            # a unit outside the clerk's units: refused at once, as today
            r = clerk.get("/api/v1/export/memonote", params={"unit": "440300"})
            assert r.status_code == 404 and "不在您的管辖范围内" in r.json()["message"]
            # at or below the threshold: the file at once, as today
            r = clerk.get("/api/v1/export/memonote", params={"_flt_0_title": f"{t}-1"})
            assert r.status_code == 200 and titles(r.content) == [f"{t}-1"]
            # the page: the job's page, then a download link for its owner
            r = clerk.get("/excel/memonote/export", params={"_flt_0_title": t}, allow_redirects=False)
            assert r.status_code == 302 and "/excel/jobs/" in r.headers["Location"], r.text[:300]
            page_job = urlsplit(r.headers["Location"]).path
            job = _job_done(clerk, "/api/v1/job/" + page_job.rsplit("/", 1)[1])
            assert job["state"] == "done", job
            page = clerk.get(page_job)
            assert page.status_code == 200 and "导出完成" in page.text and job["result"]["download"] in page.text
            assert titles(clerk.get(job["result"]["download"]).content) == [f"{t}-1", f"{t}-2", f"{t}-3"]
            page = admin.get(page_job)
            assert page.status_code == 200 and job["result"]["download"] not in page.text
    finally:
        delete_notes(app, t)


def test_the_worker_deletes_old_finished_jobs_with_their_files(app):
    import os

    from core.ops import jobs

    old = jobs._now() - datetime.timedelta(days=31)
    ids = dict(old_export=_insert(app, kind="export", state="done"), old_failed=_insert(app, state="failed"),
               recent=_insert(app, kind="export", state="done"), running=_insert(app, state="running", heartbeat=jobs._now()))
    with app.app_context():
        with app.extensions["qqh_db"].engine.begin() as conn:
            t = jobs.Job.__table__
            conn.execute(sa.update(t).where(t.c.id.in_([ids["old_export"], ids["old_failed"]])).values(finished=old))
            conn.execute(sa.update(t).where(t.c.id == ids["recent"]).values(finished=jobs._now()))
            conn.execute(sa.update(t).where(t.c.id == ids["running"]).values(created=old, started=old))
        for key in ("old_export", "recent"):
            with jobs.open_file(app, ids[key]) as fh:
                fh.write(b"x")
        jobs._purged.pop(id(app), None)
        jobs.worker_for(app).wake()  # the worker thread of this process purges (at most once an hour)
    deadline = time.time() + 30
    while os.path.exists(jobs.file_path(app, ids["old_export"])) and time.time() < deadline:
        time.sleep(0.2)
    with db(app) as s:
        left = set(s.execute(sa.select(jobs.Job.id).where(jobs.Job.id.in_(list(ids.values())))).scalars())
    assert left == {ids["recent"], ids["running"]}
    assert not os.path.exists(jobs.file_path(app, ids["old_export"])) and os.path.exists(jobs.file_path(app, ids["recent"]))
    with db(app) as s:
        s.execute(sa.delete(jobs.Job).where(jobs.Job.id.in_([ids["recent"], ids["running"]])))
        s.commit()
    os.remove(jobs.file_path(app, ids["recent"]))
