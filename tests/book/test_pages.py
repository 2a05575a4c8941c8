"""Every page in the toc, in Chromium: loads cleanly and offline, math typeset, alt text."""

from __future__ import annotations

import re
import shutil
from html import unescape
from pathlib import Path

import nbformat
import pytest
from book_site import (
    HTML_DIR,
    IMAGES_WITHOUT_ALT_JS,
    RAW_MATH_JS,
    ROOT,
    SCREENSHOT_DIR,
    WIDE_CODE_JS,
    chapter_docnames,
    open_page,
    source_of,
    toc_docnames,
)

from convkit.book import BookBuildError, build

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("docname", toc_docnames())
def test_page_loads_offline_and_clean(visit, docname: str) -> None:
    """No console error, nothing off-site, no failed request; math typeset; images have alt;
    no code block (source or output) scrolls sideways at 1280 px."""
    result = visit(docname)
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOT_DIR / f"{docname.replace('/', '__')}.png"
    result.page.screenshot(path=shot, full_page=True)
    assert result.problems() == [], "\n".join(result.problems())
    assert result.page.evaluate(RAW_MATH_JS) == [], "untypeset math left on the page"
    html = (HTML_DIR / f"{docname}.html").read_text()
    math_spans = len(re.findall(r'class="math notranslate nohighlight"', html))
    typeset = result.page.locator("main mjx-container").count()
    assert typeset >= math_spans, f"{math_spans} math elements but {typeset} typeset"
    assert result.page.evaluate(IMAGES_WITHOUT_ALT_JS) == [], "images without real alt text"
    wide = result.page.evaluate(WIDE_CODE_JS)
    assert wide == [], f"code blocks that scroll sideways at 1280 px (widest lines): {wide}"


def test_index_over_file_url(browser) -> None:
    """Opened straight from disk (file://), the book works too: redirect, scripts, sims."""
    result = open_page(browser, (HTML_DIR / "index.html").as_uri(), allowed_prefix="file://")
    try:
        assert result.page.url.endswith(f"{toc_docnames()[0]}.html")
        assert result.problems() == [], "\n".join(result.problems())
    finally:
        result.page.close()
    widget_call = re.compile(r"Sim\(|quick_check\(")
    with_sims = [d for d in toc_docnames() if widget_call.search(source_of(d).read_text())]
    assert with_sims, "no page with a simulation or quick check to open from file://"
    for docname in with_sims:
        uri = (HTML_DIR / f"{docname}.html").as_uri()
        page_visit = open_page(browser, uri, allowed_prefix="file://")
        try:
            assert page_visit.problems() == [], "\n".join(page_visit.problems())
            sims = page_visit.page.locator("[data-sim]")
            assert sims.count() > 0, f"{docname}: no simulation rendered from file://"
        finally:
            page_visit.page.close()


def test_toc_has_the_chapters_in_order() -> None:
    """Chapters appear in course order, and only chapters that exist (no placeholders)."""
    chapters = chapter_docnames()
    numbers = [int(re.search(r"ch(\d\d)", c).group(1)) for c in chapters]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    for docname in toc_docnames():
        assert (ROOT / f"{docname}.ipynb").exists() or (ROOT / f"{docname}.md").exists()


def test_ipywidgets_mathjax2_calls_work_with_mathjax3(visit) -> None:
    """ipywidgets 8 typesets with `MathJax.Hub.Queue` (MathJax 2); the shim makes it work."""
    result = visit(toc_docnames()[0])
    typeset = result.page.evaluate(
        """async () => {
          const el = document.createElement('div');
          el.textContent = 'a label with $x^2$';
          document.querySelector('main').append(el);
          MathJax.Hub.Queue(['Typeset', MathJax.Hub, el]);
          for (let i = 0; i < 50 && !el.querySelector('mjx-container'); i++) {
            await new Promise(r => setTimeout(r, 100));
          }
          return el.querySelectorAll('mjx-container').length;
        }"""
    )
    assert typeset == 1
    assert result.problems() == [], "\n".join(result.problems())


def test_search_finds_chapter_text(visit) -> None:
    """The built-in search works offline."""
    result = visit("search")
    result.page.goto(result.page.url + "?q=kernel")
    result.page.wait_for_selector("#search-results li", timeout=20_000)
    assert result.page.locator("#search-results li").count() > 0
    assert result.problems() == [], "\n".join(result.problems())


LAUNCH_SERVICES = ("mybinder.org", "colab.research.google.com", "/hub/user-redirect/")


@pytest.mark.parametrize("docname", chapter_docnames())
def test_chapter_has_download_and_no_dead_launch_buttons(built_book, docname: str) -> None:
    """The committed course.yml names no repository and no hub: no launch button (it would
    lead nowhere) and no repository or issues button; the notebook download stays."""
    html = (built_book / f"{docname}.html").read_text()
    notebook = f"{docname}.ipynb"
    for service in LAUNCH_SERVICES:
        assert service not in html, f"a {service} launch link without a configured repository"
    assert "launch-buttons" not in html and "Launch interactive content" not in html
    assert "repository-button" not in html and "issues/new" not in html
    download = f'href="../_sources/{notebook}"'
    assert download in html, "no download link for the notebook"
    assert (built_book / "_sources" / notebook).exists()


