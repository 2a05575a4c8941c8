"""Sphinx extension that makes the Jupyter Book work offline.

Loaded from ``_config.yml`` (``sphinx: extra_extensions: [convkit.book.sphinx_ext]``). It

- points Sphinx's MathJax and myst-nb's widget scripts (require.js, the
  html-manager embed script) at copies served from ``vendor/`` in the built site,
  never at a CDN;
- adds two small scripts of ours: the require.js paths of widget modules
  (anywidget's AMD bundle) and a ``MathJax.Hub.Queue`` shim for ipywidgets 8, and a
  stylesheet that gives code its reading width (88-character lines fit at 1280 px);
- loads MathJax on every page (quick checks typeset math in pages that have none
  of their own);
- copies the vendored files (see ``convkit.book.assets``) into the output folder;
- executes a notebook again when a convkit file it imports changed, and reads
  its page again (``convkit.book.exec_cache``: the execution cache itself is keyed
  on notebook cells only, so it would otherwise serve numbers and simulations
  computed by the old code); reads every page again when this build layer
  (``convkit.book``) changed;
- numbers chapters from 0, like their files and exercise folders (ch00 is
  "0. Why convolutions?"; Sphinx itself always starts at 1);
- fixes two console errors of the theme stack (a duplicated sphinx-thebe script,
  an unset colour mode);
- sets what an adopter configures in ``course.yml`` (``convkit.settings``): the
  book's title, the repository (and its repository / issues buttons) and the launch
  buttons.  Binder, JupyterHub and Colab links appear only when a repository (and,
  for the hub, a JupyterHub) is configured, so no button leads nowhere; the .ipynb
  download stays.  ``$CONVKIT_COURSE_YML`` names another settings file.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

from convkit.book import assets
from convkit.book.exec_cache import ImportStamp, drop_stale, import_stamps, record_stamps
from convkit.book.imports import PackageSource
from convkit.settings import Settings, load_settings, settings_path

logger = logging.getLogger(__name__)

# Paths relative to `_static/` (how Sphinx resolves script paths), so every page,
# whatever its folder, links them relatively; this works over file:// too.
_UP = "../" + assets.VENDOR_DIR_NAME + "/"


def _configure(app: Sphinx, config: Config) -> None:
    config.mathjax_path = _UP + assets.MATHJAX_ENTRY
    config.nb_ipywidgets_js = {
        _UP + assets.REQUIREJS_ENTRY: {},
        _UP + assets.REQUIRE_CONFIG_ENTRY: {},
        # no crossorigin attribute: it breaks loading from file://
        _UP + assets.HTML_MANAGER_ENTRY: {},
    }


def course_theme_options(settings: Settings, options: dict[str, Any]) -> dict[str, Any]:
    """``html_theme_options`` (as Jupyter Book made them from ``_config.yml``) with the
    repository, its buttons and the launch-button URLs of ``settings``.

    An empty URL makes sphinx-book-theme leave that button out; without a repository
    every launch URL is empty (the theme needs one to build any launch link).
    """
    repo = settings.repository
    launch = dict(options.get("launch_buttons") or {})
    launch.update(
        binderhub_url=settings.binder_url,
        jupyterhub_url=settings.hub_url,
        colab_url=settings.colab_url,
    )
    return {
        **options,
        "launch_buttons": launch,
        "repository_url": repo.url,
        "repository_branch": repo.branch,
        "use_repository_button": bool(repo.url),
        "use_issues_button": bool(repo.url),
        "path_to_docs": options.get("path_to_docs", ""),
    }


def _course_settings(app: Sphinx, config: Config) -> None:
    settings = load_settings(settings_path(Path(app.srcdir)))
    config.html_title = settings.name
    config.html_theme_options = course_theme_options(
        settings, dict(config.html_theme_options or {})
    )


def _theme_defaults(app: Sphinx, config: Config) -> None:
    # With no explicit mode the theme logs "Got invalid theme mode" on a first visit.
    context = dict(config.html_context or {})
    context.setdefault("default_mode", "light")
    config.html_context = context


def _dedupe_scripts(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree: object
) -> None:
    # sphinx-thebe registers its inline `const THEBE_JS_URL = ...` twice under
    # Jupyter Book 1 + Sphinx 7, a SyntaxError in the console of every page.
    seen: set[tuple] = set()
    unique = []
    for script in context.get("script_files", []):
        # (the copies differ only in filename None vs "", so compare on content)
        key = (
            getattr(script, "filename", None) or "",
            getattr(script, "priority", 0),
            tuple(sorted(getattr(script, "attributes", {}).items())),
        )
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


# Next to the output folder: what each page was last read with (imports' digest per
# notebook page, and this build layer's own digest).
PAGES_STAMP = ".convkit-pages.json"
_OLD_PAGES_STAMP = ".convkit-source.sha256"  # the whole-package stamp of older builds


def book_layer_digest() -> str:
    """sha256 over the files of ``convkit.book`` (this extension, its assets and scripts)."""
    folder = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(folder).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _cache_dir(app: Sphinx) -> Path | None:
    """The execution cache folder, when myst-nb executes notebooks through one."""
    if app.config.nb_execution_mode != "cache":
        return None
    return Path(app.srcdir) / str(app.config.nb_execution_cache_path or ".jupyter_cache")


def _pages_stamp(app: Sphinx) -> Path:
    return Path(app.outdir).parent / PAGES_STAMP


def _outdated_docs(app: Sphinx, env: Any, added: set, changed: set, removed: set) -> list[str]:
    """The pages to read again although their source did not change: the notebooks whose
    convkit files changed since their page was read (their stale cached executions
    dropped, so they execute again), or every page when this build layer changed."""
    notebooks = {
        docname: Path(env.doc2path(docname))
        for docname in sorted(env.found_docs)
        if str(env.doc2path(docname)).endswith(".ipynb")
    }
    stamps = import_stamps(notebooks.values(), PackageSource.installed())
    cache_dir = _cache_dir(app)
    if cache_dir is not None:
        for path, files in drop_stale(cache_dir, stamps).items():
            logger.info(f"{path.name}: convkit changed ({', '.join(files)}); executing again")
    pages = {docname: stamps[path].digest for docname, path in notebooks.items()}
    app.convkit_import_stamps = stamps  # type: ignore[attr-defined]
    app.convkit_pages = {"book": book_layer_digest(), "pages": pages}  # type: ignore[attr-defined]
    (Path(app.outdir).parent / _OLD_PAGES_STAMP).unlink(missing_ok=True)
    try:
        read = json.loads(_pages_stamp(app).read_text())
    except (OSError, ValueError):
        read = {}
    unchanged = env.found_docs - added - removed
    if read.get("book") != app.convkit_pages["book"]:  # type: ignore[attr-defined]
        return sorted(unchanged)
    read_pages = read.get("pages", {})
    return sorted(
        doc for doc, digest in pages.items() if doc in unchanged and read_pages.get(doc) != digest
    )


def _record_imports(app: Sphinx, exception: Exception | None) -> None:
    """Record what the notebooks executed by this build imported; after a successful
    build, what every page was read with."""
    stamps: dict[Path, ImportStamp] | None = getattr(app, "convkit_import_stamps", None)
    cache_dir = _cache_dir(app)
    if stamps is not None and cache_dir is not None and cache_dir.is_dir():
        record_stamps(cache_dir, stamps)
    pages = getattr(app, "convkit_pages", None)
    if exception is None and pages is not None:
        _pages_stamp(app).write_text(json.dumps(pages, indent=1, sort_keys=True) + "\n")


CHAPTER_FILE = re.compile(r"(?:^|/)ch(\d+)_")


def _chapter_shifts(env: Any) -> dict[str, int]:
    """Per numbered page, what to add to Sphinx's chapter number (which counts the
    pages in toc order from 1) so that it becomes the page's own: ``chNN_*`` is
    chapter NN whatever comes before it; other numbered pages count from 0."""
    shifts = {}
    for docname, numbers in env.toc_secnumbers.items():
        own = numbers.get("") or next((n for n in numbers.values() if n), None)
        if not own:
            continue
        match = CHAPTER_FILE.search(docname)
        shifts[docname] = int(match.group(1)) - own[0] if match else -1
    return shifts


def _shift_chapter_numbers(env: Any, shifts: dict[str, int], sign: int = 1) -> None:
    """Add ``sign * shifts[doc]`` to the chapter (first) component of every section and
    figure number of each page ``doc``."""
    for docname, shift in shifts.items():
        by = sign * shift
        numbers = env.toc_secnumbers.get(docname, {})
        env.toc_secnumbers[docname] = {
            anchor: (num[0] + by, *num[1:]) if num else num for anchor, num in numbers.items()
        }
        toc = env.tocs.get(docname)
        if toc is not None:
            for ref in toc.findall(nodes.reference):
                if ref.get("secnumber"):
                    ref["secnumber"] = [ref["secnumber"][0] + by, *ref["secnumber"][1:]]
        for figtype, fignumbers in env.toc_fignumbers.get(docname, {}).items():
            env.toc_fignumbers[docname][figtype] = {
                key: (num[0] + by, *num[1:]) if len(num) > 1 else num
                for key, num in fignumbers.items()
            }


def before_numbering(app: Sphinx | None, env: Any) -> list[str]:
    """Undo the last build's chapter shift (``env-get-updated``, before Sphinx numbers),
    so Sphinx compares its numbers like with like (and rewrites nothing)."""
    shifts = getattr(env, "convkit_chapter_shifts", None)
    if shifts:
        _shift_chapter_numbers(env, shifts, sign=-1)
    env.convkit_chapter_shifts = {}
    return []


def after_numbering(app: Sphinx | None, env: Any) -> list[str]:
    """Shift every page's chapter number to its file's (``env-get-updated``, after Sphinx
    numbers): ``chNN_*`` is chapter NN; remembered for :func:`before_numbering`."""
    shifts = _chapter_shifts(env)
    _shift_chapter_numbers(env, shifts)
    env.convkit_chapter_shifts = shifts
    return []


def _prepare(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    cache = Path(app.outdir).parent / ".book_vendor"
    app.convkit_vendor = assets.prepare_vendor(cache)  # type: ignore[attr-defined]
    app.set_html_assets_policy("always")


def _install(app: Sphinx, exception: Exception | None) -> None:
    vendor = getattr(app, "convkit_vendor", None)
    if exception is None and vendor is not None:
        assets.install_vendor(vendor, Path(app.outdir))


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the extension (Sphinx entry point)."""
    app.connect("config-inited", _configure, priority=900)
    app.connect("config-inited", _theme_defaults, priority=900)
    app.connect("config-inited", _course_settings, priority=900)
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    app.connect("builder-inited", _prepare)
    app.connect("env-get-outdated", _outdated_docs)
    # Sphinx numbers sections in an env-get-updated handler of priority 500.
    app.connect("env-get-updated", before_numbering, priority=400)
    app.connect("env-get-updated", after_numbering, priority=600)
    app.connect("build-finished", _install)
    app.connect("build-finished", _record_imports)
    # After Sphinx's inline `window.MathJax = {config}` (priority 500) and before
    # MathJax itself runs (it is loaded with `defer`).
    app.add_js_file(_UP + assets.MATHJAX_SHIM_ENTRY, priority=510)
    app.add_css_file(_UP + assets.PAGE_WIDTH_CSS_ENTRY, priority=900)  # after the theme's
    return {"parallel_read_safe": True, "parallel_write_safe": True}
