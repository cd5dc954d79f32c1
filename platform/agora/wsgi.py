"""WSGI entry point for gunicorn: ``agora.wsgi:app``."""

from agora import create_app

app = create_app()
