"""gunicorn settings for 亲青汇: ``gunicorn -c python:core.gunicorn_conf 'core.app:create_app()'``.

Before gunicorn binds its port, the master builds the app once and checks the
database (reachable, migrations at head, see :func:`core.health.startup_check`);
otherwise it refuses to start with one line saying what to do. Every setting
here can still be given on the command line (``-w``, ``-b``, ``--timeout``)."""

import os
import sys

# defaults an operator would otherwise forget; the command line wins
workers = int(os.environ.get("QQH_WORKERS", "4"))
timeout = int(os.environ.get("QQH_TIMEOUT", "120"))
graceful_timeout = 30
control_socket_disable = True  # gunicorn 27 wants a writable home folder for it otherwise
accesslog = None  # core/logs.py writes one structured line per request instead


def on_starting(server):
    from core.config import ConfigError
    from core.plugins import PluginError

    try:
        from core.app import create_app
        from core.health import startup_check

        app = create_app()
        with app.app_context():
            problem = startup_check(app)
    except (ConfigError, PluginError) as exc:
        problem = str(exc)
    if problem:
        print(f"错误 Error: {problem}", file=sys.stderr, flush=True)
        sys.exit(1)


def post_worker_init(worker):
    """The worker has built its app: keep the collector off its objects (:func:`core.app.freeze_heap`)."""
    import logging

    from core.app import freeze_heap

    logging.getLogger("qqh.start").info("worker %s: %s objects of the app kept out of garbage collection",
                                        worker.pid, freeze_heap())
