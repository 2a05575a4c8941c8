"""Chapter 7's convolution explorer in the built book: its kernel buttons, typed
weights, stride and padding sliders, Step, Play and Reset, with every number it shows
(padded input, window, products, sum, output map, output size) compared with convkit
(conv2d with padding, correlate2d, pad2d, output_size)."""

from __future__ import annotations

import numpy as np
import pytest
from book_site import HTML_DIR, embedded_views, set_slider, shown, sources_using, toc_docnames

from convkit import conv2d, correlate2d, output_size, pad2d

pytestmark = pytest.mark.slow

SIM_ID = "convkit.sims.explorer.ConvExplorerSim"
SIM_KIND = "explorer"
CHAPTER = "book/ch07_from_scratch"


def _expected(image: np.ndarray, kernel: np.ndarray, stride: int, padding: int) -> np.ndarray:
    """The output map from convkit, two ways: conv2d, and correlate2d of the padded image
    subsampled by the stride."""
    out = conv2d(image[None, None], kernel[None, None], stride=stride, padding=padding)[0, 0]
    dense = correlate2d(pad2d(image, padding), kernel)[::stride, ::stride]
    np.testing.assert_allclose(out, dense, rtol=1e-12, atol=1e-12)
    return out


def _check_every_window(root, image: np.ndarray, kernel: np.ndarray, stride: int,
                        padding: int, *, every_step: bool = True) -> None:
    """Step from the first window to the last, checking the window, its products and
    their sum (at every step, or only at the first and the last), the output filling
    in, the size formula and the padded border."""
    (h, w), (kh, kw) = image.shape, kernel.shape
    expected = _expected(image, kernel, stride, padding)
    oh, ow = output_size(h, kh, stride, padding), output_size(w, kw, stride, padding)
    assert expected.shape == (oh, ow)
    size = root.locator('[data-role="out-size"]')
    assert (int(size.get_attribute("data-rows")), int(size.get_attribute("data-cols"))) \
        == (oh, ow), f"stride {stride}, padding {padding}: wrong output size shown"
    assert f"{oh}\u00d7{ow} output" in root.locator('[data-role="title"]').inner_text()
    assert root.locator('[data-role="output"] .ck-cell').count() == oh * ow
    cells = root.locator('[data-role="padded-input"] .ck-cell')
    xpad = pad2d(image, padding)
    np.testing.assert_array_equal(shown(cells), xpad.ravel())
    pad_flags = cells.evaluate_all("els => els.map(e => e.dataset.pad === 'true')")
    border = np.ones(xpad.shape, dtype=bool)
    border[padding : padding + h, padding : padding + w] = False
    assert pad_flags == border.ravel().tolist()
    kernel_shown = root.locator('[data-role="kernel"] input')
    np.testing.assert_array_equal(shown(kernel_shown), kernel.ravel())

    filled = root.locator('[data-role="output"] [data-value]')
    window = root.locator('[data-role="padded-input"] .ck-in-window')
    root.locator('[data-action="reset"]').click()
    assert filled.count() == 1
    for pos in range(oh * ow):
        if pos:
            root.locator('[data-action="step"]').click()
        if not (every_step or pos in (0, oh * ow - 1)):
            continue
        assert filled.count() == pos + 1
        i, j = divmod(pos, ow)
        patch = xpad[i * stride : i * stride + kh, j * stride : j * stride + kw]
        np.testing.assert_array_equal(shown(window), patch.ravel())
        np.testing.assert_allclose(shown(root.locator('[data-role="product"]')),
                                   (patch * kernel).ravel(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(shown(root.locator('[data-role="sum"]')), [expected[i, j]],
                                   rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(shown(filled), expected.ravel(), rtol=1e-12, atol=1e-12)
    assert root.locator('[data-action="step"]').is_disabled()


def test_chapter_uses_the_simulation() -> None:
    if CHAPTER not in toc_docnames():
        pytest.skip(f"{CHAPTER} is not in the toc yet")
    assert CHAPTER in sources_using("ConvExplorerSim")


@pytest.mark.parametrize("docname", sources_using("ConvExplorerSim"))
def test_explorer_controls_match_convkit(visit, docname: str) -> None:
    result = visit(docname)
    states = [s for s in embedded_views(HTML_DIR / f"{docname}.html")
              if s.get("_anywidget_id") == SIM_ID]
    roots = result.page.locator(f'[data-sim="{SIM_KIND}"]')
    assert roots.count() == len(states) > 0, f"{docname}: ConvExplorerSim did not render"
    for index, state in enumerate(states):
        root = roots.nth(index)
        image = np.array(state["image"], dtype=float)
        kernels = {name: np.array(k, dtype=float) for name, k in state["kernels"].items()}
        # as embedded: the selected kernel, stride and padding
        _check_every_window(root, image, np.array(state["kernel"], dtype=float),
                            state["stride"], state["padding"])
        # every kernel button, with a few stride / padding settings
        settings = [(1, 0), (2, 1), (1, 2), (3, 0), (2, 2)]
        for number, ((name, kernel), (stride, padding)) in enumerate(zip(
            kernels.items(), settings * len(kernels), strict=False
        )):
            root.locator(f'[data-action="preset"][data-name="{name}"]').click()
            assert root.locator(f'[data-name="{name}"]').get_attribute("aria-pressed") == "true"
            max_pad = max(kernel.shape) - 1
            padding = min(padding, max_pad)
            assert int(root.locator('input[data-control="padding"]').get_attribute("max")) \
                == max_pad
            set_slider(root, "stride", stride)
            set_slider(root, "padding", padding)
            _check_every_window(root, image, kernel, stride, padding, every_step=number < 2)
    assert result.problems() == [], "\n".join(result.problems())


@pytest.mark.parametrize("docname", sources_using("ConvExplorerSim"))
def test_typed_weights_and_play(visit, docname: str) -> None:
    result = visit(docname)
    root = result.page.locator(f'[data-sim="{SIM_KIND}"]').first
    state = next(s for s in embedded_views(HTML_DIR / f"{docname}.html")
                 if s.get("_anywidget_id") == SIM_ID)
    image = np.array(state["image"], dtype=float)
    first = next(iter(state["kernels"]))
    root.locator(f'[data-action="preset"][data-name="{first}"]').click()
    kernel = np.array(state["kernels"][first], dtype=float)
    set_slider(root, "stride", 1)
    set_slider(root, "padding", 1)
    # type two weights: the output is recomputed with the edited kernel
    for (m, n), value in (((0, 0), -2.5), ((kernel.shape[0] - 1, 1), 4)):
        cell = root.locator(f'[data-role="kernel"] input[data-row="{m}"][data-col="{n}"]')
        cell.fill(str(value))
        kernel[m, n] = value
    assert all(b == "false" for b in root.locator('[data-action="preset"]').evaluate_all(
        "els => els.map(e => e.getAttribute('aria-pressed'))")), "a typed kernel has no name"
    _check_every_window(root, image, kernel, 1, 1)
    # Play runs from the first window to the last by itself (stride 3: a few windows)
    set_slider(root, "stride", 3)
    expected = _expected(image, kernel, 3, 1)
    filled = root.locator('[data-role="output"] [data-value]')
    assert filled.count() == 1
    root.locator('[data-action="play"]').click()
    root.locator('[data-action="step"]:disabled').wait_for(timeout=30_000)
    assert filled.count() == expected.size
    np.testing.assert_allclose(shown(filled), expected.ravel(), rtol=1e-12, atol=1e-12)
    assert root.locator('[data-action="play"]').get_attribute("aria-pressed") == "false"
    assert result.problems() == [], "\n".join(result.problems())
