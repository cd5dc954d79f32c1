"""gunicorn settings for Agora: ``gunicorn -c deploy/gunicorn.conf.py``.

gthread workers (keep-alive, a thread pool per process), sized from the CPUs actually
available; workers recycled after a jittered number of requests; the application loaded
once before forking, with database engines disposed in each child so that no pooled
connection is ever shared across processes.
"""

import os

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
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# No runtime control socket: reloads go through signals (systemd ExecReload sends HUP).
control_socket_disable = True


def post_fork(server, worker):  # type: ignore[no-untyped-def]
    from agora.extensions import db
    from agora.wsgi import app

    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)