def test_configured_repository_and_hub_give_the_theme_s_launch_links(tmp_path: Path) -> None:
    """A scratch book (intro and one notebook) built with the real _config.yml and a
    course.yml naming a fork and a hub: exact nbgitpuller, Binder and Colab links, and
    the repository and issues buttons."""
    shutil.copy(ROOT / "_config.yml", tmp_path / "_config.yml")
    shutil.copy(ROOT / "references.bib", tmp_path / "references.bib")
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nchapters:\n  - file: book/ch01_tiny\n"
    )
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "intro.md").write_text("# Intro\n\nA scratch book.\n")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}  # fmt: skip
    nb.cells = [nbformat.v4.new_markdown_cell("# Tiny"), nbformat.v4.new_code_cell("1 + 1")]
    nbformat.write(nb, tmp_path / "book" / "ch01_tiny.ipynb")
    settings = tmp_path / "elsewhere" / "adopter.yml"  # not the book's own course.yml
    settings.parent.mkdir()
    settings.write_text(
        "course:\n  name: Adopted ConvNets\n"
        "repository:\n  url: https://github.com/adopter/cnn-fork\n  branch: spring27\n"
        "jupyterhub:\n  url: https://hub.example.edu\n"
    )
    npm_cache = ROOT / "_build" / ".book_vendor" / "npm"  # reuse downloaded tarballs
    if npm_cache.is_dir():
        shutil.copytree(npm_cache, tmp_path / "_build" / ".book_vendor" / "npm")
    build(tmp_path, settings=settings)
    html = unescape((tmp_path / "_build" / "html" / "book" / "ch01_tiny.html").read_text())
    links = set(re.findall(r'href="([^"]+)"', html))
    assert (
        "https://hub.example.edu/hub/user-redirect/git-pull?"
        "repo=https%3A//github.com/adopter/cnn-fork"
        "&urlpath=lab/tree/cnn-fork/book/ch01_tiny.ipynb&branch=spring27"
    ) in links
    assert (
        "https://mybinder.org/v2/gh/adopter/cnn-fork/spring27"
        "?urlpath=lab/tree/book/ch01_tiny.ipynb"
    ) in links
    assert (
        "https://colab.research.google.com/github/adopter/cnn-fork/blob/spring27/"
        "book/ch01_tiny.ipynb"
    ) in links
    assert "https://github.com/adopter/cnn-fork" in links  # the repository button
    assert any(link.startswith("https://github.com/adopter/cnn-fork/issues/new") for link in links)
    assert "../_sources/book/ch01_tiny.ipynb" in links  # the download stays
    assert re.search(r"<title>[^<]*Adopted ConvNets", html)  # the title from the settings
    intro = (tmp_path / "_build" / "html" / "book" / "intro.html").read_text()
    assert "mybinder.org" not in intro  # a markdown page has nothing to launch


def test_a_bad_settings_value_stops_the_build_naming_the_key(tmp_path: Path) -> None:
    """Checked before Jupyter Book starts: the error names the file and the key."""
    (tmp_path / "_config.yml").write_text("title: t\n")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\n")
    (tmp_path / "course.yml").write_text("course:\n  name: x\nlms:\n  export: blackboard\n")
    with pytest.raises(BookBuildError, match=r"lms\.export: 'blackboard' is not one of"):
        build(tmp_path)


# Markdown that reached the page as text: a table glued inline ({glue:md} as a role
# parses inline, so a table shows as "| a | b |"), or a role / directive left unparsed.
RAW_MARKDOWN = re.compile(r"\|\s*:?(?:-{3,}|—)|\{(?:glue|cite)[:}]|^:::|^```", re.M)


@pytest.mark.parametrize("docname", toc_docnames())
def test_no_raw_markdown_on_the_page(built_book, docname: str) -> None:
    html = (built_book / f"{docname}.html").read_text()
    article = re.search(r'<article class="bd-article">(.*?)</article>', html, re.S)
    body = re.sub(r"<pre.*?</pre>|<script.*?</script>", "", article.group(1), flags=re.S)
    text = unescape(re.sub(r"<[^>]+>", "", body))
    raw = [text[max(0, m.start() - 60):m.end() + 40] for m in RAW_MARKDOWN.finditer(text)]
    assert raw == [], f"markdown left as text on {docname}: {raw}"


def _figure_names(docname: str) -> list[str]:
    """The figure names a chapter's code cells declare (``mystnb.figure.name``)."""
    import json

    cells = json.loads((ROOT / f"{docname}.ipynb").read_text())["cells"]
    return [c["metadata"]["mystnb"]["figure"]["name"] for c in cells
            if "figure" in c.get("metadata", {}).get("mystnb", {})]  # fmt: skip


@pytest.mark.parametrize("docname", chapter_docnames())
def test_every_declared_figure_is_drawn(built_book, docname: str) -> None:
    """A cell with a figure caption shows an image: a figure function's return value must
    be the cell's last expression, since the course's figure functions close their figure
    in pyplot (``plt.show()`` after one shows nothing, and the caption is silently lost)."""
    html = (built_book / f"{docname}.html").read_text()
    missing = []
    for name in _figure_names(docname):
        figure = re.search(rf'<figure[^>]*id="{re.escape(name)}".*?</figure>', html, re.S)
        if figure is None or "<img" not in figure.group(0):
            missing.append(name)
    assert missing == [], f"{docname}: no image for {missing}"
