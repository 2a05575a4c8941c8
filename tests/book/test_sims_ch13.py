"""Chapter 13's explanation explorer in the browser, with no kernel: for every image and
class reached through the controls (thumbnail clicks, the arrow keys, Home / End, class
buttons, Enter, the Predicted class button, the opacity slider), each method's panel shows
that pair's map -- the codes it carries and the colour of every pixel of its canvas are
ExplanationExplorerSim's quantised map, palette and blend over the image, NaN pixels
hatched -- and the readout names the class, the model's answer and its probability.
Checked on the built chapter once it exists, and now on a standalone page that embeds the
widget's state the way the book does (the book's vendored widget manager, no kernel),
with maps that are known functions of (image, class)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from book_site import (
    SCREENSHOT_DIR,
    check_built_sims,
    open_page,
    sources_using,
    standalone_page,
    toc_docnames,
    widget_vendor,
)

from convkit.sims import ExplanationExplorerSim
from convkit.sims.explanation_explorer import (
    HATCH_DARK,
    HATCH_LIGHT,
    LEVELS,
    NAN_CODE,
    blend,
    code_values,
    decode_codes,
    palette,
)

pytestmark = pytest.mark.slow

SIM_ID = "convkit.sims.explanation_explorer.ExplanationExplorerSim"
SIM_KIND = "explanation_explorer"
CHAPTER = "book/ch13_inside"


# Everything _check reads from the page, in one round trip and as one JSON string (Playwright
# passes long arrays of numbers slowly): the pressed buttons, the slider, the traits, every
# canvas's bytes and data attributes, the readout and the title.
SNAPSHOT_JS = """root => {
  const pressed = (control) => [...root.querySelectorAll(
    `[data-control="${control}"][aria-pressed="true"]`)].map((b) => Number(b.dataset[control]));
  const bytes = (c) => Array.from(c.getContext("2d").getImageData(0, 0, c.width, c.height).data);
  const canvas = (c) => ({ ...c.dataset, height: c.height, width: c.width, bytes: bytes(c) });
  const value = (role) => { const e = root.querySelector(`[data-role="${role}"]`);
    return e ? Number(e.dataset.value) : null; };
  const predicted = root.querySelector('[data-action="predicted"]');
  return JSON.stringify({
    image: pressed("image"), target: pressed("target"), opacity: value("opacity-value"),
    traits: JSON.parse(root.dataset.traits),
    picture: canvas(root.querySelector('canvas[data-role="image"]')),
    maps: [...root.querySelectorAll('canvas[data-role="map"]')].map(canvas),
    notes: Object.fromEntries([...root.querySelectorAll('[data-role="method-note"]')]
      .map((e) => [e.dataset.method, e.textContent])),
    shownTarget: value("target"), answer: value("answer"), probability: value("probability"),
    starred: [...root.querySelectorAll('[data-control="target"]')]
      .filter((b) => b.textContent.includes("\u2605")).map((b) => Number(b.dataset.target)),
    predictedDisabled: predicted ? predicted.disabled : null,
    title: root.querySelector('[data-role="title"]').textContent,
    text: root.innerText,
  });
}"""


def _snapshot(root) -> dict:
    return json.loads(root.evaluate(SNAPSHOT_JS))


def _shown(root) -> tuple[int, int, float]:
    """(image, target, opacity) as the page's controls show them."""
    snap = _snapshot(root)
    assert len(snap["image"]) == len(snap["target"]) == 1  # one pressed button a row
    return snap["image"][0], snap["target"][0], snap["opacity"]


def _pixels(canvas: dict) -> np.ndarray:
    """A snapshot canvas's RGB bytes: (height, width, 3) uint8."""
    flat = np.array(canvas["bytes"], dtype=np.uint8)
    return flat.reshape(canvas["height"], canvas["width"], 4)[..., :3]


def _image_bytes(state: dict, k: int) -> np.ndarray:
    """Image k of the state as (H, W, 3) bytes (grey as three equal channels)."""
    h, w, c = state["height"], state["width"], state["channels"]
    raw = np.frombuffer(base64.b64decode(state["pixels"]), dtype=np.uint8).reshape(-1, h, w, c)
    return np.repeat(raw[k], 3, axis=2) if c == 1 else raw[k]


def _codes(state: dict, m: int, k: int, t: int) -> np.ndarray:
    """Method m's codes for image k and class t: (H, W)."""
    h, w, n = state["height"], state["width"], len(state["class_names"])
    start = (k * n + t) * h * w
    return decode_codes(state["codes"][m][start : start + h * w]).reshape(h, w)


