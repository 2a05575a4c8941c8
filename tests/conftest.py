"""Pytest configuration: a reproducible hypothesis profile for the whole suite.

The default profile "ci" is derandomized (same examples on every run), has no
deadline (torch's first calls are slow) and no example database, and prints the
reproduction blob of a failure.  Set HYPOTHESIS_PROFILE=explore to search with
fresh random examples locally.
"""

import os

import pytest
from hypothesis import settings

settings.register_profile(
    "ci", derandomize=True, deadline=None, print_blob=True, database=None
)
settings.register_profile("explore", deadline=None, print_blob=True, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="module")
def one_thread():
    """Run a module's tiny numpy/torch computations on one thread, then restore.

    Thread pools only add overhead on arrays this small (and thrash on a busy
    machine); modules opt in with ``pytestmark = pytest.mark.usefixtures("one_thread")``.
    """
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(before)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright, one per session for every browser test
    (Playwright's sync API cannot run two at once in one process)."""
    from chromium import CHROMIUM, CHROMIUM_ARGS
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (make test does it)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
