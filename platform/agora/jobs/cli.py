"""``flask jobs worker``: run the RQ worker that executes queued jobs."""

from __future__ import annotations

import importlib

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from agora.jobs import get_queue

jobs_cli = AppGroup("jobs", help="Background jobs.")


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
    queue = get_queue(redis_url)
    # SimpleWorker runs jobs in this process, which already holds the application.
    SimpleWorker([queue], connection=queue.connection).work(burst=burst)


def init_app(app: Flask) -> None:
    app.cli.add_command(jobs_cli)
