"""Fixtures of the book tests: one build per session, served on 127.0.0.1, and Chromium."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from book_site import HTML_DIR, ROOT, Visit, open_page
from playwright.sync_api import Browser


@pytest.fixture(scope="session")
def built_book() -> Path:
    """Build the book once per session; return the HTML folder.

    The build is incremental and cached, so after `make book` in the same run it
    re-executes nothing and takes seconds.  A file lock keeps pytest-xdist workers
    from building at the same time (the later ones find nothing left to do).
    """
    from filelock import FileLock

    from convkit.book import build

    (ROOT / "_build").mkdir(exist_ok=True)
    with FileLock(str(ROOT / "_build" / ".book-build.lock")):
        build(ROOT)
    assert (HTML_DIR / "index.html").exists()
    return HTML_DIR


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def site(built_book: Path) -> Iterator[str]:
    """Serve the built HTML on 127.0.0.1 (a free port); yield its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(built_book))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture
def visit(browser: Browser, site: str) -> Iterator[Callable[[str], Visit]]:
    """Open a built page by docname (e.g. ``book/intro``) over http; pages close afterwards."""
    opened: list[Visit] = []

    def _open(docname: str) -> Visit:
        result = open_page(browser, f"{site}{docname}.html", allowed_prefix=site)
        opened.append(result)
        return result

    yield _open
    for result in opened:
        result.page.close()
