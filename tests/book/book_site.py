"""Helpers of the browser tests: what the toc lists, what a built page embeds, and a
Playwright page that records console errors and every request it makes."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: F401  (re-exported)
from playwright.sync_api import Browser, Page, Request, Route

ROOT = Path(__file__).resolve().parents[2]
HTML_DIR = ROOT / "_build" / "html"
SCREENSHOT_DIR = ROOT / "_build" / "screenshots"
# Chapters whose simulations the course map requires (checked once they are in the toc).
REQUIRED_SIMS = {
    "book/ch00_why_convolutions": ["ConnectivitySim"],
    "book/ch01_convolution": ["Slide1DSim", "Slide2DSim"],
}
SIM_IDS = {
    "ConnectivitySim": "convkit.sims.connectivity.ConnectivitySim",
    "Slide1DSim": "convkit.sims.sliding.Slide1DSim",
    "Slide2DSim": "convkit.sims.sliding.Slide2DSim",
    "QuickCheck": "convkit.sims.quickcheck.QuickCheck",
}
SIM_KIND = {  # the data-sim attribute each ES module puts on its root element
    "ConnectivitySim": "connectivity",
    "Slide1DSim": "slide1d",
    "Slide2DSim": "slide2d",
    "QuickCheck": "quickcheck",
}


def toc_docnames(toc: Path = ROOT / "_toc.yml") -> list[str]:
    """Every document in the table of contents, in reading order (root first)."""
    data = yaml.safe_load(toc.read_text())
    names = [data["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries or []:
            if "file" in entry:
                names.append(entry["file"])
            walk(entry.get("sections", []))

    for part in data.get("parts", []):
        walk(part.get("chapters", []))
    walk(data.get("chapters", []))
    return [str(Path(n).with_suffix("")) for n in names]


def chapter_docnames() -> list[str]:
    """The toc's chapter notebooks (book/chNN_*)."""
    return [d for d in toc_docnames() if re.fullmatch(r"book/ch\d\d_\w+", d)]


def source_of(docname: str) -> Path:
    """The source file (.ipynb or .md) of a toc document."""
    for suffix in (".ipynb", ".md"):
        path = ROOT / (docname + suffix)
        if path.exists():
            return path
    raise FileNotFoundError(f"no source for {docname}")


def sources_using(class_name: str) -> list[str]:
    """toc documents whose source constructs ``class_name`` (e.g. ``Slide1DSim``)."""
    pattern = re.compile(rf"\b{class_name}\(")
    return [d for d in toc_docnames() if pattern.search(source_of(d).read_text())]


def embedded_views(html_file: Path) -> list[dict]:
    """The widget models a built page displays, in page order: each a model's state."""
    text = html_file.read_text()
    state_match = re.search(
        r'<script type="application/vnd.jupyter.widget-state\+json">(.*?)</script>', text, re.S
    )
    if not state_match:
        return []
    state = json.loads(state_match.group(1))["state"]
    views = re.findall(
        r'<script type="application/vnd.jupyter.widget-view\+json">(.*?)</script>', text, re.S
    )
    return [state[json.loads(v)["model_id"]]["state"] for v in views]


def sims_in(html_file: Path, class_name: str) -> list[dict]:
    """States of the ``class_name`` simulations a built page displays, in page order."""
    return [s for s in embedded_views(html_file) if s.get("_anywidget_id") == SIM_IDS[class_name]]


@dataclass
class Visit:
    """A page opened in Chromium, with everything it did that a test may reject."""

    page: Page
    console_errors: list[str] = field(default_factory=list)
    offsite: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """Console errors, off-site requests and failed requests, one line each."""
        return (
            [f"console error: {e}" for e in self.console_errors]
            + [f"off-site request (blocked): {u}" for u in self.offsite]
            + [f"failed request: {u}" for u in self.failed]
        )


def open_page(browser: Browser, url: str, allowed_prefix: str) -> Visit:
    """Open ``url``; block and record every request outside ``allowed_prefix``/file:/blob:/data:.

    Waits until every embedded widget has rendered and MathJax has finished typesetting.
    """
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    visit = Visit(page)
    local = (allowed_prefix, "file://", "blob:", "data:")

    def route(route: Route) -> None:
        if route.request.url.startswith(local):
            route.continue_()
        else:
            visit.offsite.append(route.request.url)
            route.abort()

    def on_failed(request: Request) -> None:
        if request.url.startswith(local):
            visit.failed.append(f"{request.url} ({request.failure})")

    page.route("**/*", route)
    page.on("console", lambda m: visit.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: visit.console_errors.append(f"uncaught: {e}"))
    page.on("requestfailed", on_failed)
    page.on("response", lambda r: visit.failed.append(f"{r.url} (HTTP {r.status})")
            if r.status >= 400 else None)
    page.goto(url, wait_until="load")
    wait_until_settled(page)
    return visit


def wait_until_settled(page: Page) -> None:
    """Wait for every widget view to render and for MathJax to finish."""
    page.wait_for_function(
        """() => {
          const views = document.querySelectorAll(
            'script[type="application/vnd.jupyter.widget-view+json"]');
          const rendered = document.querySelectorAll('.widget-subarea > .lm-Widget');
          return rendered.length >= views.length;
        }""",
        timeout=20_000,
    )
    page.evaluate(
        """async () => {
          if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
            await MathJax.startup.promise;
            if (MathJax.typesetPromise) { await MathJax.typesetPromise(); }
          }
        }"""
    )
    page.wait_for_timeout(300)  # sims typeset their text asynchronously, once MathJax is up


