"""Fixtures shared by every test module."""

from tests.browser import chromium  # noqa: F401  (headless Chromium: the HTML report, the web app)
