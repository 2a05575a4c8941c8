"""Third-party JavaScript the built book serves itself, so no page touches the network.

The book needs MathJax 3, require.js, ``@jupyter-widgets/html-manager``'s embed
script and anywidget's AMD module.  Each comes from a maintained package at a pinned
version: the npm ones are fetched once with ``npm pack`` (integrity checked against
the pin) into a cache under ``_build/``; anywidget's AMD bundle comes from the
installed PyPI wheel (version pinned in ``constraints.txt``).  They are laid out in
``<outdir>/vendor/`` next to the pages (never in ``_static/``, whose scripts Jupyter
Book injects into every page), with ``vendor/MANIFEST.json`` recording versions.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

VENDOR_DIR_NAME = "vendor"


@dataclass(frozen=True)
class NpmPin:
    """One npm package at a pinned version, and which of its files the site serves."""

    name: str
    version: str
    integrity: str  # the registry's dist.integrity (sha512, base64)
    target: str  # folder under vendor/
    keep: tuple[str, ...]  # paths inside the package (files, folders or globs) to serve
    drop: tuple[str, ...] = ()  # paths under `keep` folders left out (unused, large)

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"


NPM_PINS: tuple[NpmPin, ...] = (
    NpmPin(
        "requirejs",
        "2.3.8",
        "sha512-7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+Jd5otXKGNehIonFlyQXSowL6Mw==",
        "requirejs",
        ("require.js",),
    ),
    NpmPin(
        "@jupyter-widgets/html-manager",
        "1.0.15",
        "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
        "html-manager",
        # the embed script, and the icon fonts its widget CSS refers to
        ("dist/embed-amd.js", "dist/*.woff2", "dist/*.woff", "dist/*.ttf"),
    ),
    NpmPin(
        "mathjax",
        "3.2.2",
        "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
        "mathjax",
        (
            "es5/tex-mml-chtml.js",
            "es5/input",
            "es5/output/chtml",  # CommonHTML output and its woff-v2 fonts (no SVG)
            "es5/ui",
            "es5/a11y",
            "es5/sre",
            "es5/adaptors",
        ),
    ),
)

# Files served from vendor/ and where they come from inside the package.
MATHJAX_ENTRY = "mathjax/es5/tex-mml-chtml.js"
REQUIREJS_ENTRY = "requirejs/require.js"
HTML_MANAGER_ENTRY = "html-manager/dist/embed-amd.js"
ANYWIDGET_ENTRY = "anywidget/index.js"
# Our own small scripts (in convkit/book/static/), served from vendor/convkit/.
REQUIRE_CONFIG_ENTRY = "convkit/widgets-require-config.js"
MATHJAX_SHIM_ENTRY = "convkit/mathjax-hub-shim.js"
PAGE_WIDTH_CSS_ENTRY = "convkit/page-width.css"


class AssetError(RuntimeError):
    """A pinned asset could not be fetched or failed its integrity check."""


def _sri_sha512(path: Path) -> str:
    digest = hashlib.sha512(path.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode("ascii")


def _tarball_name(pin: NpmPin) -> str:
    return f"{pin.name.lstrip('@').replace('/', '-')}-{pin.version}.tgz"


def fetch_npm(pin: NpmPin, cache: Path) -> Path:
    """Return the pinned npm tarball from ``cache``, running ``npm pack`` once if missing.

    Raises ``AssetError`` when npm is missing, fails, or the tarball's sha512 differs
    from the pin.
    """
    cache.mkdir(parents=True, exist_ok=True)
    tarball = cache / _tarball_name(pin)
    if not tarball.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise AssetError(
                f"npm is needed once to fetch {pin.spec} into {cache} "
                "(install Node.js/npm, e.g. `apt-get install -y npm`)"
            )
        result = subprocess.run(
            [npm, "pack", pin.spec, "--pack-destination", str(cache), "--silent"],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0 or not tarball.exists():
            raise AssetError(f"`npm pack {pin.spec}` failed:\n{result.stderr.strip()}")
    got = _sri_sha512(tarball)
    if got != pin.integrity:
        tarball.unlink()
        raise AssetError(f"{pin.spec}: integrity {got} does not match the pin {pin.integrity}")
    return tarball


def _extract(pin: NpmPin, tarball: Path, dest: Path) -> None:
    """Extract the kept files of ``tarball`` (paths under ``package/``) into ``dest``."""
    with tarfile.open(tarball) as tar:
        for member in tar.getmembers():
            if not member.isfile() or not member.name.startswith("package/"):
                continue
            rel = member.name[len("package/") :]
            kept = any(
                rel == k or rel.startswith(k + "/") or fnmatch.fnmatchcase(rel, k) for k in pin.keep
            )
            dropped = any(rel == d or rel.startswith(d + "/") for d in pin.drop)
            if not kept or dropped:
                continue
            out = dest / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            assert source is not None
            out.write_bytes(source.read())


def _anywidget_amd() -> tuple[str, Path]:
    """anywidget's version and the AMD bundle its PyPI wheel ships (nbextension/index.js)."""
    version = metadata.version("anywidget")
    path = Path(str(resources.files("anywidget") / "nbextension" / "index.js"))
    if not path.exists():
        raise AssetError(f"anywidget {version} has no nbextension/index.js (AMD bundle)")
    return version, path


def prepare_vendor(cache: Path) -> Path:
    """Lay out every vendored asset under ``cache/site/vendor``; return that folder.

    Idempotent and cheap when up to date: a folder is rebuilt only when its pinned
    version changed (tracked in ``MANIFEST.json``).
    """
    vendor = cache / "site" / VENDOR_DIR_NAME
    manifest_path = vendor / "MANIFEST.json"
    old = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    manifest: dict[str, dict[str, str]] = {}
    for pin in NPM_PINS:
        entry = {
            "source": "npm",
            "package": pin.name,
            "version": pin.version,
            "integrity": pin.integrity,
            "files": list(pin.keep),
        }
        if old.get(pin.target) != entry or not (vendor / pin.target).exists():
            shutil.rmtree(vendor / pin.target, ignore_errors=True)
            _extract(pin, fetch_npm(pin, cache / "npm"), vendor / pin.target)
        manifest[pin.target] = entry
    aw_version, aw_path = _anywidget_amd()
    (vendor / "anywidget").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(aw_path, vendor / ANYWIDGET_ENTRY)
    manifest["anywidget"] = {
        "source": "pypi",
        "package": "anywidget",
        "version": aw_version,
        "file": "anywidget/nbextension/index.js",
        "sha256": hashlib.sha256(aw_path.read_bytes()).hexdigest(),
    }
    own = resources.files("convkit.book") / "static"
    (vendor / "convkit").mkdir(parents=True, exist_ok=True)
    for name in ("widgets-require-config.js", "mathjax-hub-shim.js", "page-width.css"):
        shutil.copyfile(Path(str(own / name)), vendor / "convkit" / name)
    manifest["convkit"] = {
        "source": "convkit/book/static",
        "package": "convkit",
        "version": metadata.version("convkit"),
    }
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return vendor


def install_vendor(vendor: Path, outdir: Path) -> None:
    """Copy ``vendor`` into ``outdir/vendor``, skipping files already identical."""
    target = outdir / VENDOR_DIR_NAME
    for src in vendor.rglob("*"):
        if not src.is_file():
            continue
        dst = target / src.relative_to(vendor)
        if (
            dst.exists()
            and dst.stat().st_size == src.stat().st_size
            and (dst.stat().st_mtime >= src.stat().st_mtime)
        ):
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
