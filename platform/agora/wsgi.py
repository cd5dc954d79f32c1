"""WSGI entry point for gunicorn: ``agora.wsgi:app``."""

from agora import create_app
from agora.web import compile_templates

app = create_app()
# Before gunicorn forks its workers (deploy/gunicorn.conf.py loads the app first).
compile_templates(app)
