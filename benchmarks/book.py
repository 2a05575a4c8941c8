"""Book build benchmark (`make bench`): cold build, no-change rebuild, site size.

Cold = no `_build/` at all (every notebook executed, every page written, the
vendored JavaScript unpacked from the npm cache); the npm tarball cache is kept
aside and restored so the benchmark measures the build, not the download.
No-change = the same build run again right after.  Targets for the finished
ten-chapter book on 2 cores: cold <= 180 s, rebuild <= 20 s, site <= 40 MB.

Usage: python benchmarks/book.py
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
NPM_CACHE = BUILD / ".book_vendor" / "npm"
TARGETS = {"cold build (s)": 180.0, "no-change rebuild (s)": 20.0, "site size (MB)": 40.0}


def _timed_build() -> tuple[float, str]:
    """Build the book once; (seconds, what the build printed)."""
    from convkit.book import build

    start = time.perf_counter()
    log = io.StringIO()
    with contextlib.redirect_stdout(log):
        build(ROOT)
    return time.perf_counter() - start, log.getvalue()


def executions(log: str) -> str:
    """How the build of ``log`` executed notebooks: side by side before Jupyter Book, by
    Jupyter Book itself (one at a time), and again because convkit changed (e.g. while
    the build ran)."""
    parallel = re.search(r"executing (\d+) notebooks in parallel", log)
    serial = log.count("Executing notebook")
    stale = len(re.findall(r"convkit changed \(", log))
    return (
        f"{parallel.group(1) if parallel else 0} in parallel, {serial} by Jupyter Book, "
        f"{stale} stale cache entries dropped"
    )


def site_megabytes(html: Path = BUILD / "html") -> float:
    """Total size of the built site in MB (10**6 bytes)."""
    return sum(p.stat().st_size for p in html.rglob("*") if p.is_file()) / 1e6


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print a table, return 1 when a target is missed."""
    argparse.ArgumentParser(description=__doc__).parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        saved = Path(tmp) / "npm"
        if NPM_CACHE.is_dir():
            shutil.copytree(NPM_CACHE, saved)
        shutil.rmtree(BUILD, ignore_errors=True)
        if saved.is_dir():
            shutil.copytree(saved, NPM_CACHE)
        cold, cold_log = _timed_build()
    rebuild, rebuild_log = _timed_build()
    size = site_megabytes()
    results = {"cold build (s)": cold, "no-change rebuild (s)": rebuild, "site size (MB)": size}
    chapters = len(sorted((ROOT / "book").glob("ch[0-9][0-9]_*.ipynb")))
    print(f"\nBook benchmark ({chapters} chapter notebooks, {os.cpu_count()} CPUs)")
    print(f"{'measure':<24} {'value':>8} {'target':>8}  ok")
    ok = True
    for name, value in results.items():
        met = value <= TARGETS[name]
        ok &= met
        print(f"{name:<24} {value:>8.1f} {'<= ' + format(TARGETS[name], 'g'):>8}  "
              f"{'yes' if met else 'NO'}")
    vendor = site_megabytes(BUILD / "html" / "vendor")
    print(f"(of the site, vendored JavaScript: {vendor:.1f} MB)")
    print(f"notebooks executed: cold build {executions(cold_log)}; "
          f"rebuild {executions(rebuild_log)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    raise SystemExit(main())
