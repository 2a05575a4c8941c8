"""The execution cache, keyed on the notebook and on the convkit files it imports.

jupyter-cache keys an executed notebook on its code cells only, so on its own it
would serve numbers and simulations computed by older convkit code.  Each cached
notebook is therefore recorded with the contents of the convkit files it imports
(:class:`ImportStamp`, found by ``convkit.book.imports``), in ``convkit-imports.json``
inside the cache folder.  Before notebooks run, a cached notebook whose files changed
since it was executed (or that was cached without a record) is *stale*: its cache
entry is dropped, so it executes again; every other notebook keeps its outputs.

Used by the driver's parallel pre-execution (``convkit.book.pre_execute``) and by
the Sphinx extension (``convkit.book.sphinx_ext``), which both see the same cache.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from convkit.book.imports import PackageSource

STAMPS_FILE = "convkit-imports.json"
# The whole-package marker of older builds: a cache that has it is re-executed once.
_OLD_MARKER = "convkit-source.sha256"
NOT_RECORDED = "(cached before its imports were recorded)"


@dataclass(frozen=True)
class ImportStamp:
    """The package files a notebook imports: path under the package folder -> sha256."""

    files: Mapping[str, str]

    @property
    def digest(self) -> str:
        """One sha256 over every file's path and content hash."""
        text = json.dumps(dict(sorted(self.files.items())), separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def changed_since(self, old: Mapping[str, str]) -> list[str]:
        """The files added, removed or edited since ``old`` (another stamp's files), sorted."""
        names = set(old) | set(self.files)
        return sorted(name for name in names if old.get(name) != self.files.get(name))


def import_stamp(notebook: Path, source: PackageSource) -> ImportStamp:
    """The stamp of the notebook at ``notebook``: its files of ``source``'s package, hashed."""
    files = source.notebook_files(notebook)
    return ImportStamp(
        {
            path.relative_to(source.folder).as_posix(): hashlib.sha256(
                path.read_bytes()
            ).hexdigest()
            for path in files
        }
    )


def import_stamps(notebooks: Iterable[Path], source: PackageSource) -> dict[Path, ImportStamp]:
    """The stamp of each notebook (``.ipynb`` paths) in ``notebooks``."""
    return {path: import_stamp(path, source) for path in notebooks}


def read_records(cache_dir: Path) -> dict[str, dict[str, str]]:
    """The recorded stamps of ``cache_dir``: cache hashkey -> the stamp's files."""
    path = cache_dir / STAMPS_FILE
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    records = data.get("records") if isinstance(data, dict) else None
    return records if isinstance(records, dict) else {}


def write_records(cache_dir: Path, records: Mapping[str, Mapping[str, str]]) -> None:
    """Replace the recorded stamps of ``cache_dir`` (atomically)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / STAMPS_FILE
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"records": records}, indent=1, sort_keys=True) + "\n")
    tmp.replace(path)


def stale_notebooks(
    cache: Any, stamps: Mapping[Path, ImportStamp], records: Mapping[str, Mapping[str, str]]
) -> dict[Path, list[str]]:
    """The notebooks whose cached outputs ``cache`` (a jupyter-cache) must not serve.

    A notebook is stale when the cache holds an execution of its current cells
    whose recorded files (``records``, by cache hashkey) differ from its stamp now.
    Returns notebook -> why: the changed files, or ``[NOT_RECORDED]``.  Notebooks
    with no cached execution are not listed (they execute anyway).
    """
    stale: dict[Path, list[str]] = {}
    for path, stamp in stamps.items():
        record = cached_record(cache, path)
        if record is None:
            continue
        recorded = records.get(record.hashkey)
        if recorded is None:
            stale[path] = [NOT_RECORDED]
        elif changed := stamp.changed_since(recorded):
            stale[path] = changed
    return stale


def drop_stale(cache_dir: Path, stamps: Mapping[Path, ImportStamp]) -> dict[Path, list[str]]:
    """Remove the stale notebooks' executions from the cache at ``cache_dir``.

    Returns what :func:`stale_notebooks` found (notebook -> changed files); those
    notebooks execute again at their next build.
    """
    from jupyter_cache import get_cache

    (cache_dir / _OLD_MARKER).unlink(missing_ok=True)
    cache = get_cache(str(cache_dir))
    records = read_records(cache_dir)
    stale = stale_notebooks(cache, stamps, records)
    for path in stale:
        record = cached_record(cache, path)
        if record is not None:
            cache.remove_cache(record.pk)
            records.pop(record.hashkey, None)  # its next execution gets a new record
    if stale:
        write_records(cache_dir, records)
    return stale


def record_stamps(cache_dir: Path, stamps: Mapping[Path, ImportStamp]) -> None:
    """Record ``stamps`` for the notebooks executed since the cache was last checked.

    Only cache entries without a record get one (those executed by this build, with
    the files of ``stamps``, taken before they ran); records of entries the cache no
    longer holds are forgotten.
    """
    from jupyter_cache import get_cache

    cache = get_cache(str(cache_dir))
    held = {record.hashkey for record in cache.list_cache_records()}
    records = {key: files for key, files in read_records(cache_dir).items() if key in held}
    for path, stamp in stamps.items():
        record = cached_record(cache, path)
        if record is not None and record.hashkey not in records:
            records[record.hashkey] = dict(stamp.files)
    write_records(cache_dir, records)


def cached_record(cache: Any, notebook: Path) -> Any | None:
    """The record (an ``NbCacheRecord``) of ``cache`` (a jupyter-cache) that holds an
    execution of the current cells of the notebook at ``notebook``; None if there is none."""
    import nbformat

    try:
        return cache.match_cache_notebook(nbformat.read(str(notebook), as_version=4))
    except KeyError:
        return None