def _blocks(canvas: np.ndarray, h: int, w: int) -> tuple[np.ndarray, int]:
    """The (h, w, s, s, 3) blocks of an (h * s, w * s, 3) canvas, and s."""
    s = canvas.shape[0] // h
    assert canvas.shape[:2] == (h * s, w * s) and s >= 4
    return canvas.reshape(h, s, w, s, 3).transpose(0, 2, 1, 3, 4), s


def _check(root, state: dict) -> tuple[int, int, float]:
    """The page draws, for the image, class and opacity it shows, each method's map as the
    state's codes say; returns (image, target, opacity)."""
    snap = _snapshot(root)
    assert len(snap["image"]) == len(snap["target"]) == 1
    k, t, opacity = snap["image"][0], snap["target"][0], snap["opacity"]
    assert snap["traits"] == {"image": k, "target": t, "opacity": opacity}
    h, w = state["height"], state["width"]
    names, predicted = state["class_names"], state["predicted"]
    picture = _image_bytes(state, k)
    image, s = _blocks(_pixels(snap["picture"]), h, w)
    assert (image == picture[:, :, None, None, :]).all()
    assert len(snap["maps"]) == len(state["methods"])
    ys, xs = np.meshgrid(np.arange(s), np.arange(s), indexing="ij")
    size = h * w
    for m, (method, canvas) in enumerate(zip(state["methods"], snap["maps"], strict=True)):
        assert canvas["method"] == method
        assert (int(canvas["image"]), int(canvas["target"])) == (k, t)
        start = (k * len(names) + t) * size
        assert canvas["codes"] == state["codes"][m][start : start + size]
        codes = _codes(state, m, k, t)
        signed = state["signed"][m]
        assert canvas["signed"] == str(signed).lower()
        assert float(canvas["scale"]) == state["scales"][m][k][t]
        colours = blend(picture, palette(signed)[np.minimum(codes, LEVELS - 1)], opacity)
        blocks, _ = _blocks(_pixels(canvas), h, w)
        nan = codes == NAN_CODE
        assert int(canvas["nan"]) == nan.sum()
        assert (blocks[~nan] == colours[~nan][:, None, None, :]).all(), method
        for r, c in zip(*np.nonzero(nan), strict=True):  # hatched: dark where (x + y) % 6 < 2
            dark = (c * s + xs + r * s + ys) % 6 < 2
            assert (blocks[r, c] == np.where(dark[..., None], HATCH_DARK, HATCH_LIGHT)).all()
        assert ("signed" if signed else "non-negative") in snap["notes"][method]
    assert snap["shownTarget"] == t
    for word in ("null", "undefined"):
        assert word not in snap["text"], word
    assert snap["title"].startswith(f'Why "{names[t]}"? The maps of image {k}')
    if predicted:
        answer = predicted[k]
        assert snap["answer"] == answer and snap["starred"] == [answer]
        assert snap["predictedDisabled"] == (t == answer)
    else:
        assert snap["answer"] is None and snap["predictedDisabled"] is None
        assert snap["starred"] == []
    if state["probabilities"]:
        assert snap["probability"] == state["probabilities"][k][t]
    else:
        assert snap["probability"] is None
    return k, t, opacity


def test_chapter_uses_the_simulation() -> None:
    if CHAPTER not in toc_docnames():
        pytest.skip(f"{CHAPTER} is not in the toc yet")
    assert CHAPTER in sources_using("ExplanationExplorerSim")


def _set_opacity(root, value: str) -> None:
    """Move the opacity slider as a drag does (the input fires "input")."""
    root.locator('input[data-control="opacity"]').fill(value)
    shown = root.locator('[data-role="opacity-value"]').get_attribute("data-value")
    assert float(shown) == float(value)


