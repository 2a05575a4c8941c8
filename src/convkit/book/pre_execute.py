"""Execute the book's uncached notebooks in parallel, before Jupyter Book runs.

Jupyter Book executes notebooks one at a time; on a machine with several cores
the driver first runs the toc's notebooks that the cache cannot serve side by
side, one process per core, each kernel on one thread (``SINGLE_THREAD_ENV``, as
the grading kernels), and caches them where Jupyter Book looks them up.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import yaml

from convkit._env import SINGLE_THREAD_ENV
from convkit.book.exec_cache import cached_record, drop_stale, import_stamps, record_stamps
from convkit.book.imports import PackageSource


def toc_notebooks(root: Path) -> list[Path]:
    """The ``.ipynb`` files that ``root/_toc.yml`` lists, in toc order (pages in other
    formats left out)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries: list[dict] | None) -> None:
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    paths = [root / (f if f.endswith(".ipynb") else f + ".ipynb") for f in files]
    return [p for p in paths if p.exists()]


def pre_execute(root: Path) -> int:
    """Execute the notebooks of the book at ``root`` that the cache cannot serve.

    Uses the cache, timeout and error policy of ``root/_config.yml``; first drops
    the cached executions whose convkit files changed (``convkit.book.exec_cache``),
    saying which notebooks and why.  Returns how many notebooks ran here: every one
    the cache cannot serve, even a single one, so each chapter always runs with one
    thread and prints the same numbers however the build ran.  A notebook that
    fails here is simply not cached: Jupyter Book runs it again and reports the
    failing cell.
    """
    from jupyter_cache import get_cache

    config = yaml.safe_load((root / "_config.yml").read_text())
    execute = config.get("execute", {})
    if execute.get("execute_notebooks") != "cache" or execute.get("allow_errors"):
        return 0
    cache_dir = root / execute.get("cache", "_build/.jupyter_cache")
    notebooks = toc_notebooks(root)
    stamps = import_stamps(notebooks, PackageSource.installed())
    for path, changed in drop_stale(cache_dir, stamps).items():
        print(f"{path.relative_to(root)}: convkit changed ({', '.join(changed)})", flush=True)
    cache = get_cache(str(cache_dir))
    pending = [path for path in notebooks if cached_record(cache, path) is None]
    if not pending:
        return 0
    print(f"executing {len(pending)} notebooks in parallel before the build", flush=True)
    timeout = execute.get("timeout", 30)
    workers = min(len(pending), os.cpu_count() or 1)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        # The first kernels start a few seconds apart, so they do not race for ports.
        jobs = [(str(cache_dir), str(path), timeout, STAGGER_SECONDS * i if i < workers else 0.0)
                for i, path in enumerate(pending)]
        for path, error in pool.map(execute_into_cache, jobs):
            if error:
                print(f"{Path(path).relative_to(root)} failed ({error}); retried by the build")
    record_stamps(cache_dir, stamps)
    return len(pending)


#: Seconds between the first kernels' starts (one per worker).
STAGGER_SECONDS = 2.0


def execute_into_cache(job: tuple[str, str, int, float]) -> tuple[str, str | None]:
    """Execute one notebook and store it in the jupyter-cache; meant for a worker process.

    ``job`` is (cache folder, notebook path, cell timeout in seconds, seconds to wait
    before starting); the kernel
    runs in the notebook's folder with ``SINGLE_THREAD_ENV`` added to its
    environment.  Returns (notebook path, None), or the error instead of None when
    the notebook could not be executed (nothing is cached then, and Jupyter Book runs
    it again itself).  A kernel that fails to start (two kernels started at the same
    moment can pick the same port) is started once more before giving up.
    """
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    cache_dir, path, timeout, delay = job
    time.sleep(delay)
    error = None
    for _attempt in range(KERNEL_START_ATTEMPTS):
        try:
            _execute_and_cache(cache_dir, path, timeout)
            return path, None
        except CellExecutionError as err:
            return path, f"{err.ename}: {err.evalue}"
        except CellTimeoutError as err:
            return path, type(err).__name__
        except Exception as err:  # the kernel died or never answered: start a new one
            error = f"{type(err).__name__}: {err}"
            time.sleep(1.0)
    return path, error


#: How often a worker starts a kernel for one notebook before leaving it to Jupyter Book.
KERNEL_START_ATTEMPTS = 2


def _execute_and_cache(cache_dir: str, path: str, timeout: int) -> None:
    """Execute the notebook at ``path`` and cache it (raises what nbclient raises)."""
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    timeout = notebook.metadata.get("execution", {}).get("timeout", timeout)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        startup_timeout=120,
        allow_errors=False,
        record_timing=False,  # timings in cell metadata would change the notebook's cache key
        resources={"metadata": {"path": str(Path(path).parent)}},
    )
    start = time.perf_counter()
    client.execute(env={**os.environ, **SINGLE_THREAD_ENV})  # the kernel's environment
    bundle = CacheBundleIn(notebook, path, data={"execution_seconds": time.perf_counter() - start})
    get_cache(cache_dir).cache_notebook_bundle(bundle, check_validity=False, overwrite=True)
