"""Every route of the application with sample arguments, on each kind of host: what the
permission matrix and the CSRF crawl walk."""

from __future__ import annotations

from typing import Any

from flask import Flask

HOSTS = {"tenant": "poitiers.localhost", "platform": "localhost", "auth": "auth.localhost"}


def route_samples(app: Flask, grant_id: int) -> list[tuple[str, str, str]]:
    """Every registered route as (endpoint, method, path), its arguments filled with samples."""
    samples: dict[str, Any] = {
        "version": 1,
        "seq": 1,
        "token": "x" * 43,
        "grant_id": grant_id,
        "kind": "franceconnect",
        "slug": "poitiers",
        "year": 2025,
        "filename": "agora.css",
    }
    urls = []
    for rule in app.url_map.iter_rules():
        path = rule.rule
        for argument in rule.arguments:
            # Row ids need not exist: the policy answers before any row is looked up.
            sample = str(samples.get(argument, 1))
            for converter in ("", "int:", "path:"):
                path = path.replace(f"<{converter}{argument}>", sample)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            urls.append((rule.endpoint, method, path))
    return urls