def check_sim(root, state: dict) -> None:
    """Drive one rendered ExplanationExplorerSim through its controls (used per embedded sim)."""
    _check(root, state)  # as embedded
    k_count, n = len(state["scales"][0]), len(state["class_names"])
    for k in range(k_count):
        root.locator(f'[data-control="image"][data-image="{k}"]').click()
        for t in range(n):
            root.locator(f'[data-control="target"][data-target="{t}"]').click()
            assert _check(root, state)[:2] == (k, t)
    # the keyboard: arrows, Home and End move along a row; Enter presses a button
    page = root.page
    root.locator('[data-control="image"][data-image="0"]').click()
    root.locator('[data-control="image"][data-image="0"]').focus()
    page.keyboard.press("ArrowRight")
    assert _check(root, state)[0] == min(1, k_count - 1)
    page.keyboard.press("End")
    assert _check(root, state)[0] == k_count - 1
    focused = page.evaluate("() => document.activeElement.dataset.image")
    assert focused == str(k_count - 1)  # the focus moved with the choice
    page.keyboard.press("Home")
    assert _check(root, state)[0] == 0
    root.locator(f'[data-control="target"][data-target="{n - 1}"]').focus()
    page.keyboard.press("Enter")
    assert _check(root, state)[1] == n - 1
    page.keyboard.press("ArrowLeft")
    assert _check(root, state)[1] == max(n - 2, 0)
    if state["predicted"]:
        for k in range(k_count):
            root.locator(f'[data-control="image"][data-image="{k}"]').click()
            root.locator(f'[data-control="target"][data-target="{0}"]').click()
            if state["predicted"][k] != 0:
                root.locator('[data-action="predicted"]').click()
            assert _check(root, state)[1] == state["predicted"][k]
    _check_thumbnails(root, state)
    _check_probe(root, state)
    for value in ("0.35", "0", "1"):
        _set_opacity(root, value)
        _check(root, state)
    root.locator(f'[data-control="image"][data-image="{k_count - 1}"]').click()
    _set_opacity(root, "0")  # the image alone, except where a map has no value
    _, t, _ = _check(root, state)
    picture = _image_bytes(state, k_count - 1)
    h, w = state["height"], state["width"]
    for m in range(len(state["methods"])):
        blocks, _ = _blocks(_pixels(_snapshot(root)["maps"][m]), h, w)
        valued = _codes(state, m, k_count - 1, t) != NAN_CODE
        assert (blocks[valued] == picture[valued][:, None, None, :]).all()
    _set_opacity(root, "1")


THUMBNAILS_JS = """r => JSON.stringify([...r.querySelectorAll('[data-control="image"]')]
  .map((b) => {
  const c = b.querySelector("canvas");
  return { label: b.getAttribute("aria-label"), height: c.height, width: c.width,
           bytes: Array.from(c.getContext("2d").getImageData(0, 0, c.width, c.height).data) };
}))"""


def _check_thumbnails(root, state: dict) -> None:
    """Every thumbnail is its image, each pixel a 2 x 2 block, and is labelled for a screen
    reader with the image's number (and its class and the model's answer when known)."""
    thumbs = json.loads(root.evaluate(THUMBNAILS_JS))
    h, w = state["height"], state["width"]
    for k, thumb in enumerate(thumbs):
        pixels = _pixels(thumb)
        assert pixels.shape[:2] == (2 * h, 2 * w)
        np.testing.assert_array_equal(pixels[::2, ::2], _image_bytes(state, k))
        np.testing.assert_array_equal(pixels[1::2, 1::2], _image_bytes(state, k))
        assert thumb["label"].startswith(f"image {k}")
        if state["labels"]:
            assert f'true class "{state["class_names"][state["labels"][k]]}"' in thumb["label"]
        if state["predicted"]:
            assert f'answers "{state["class_names"][state["predicted"][k]]}"' in thumb["label"]


