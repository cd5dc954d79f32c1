"""End-to-end tests: the application served over HTTP, driven by a real headless Chromium."""
