"""``flask jobs worker``: run the RQ worker that executes queued jobs;
``flask jobs release``: queue the jobs held in the database while Redis was away."""

from __future__ import annotations

import importlib
import threading
import time

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from agora.jobs import get_queue
from agora.jobs.held import release

jobs_cli = AppGroup("jobs", help="Background jobs.")


def _release_forever(app: Flask, seconds: float) -> None:
    # The worker process releases held jobs (held.py's rule) while it waits for work.
    while True:
        with app.app_context():
            try:
                release()
            except Exception:  # a database restart must not end the loop, only this round
                app.logger.exception("held jobs not released this round")
        time.sleep(seconds)


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@click.option(
    "--import", "modules", multiple=True, help="Extra module registering jobs (repeatable)."
)
def worker_command(burst: bool, modules: tuple[str, ...]) -> None:
    """Execute jobs from the Redis queue named by AGORA_REDIS_URL."""
    from rq import SimpleWorker

    redis_url = current_app.config.get("AGORA_REDIS_URL")
    if not redis_url:
        raise click.ClickException("AGORA_REDIS_URL is not set: jobs run inline, no worker needed")
    for module in modules:
        importlib.import_module(module)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    release()
    if not burst:
        threading.Thread(
            target=_release_forever,
            args=(app, app.config["AGORA_HELD_JOBS_SECONDS"]),
            name="release-held-jobs",
            daemon=True,
        ).start()
    queue = get_queue(redis_url)
    # SimpleWorker runs jobs in this process, which already holds the application.
    worker = SimpleWorker([queue], connection=queue.connection)
    # While Redis is away RQ waits twice as long after each failed try, up to 60 s by
    # default: a job released when Redis answers again would sit unseen that long. The
    # worker tries as often as held jobs are released, so it takes them within that period.
    worker.max_connection_wait_time = app.config["AGORA_HELD_JOBS_SECONDS"]
    worker.work(burst=burst)


@jobs_cli.command("release")
def release_command() -> None:
    """Queue the jobs held in the database while Redis could not be reached."""
    if not current_app.config.get("AGORA_REDIS_URL"):
        raise click.ClickException("AGORA_REDIS_URL is not set: no job is ever held")
    click.echo(f"{release()} held jobs queued")


def init_app(app: Flask) -> None:
    app.cli.add_command(jobs_cli)
