"""gunicorn settings for Agora: ``gunicorn -c deploy/gunicorn.conf.py``.

gthread workers (keep-alive, a thread pool per process), sized from the CPUs actually
available; workers recycled after a jittered number of requests; the application loaded
once before forking, with database engines disposed in each child so that no pooled
connection is ever shared across processes.

Logs are JSON (``AGORA_LOG_FORMAT`` unless set; ``agora/observability/logs.py``): the
application writes one line per request, so gunicorn's own access log is off unless
``GUNICORN_ACCESS_LOG`` names a file. Metrics use prometheus-client's multiprocess mode
when ``PROMETHEUS_MULTIPROC_DIR`` is set: emptied at start, a dead worker's live gauges
dropped by ``child_exit``.
"""

import os
import shutil
import sys
from pathlib import Path

from gunicorn.glogging import Logger

# Before the application is loaded (preload_app): its logging is configured on import.
os.environ.setdefault("AGORA_LOG_FORMAT", "json")

wsgi_app = "agora.wsgi:app"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")


def _cpus() -> int:
    # sched_getaffinity honours container CPU sets, cpu_count() does not.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


workers = int(os.environ.get("WEB_CONCURRENCY", 2 * _cpus() + 1))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
preload_app = True
max_requests = 2000
max_requests_jitter = 200
timeout = 60
graceful_timeout = 30
keepalive = 5
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"


class JsonLogger(Logger):
    """gunicorn's own messages (a worker booted, timed out) as JSON lines too."""

    def setup(self, cfg):  # type: ignore[no-untyped-def]
        super().setup(cfg)
        from agora.observability.logs import formatter

        for handler in (*self.error_log.handlers, *self.access_log.handlers):
            handler.setFormatter(formatter(os.environ["AGORA_LOG_FORMAT"]))


logger_class = JsonLogger
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# No runtime control socket: reloads go through signals (systemd ExecReload sends HUP).
control_socket_disable = True


def on_starting(server):  # type: ignore[no-untyped-def]
    # Files left by a previous run would be summed into this one's counters.
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True)


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def post_fork(server, worker):  # type: ignore[no-untyped-def]
    # A thread back from the database waits for the GIL up to this long while another thread
    # draws a page (Python's default: 5 ms), at every round trip; a check-in makes several
    # while it holds its commune's audit-chain lock. 1 ms shortened the assembly day's herds
    # (README: check-in and results p95) at some cost to the steady part's median.
    sys.setswitchinterval(float(os.environ.get("AGORA_GIL_SWITCH_SECONDS", "0.001")))
    from agora.extensions import db
    from agora.wsgi import app

    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)