def _check_probe(root, state: dict) -> None:
    """Pointing at a pixel of a map reads every method's (normalised) value there."""
    k, t, _ = _shown(root)
    h, w = state["height"], state["width"]
    canvas = root.locator('canvas[data-role="map"]').first
    box = canvas.bounding_box()
    for r, c in ((0, 0), (h // 2, w - 1), (h - 1, w // 3)):
        x, y = (c + 0.5) * box["width"] / w, (r + 0.5) * box["height"] / h
        canvas.hover(position={"x": x, "y": y})
        text = root.locator('[data-role="probe"]').inner_text()
        assert text.startswith(f"pixel (row {r}, column {c}): "), text
        parts = text.split(": ", 1)[1].split(" (each")[0].split(" \u00b7 ")
        assert len(parts) == len(state["methods"])
        for m, (method, part) in enumerate(zip(state["methods"], parts, strict=True)):
            value = code_values(_codes(state, m, k, t)[r, c], state["signed"][m])
            shown = part.removeprefix(method + " ")
            if np.isnan(value):
                assert shown == "no value"
            else:
                assert abs(float(shown.replace("\u2212", "-")) - value) <= 5e-4, (method, shown)


DOCNAMES = sources_using("ExplanationExplorerSim")
if DOCNAMES:  # defined only then: an empty parametrisation would still collect a skipped case

    @pytest.mark.parametrize("docname", DOCNAMES)
    def test_explanation_explorer_matches_convkit(visit, docname: str) -> None:
        check_built_sims(visit, docname, SIM_ID, SIM_KIND, check_sim)


@pytest.fixture(scope="module")
def vendor(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The book's vendored widget code, as the built site has it."""
    return widget_vendor(tmp_path_factory)


K, N, SIDE = 5, 4, 12
CLASSES = ["zero", "one", "two", "three"]


def _synthetic(rgb: bool) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Images, and maps that are known functions of (image k, class c): a bump of height
    k + 1 at row k + 1, column 2c + 1 (non-negative), a ramp r + q + 3k + c (non-negative),
    a signed tilt (r - 5.5)(c + 1) - k with the last two columns NaN for odd images."""
    rng = np.random.default_rng(7)
    images = rng.random((K, SIDE, SIDE, 3) if rgb else (K, SIDE, SIDE))
    kk, cc, rr, qq = np.meshgrid(np.arange(K), np.arange(N), np.arange(SIDE), np.arange(SIDE),
                                 indexing="ij")  # fmt: skip
    bump = (kk + 1) * np.exp(-((rr - kk - 1) ** 2 + (qq - 2 * cc - 1) ** 2) / 3.0)
    tilt = (rr - 5.5) * (cc + 1) - kk
    tilt[1::2, :, :, -2:] = np.nan
    return images, {"saliency": bump, "Grad-CAM": (rr + qq + 3 * kk + cc) * 1.0, "occlusion": tilt}


def _check_known_maps(root, maps: dict[str, np.ndarray]) -> None:
    """The maps the page shows are the synthetic functions of the pair it shows (read back
    from the codes each panel carries), independently of the widget's own decoding."""
    snap = _snapshot(root)
    k, t = snap["image"][0], snap["target"][0]
    for (method, values), canvas in zip(maps.items(), snap["maps"], strict=True):
        assert canvas["method"] == method
        codes = decode_codes(canvas["codes"]).reshape(SIDE, SIDE)
        signed = method == "occlusion"
        shown = code_values(codes, signed)
        raw = values[k, t]
        finite = ~np.isnan(raw)
        np.testing.assert_array_equal(np.isnan(shown), ~finite)
        step = 1 / 31 if signed else 1 / 62
        largest = np.nanmax(np.abs(raw))
        np.testing.assert_allclose(shown[finite], raw[finite] / largest, atol=step / 2, rtol=0)
        if method == "saliency":
            assert np.unravel_index(np.argmax(shown), shown.shape) == (k + 1, 2 * t + 1)


STANDALONE = {
    # grey images with every optional argument; the occlusion map signed with NaN columns
    "grey": {"rgb": False, "labels": [0, 1, 2, 3, 1], "predicted": [0, 1, 3, 3, 2],
             "probabilities": [[0.7, 0.1, 0.1, 0.1], [0.05, 0.9, 0.03, 0.02],
                               [0.1, 0.1, 0.3, 0.5], [0.0, 0.001, 0.0004, 0.9986],
                               [0.25, 0.25, 0.4, 0.1]], "image": 2, "opacity": 0.6},
    # RGB images, no model answers: only the maps
    "rgb": {"rgb": True, "image": 1, "target": 3},
}  # fmt: skip


@pytest.mark.parametrize("name", list(STANDALONE))
def test_standalone_page_matches_convkit(browser, vendor: Path, tmp_path: Path, name: str) -> None:
    options = dict(STANDALONE[name])
    images, maps = _synthetic(options.pop("rgb"))
    sim = ExplanationExplorerSim(images, CLASSES, maps, **options)
    page_file = standalone_page(tmp_path, vendor, sim)
    result = open_page(browser, page_file.as_uri(), allowed_prefix=tmp_path.as_uri())
    try:
        root = result.page.locator(f'[data-sim="{SIM_KIND}"]')
        assert root.count() == 1, "ExplanationExplorerSim did not render"
        state = sim.get_state()
        assert _shown(root) == (sim.image, sim.target, sim.opacity)
        _check_known_maps(root, maps)
        snap = _snapshot(root)
        for method, canvas in zip(sim.methods, snap["maps"], strict=True):
            # Python's shown_colours is the canvas, pixel by pixel
            blocks, _ = _blocks(_pixels(canvas), SIDE, SIDE)
            valued = sim.shown_codes(method) != NAN_CODE
            np.testing.assert_array_equal(blocks[:, :, 0, 0][valued],
                                          sim.shown_colours(method)[valued])  # fmt: skip
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        root.screenshot(path=str(SCREENSHOT_DIR / f"explanation_explorer_{name}.png"))
        check_sim(root, state)
        for k in range(K):
            root.locator(f'[data-control="image"][data-image="{k}"]').click()
            for t in range(N):
                root.locator(f'[data-control="target"][data-target="{t}"]').click()
                _check_known_maps(root, maps)
        assert result.problems() == [], "\n".join(result.problems())
    finally:
        result.page.close()
