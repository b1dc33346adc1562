"""Headless Chromium for the tests: the ``chromium`` fixture (registered in ``tests/conftest.py``).

The distribution's ``chromium`` package (``/usr/bin/chromium``); ``.ci/run`` installs it when
missing, so a test using the fixture is skipped only where it truly is not installed
(``$CHROMIUM`` may name another executable). Every call gets a fresh profile directory, so
tests (and other programs) running Chromium at the same time do not share a profile lock.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless", "--disable-gpu", "--no-sandbox", "--disable-dev-shm-usage", "--no-first-run",
         "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars", "--mute-audio")
# A4 in PostScript points (Chromium writes 595.92 x 842.88 or 595 x 842 depending on its version)
A4_POINTS = (595.28, 841.89)


def find_chromium() -> str | None:
    """The Chromium executable: ``$CHROMIUM`` or the first of ``CANDIDATES`` on the PATH."""
    named = os.environ.get("CHROMIUM")
    if named:
        return shutil.which(named) or (named if Path(named).is_file() else None)
    return next((path for name in CANDIDATES if (path := shutil.which(name))), None)


@dataclass(frozen=True)
class Chromium:
    """One headless Chromium executable and the few things the tests ask of it."""

    executable: str
    timeout: float = 120.0

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Chromium with ``FLAGS``, a throw-away profile and ``args``; raises on a non-zero exit."""
        with tempfile.TemporaryDirectory(prefix="symbiosim-chromium-") as profile:
            cmd = [self.executable, *FLAGS, f"--user-data-dir={profile}", *args]
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=self.timeout, check=False)
        if done.returncode != 0:
            raise AssertionError(f"chromium exited with {done.returncode}: {' '.join(cmd)}\n{done.stderr[-2000:]}")
        return done

    def dump_dom(self, url: str, width: int = 1240, height: int = 1754) -> str:
        """The DOM after the page has loaded (scripts of the page run first), in a ``width`` x ``height`` window."""
        return self.run(f"--window-size={width},{height}", "--virtual-time-budget=5000", "--dump-dom", url).stdout

    def screenshot(self, url: str, path: Path, width: int = 1240, height: int = 1754) -> Path:
        """A PNG of the top ``width`` x ``height`` CSS pixels of the page."""
        self.run(f"--screenshot={path}", f"--window-size={width},{height}", url)
        return path

    def print_to_pdf(self, url: str, path: Path) -> Path:
        """The page printed as the browser prints it (the page's own @page size), without header and footer."""
        self.run(f"--print-to-pdf={path}", "--no-pdf-header-footer", "--print-to-pdf-no-header", url)
        return path


def pdf_pages(path: Path) -> list[tuple[float, float]]:
    """Width and height (points) of each page of a PDF Chromium wrote (its page objects are not compressed)."""
    data = Path(path).read_bytes()
    boxes = re.findall(rb"/MediaBox\s*\[\s*([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s*\]", data)
    return [(float(x1) - float(x0), float(y1) - float(y0)) for x0, y0, x1, y1 in boxes]


@pytest.fixture(scope="session")
def chromium() -> Chromium:
    """Headless Chromium (skips, saying why, only when no executable is installed)."""
    path = find_chromium()
    if path is None:
        pytest.skip("chromium is not installed: apt-get install chromium (.ci/run installs it), or set $CHROMIUM")
    return Chromium(path)
