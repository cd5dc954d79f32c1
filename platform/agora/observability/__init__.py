"""What an operator sees and what survives a fault: structured logs (``logs.py``),
Prometheus metrics (``metrics.py``), the probes (``probes.py``) and the 503 page when the
database is away (``outage.py``)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Wire observability in; call after the commune and the person are resolved."""
    from agora.observability import logs, outage
    from agora.observability.probes import Probes

    logs.init_app(app)
    outage.init_app(app)
    app.wsgi_app = Probes(app, app.wsgi_app)  # type: ignore[method-assign]