# Code blocks (cell sources and text outputs) wider than their box: they would scroll
# sideways; the page is opened 1280 px wide.
WIDE_CODE_JS = r"""() => [...document.querySelectorAll('main pre')]
  .filter(pre => pre.offsetParent !== null && pre.scrollWidth > pre.clientWidth + 1)
  .map(pre => pre.innerText.split('\n').sort((a, b) => b.length - a.length)[0].slice(0, 100))"""

RAW_MATH_JS = r"""() => {
  const skip = 'pre, code, script, style, textarea, mjx-container, .highlight';
  const root = document.querySelector('main') || document.body;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const raw = [];
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.parentElement.closest(skip)) continue;
    const text = node.nodeValue;
    if (/\\\(|\\\)|\\\[|\\\]|\$\$/.test(text)) raw.push(text.trim().slice(0, 80));
    if (node.parentElement.closest('.ck-sim, .widget-subarea') && /\$[^$]+\$/.test(text)) {
      raw.push(text.trim().slice(0, 80));
    }
  }
  return raw;
}"""

IMAGES_WITHOUT_ALT_JS = r"""() => [...document.querySelectorAll('main img')]
  .filter(img => {
    const alt = (img.getAttribute('alt') || '').trim();
    const file = (img.getAttribute('src') || '').split('/').pop();
    return !alt || alt === file || /\.(png|jpe?g|svg|gif)$/i.test(alt) || alt.includes('/');
  })
  .map(img => img.getAttribute('src'))"""


def shown(locator) -> list[float]:
    """The numbers a simulation shows, read from the data-value of every matched element."""
    return [float(v) for v in locator.evaluate_all("els => els.map(e => e.dataset.value)")]


def set_slider(root, name: str, value: int) -> None:
    """Move the range slider data-control=name to value, as a drag does, and check the
    number shown next to it."""
    slider = root.locator(f'input[data-control="{name}"]')
    slider.fill(str(value))  # sets the range input's value and fires "input"
    assert root.locator(f'[data-role="{name}-value"]').inner_text().strip() == str(value)


def widget_vendor(tmp_path_factory) -> Path:
    """The book's vendored widget code (require.js, the html-manager, anywidget): the built
    site's, or laid out as the build does (from the build's npm cache when it has one)."""
    built = HTML_DIR / "vendor"
    if (built / "MANIFEST.json").exists():
        return built
    import shutil

    from convkit.book.assets import prepare_vendor

    cache = tmp_path_factory.mktemp("book_vendor")
    shared = ROOT / "_build" / ".book_vendor" / "npm"
    if shared.is_dir():
        shutil.copytree(shared, cache / "npm")
    return prepare_vendor(cache)


def standalone_page(folder: Path, vendor: Path, sim) -> Path:
    """An HTML page in ``folder`` that embeds simulation ``sim``'s state and view as the
    built book does (widget state, require.js, the require config, the html-manager's
    embed script, then the view), with ``vendor`` linked beside it; returns its path."""
    from ipywidgets.embed import dependency_state, embed_data

    # the full state (as the book stores it) of this sim and its layout only
    state = dependency_state(sim, drop_defaults=False)
    data = embed_data(views=[sim], drop_defaults=False, state=state)
    assert len(data["manager_state"]["state"]) == 2

    def script(kind: str, payload: dict) -> str:
        text = json.dumps(payload).replace("</", "<\\/")
        return f'<script type="application/vnd.jupyter.widget-{kind}+json">{text}</script>'

    (folder / "vendor").symlink_to(vendor, target_is_directory=True)
    page = folder / f"{sim._sim_name}.html"
    page.write_text(
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        f"<title>{type(sim).__name__}</title>\n"
        + script("state", data["manager_state"])
        + '\n<script src="vendor/requirejs/require.js"></script>\n'
        '<script src="vendor/convkit/widgets-require-config.js"></script>\n'
        '<script src="vendor/html-manager/dist/embed-amd.js"></script>\n'
        + "</head><body><main>\n"
        + script("view", data["view_specs"][0])
        + "\n</main></body></html>\n"
    )
    return page


def check_built_sims(visit, docname: str, sim_id: str, sim_kind: str, check) -> None:
    """Open the built page ``docname`` with ``visit`` and run ``check(root, state)`` on each
    embedded simulation whose anywidget id is ``sim_id`` (drawn in ``[data-sim=sim_kind]``);
    every one must have rendered and the page must load without problems."""
    result = visit(docname)
    html = HTML_DIR / f"{docname}.html"
    states = [s for s in embedded_views(html) if s.get("_anywidget_id") == sim_id]
    roots = result.page.locator(f'[data-sim="{sim_kind}"]')
    name = sim_id.rsplit(".", 1)[-1]
    assert roots.count() == len(states) > 0, f"{docname}: {name} did not render"
    for index, state in enumerate(states):
        check(roots.nth(index), state)
    assert result.problems() == [], "\n".join(result.problems())
