"""Chapter 12's transposed-convolution stepper in the browser, with no kernel: at every step
and for every setting reached through the controls (Next, Back, All, Reset, a click or a key
on an input value, the stride, padding and output padding sliders), the full grid the page
draws is TransposeStepperSim.partial_output of the setting it shows, the cells padding cuts
are hatched, the output left is convkit's conv_transpose2d after the last step, and the
widget's traits hold what the controls show.  Checked on the built chapter once it exists,
and now on a standalone page that embeds the widget's state the way the book does (the
book's vendored widget manager, no kernel)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from book_site import (
    SCREENSHOT_DIR,
    check_built_sims,
    open_page,
    set_slider,
    shown,
    sources_using,
    standalone_page,
    toc_docnames,
    widget_vendor,
)

from convkit import conv_transpose2d
from convkit.sims import TransposeStepperSim
from convkit.sims.transpose_stepper import MAX_STRIDE, max_padding

pytestmark = pytest.mark.slow

SIM_ID = "convkit.sims.transpose_stepper.TransposeStepperSim"
SIM_KIND = "transpose_stepper"
CHAPTER = "book/ch12_variants"


def _int(root, role: str, attribute: str = "data-value") -> int:
    return int(root.locator(f'[data-role="{role}"]').first.get_attribute(attribute))


def _setting(root) -> tuple[int, int, int, int]:
    """(stride, padding, output_padding, step) as the page's controls show them."""
    sliders = [int(root.locator(f'[data-role="{name}-value"]').inner_text())
               for name in ("stride", "padding", "output_padding")]  # fmt: skip
    return (*sliders, _int(root, "step"))


def _traits(root) -> dict:
    """The widget's traits as the page's model holds them."""
    return json.loads(root.get_attribute("data-traits"))


def _flags(cells, name: str) -> list[bool]:
    return cells.evaluate_all(f"els => els.map(e => e.dataset.{name} === 'true')")


def _check(root, state: dict) -> TransposeStepperSim:
    """The page shows partial_output of its own setting, its crop, its copy and its sizes;
    returns the simulation of that setting."""
    stride, padding, output_padding, step = _setting(root)
    assert _traits(root) == {"stride": stride, "padding": padding,
                             "output_padding": output_padding, "step": step}  # fmt: skip
    # the constructor checks the setting is one the page may show
    sim = TransposeStepperSim(state["image"], state["kernel"], stride, padding, output_padding,
                              step)  # fmt: skip
    image, kernel = np.array(state["image"]), np.array(state["kernel"])
    (h, w), (kh, kw) = image.shape, kernel.shape
    (fh, fw), (oh, ow), n = sim.full_shape(), sim.output_shape(), sim.step_count()
    full = sim.partial_output()

    grid = root.locator('[data-role="full"]')
    assert (int(grid.get_attribute("data-rows")), int(grid.get_attribute("data-cols"))) == (fh, fw)
    cells = grid.locator(".ck-cell")
    np.testing.assert_array_equal(shown(cells), full.ravel())  # same sums, same order
    cut = np.ones((fh, fw), dtype=bool)
    cut[padding : fh - padding, padding : fw - padding] = False
    assert _flags(cells, "cut") == cut.ravel().tolist()
    hatched = cells.evaluate_all("els => els.map(e => e.classList.contains('ck-pad'))")
    assert hatched == cut.ravel().tolist()
    reached = np.zeros((fh, fw), dtype=bool)
    touched = np.zeros((fh, fw), dtype=bool)
    for t in range(1, step + 1):
        i, j = sim.source(t)
        reached[i * stride : i * stride + kh, j * stride : j * stride + kw] = True
    if step:
        i, j = sim.source()
        touched[i * stride : i * stride + kh, j * stride : j * stride + kw] = True
    assert _flags(cells, "reached") == reached.ravel().tolist()
    assert _flags(cells, "touched") == touched.ravel().tolist()
    texts = cells.evaluate_all("els => els.map(e => e.firstChild ? e.firstChild.textContent : '')")
    assert [t != "" for t in texts] == reached.ravel().tolist()  # no copy yet: blank
    extra = np.zeros((fh, fw), dtype=bool)
    if output_padding:  # the rows and columns output_padding adds
        extra[fh - output_padding :, :] = True
        extra[:, fw - output_padding :] = True
    assert _flags(cells, "extra") == extra.ravel().tolist()

    out = root.locator('[data-role="output"]')
    assert (int(out.get_attribute("data-rows")), int(out.get_attribute("data-cols"))) == (oh, ow)
    np.testing.assert_array_equal(
        shown(out.locator(".ck-cell")), full[padding : fh - padding, padding : fw - padding].ravel()
    )
    assert out.locator(".ck-pad").count() == 0

    window = root.locator('[data-role="input"] .ck-in-window')
    copy = root.locator('[data-role="copy"] [data-value]')
    if step:
        i, j = sim.source()
        assert window.count() == 1 and int(window.get_attribute("data-index")) == step - 1
        assert float(window.get_attribute("data-value")) == image[i, j]
        np.testing.assert_array_equal(shown(copy), (image[i, j] * kernel).ravel())
        np.testing.assert_array_equal(shown(grid.locator('[data-role="added"]')),
                                      (image[i, j] * kernel).ravel())  # fmt: skip
        corner = root.locator('[data-role="corner"]')
        assert (int(corner.get_attribute("data-row")), int(corner.get_attribute("data-col"))) \
            == (i * stride, j * stride)
        assert float(root.locator('[data-role="value"]').get_attribute("data-value")) == image[i, j]
    else:
        assert window.count() == 0 and copy.count() == 0
        assert not full.any()
    states = root.locator('[data-role="input"] .ck-cell').evaluate_all(
        "els => els.map(e => e.dataset.state)")
    assert states == ["done"] * max(step - 1, 0) + ["current"] * (step > 0) \
        + ["waiting"] * (n - step)

    assert (_int(root, "out-size", "data-rows"), _int(root, "out-size", "data-cols")) == (oh, ow)
    assert (_int(root, "full-size", "data-rows"), _int(root, "full-size", "data-cols")) == (fh, fw)
    title = root.locator('[data-role="title"]').inner_text()
    assert title == (f"{h}\u00d7{w} input, {kh}\u00d7{kw} kernel, stride {stride}, padding "
                     f"{padding}, output padding {output_padding} \u2192 {oh}\u00d7{ow} output")
    limit = max_padding(image.shape, kernel.shape, stride, output_padding)
    slider = root.locator('input[data-control="padding"]')
    assert int(slider.get_attribute("max")) == limit
    assert int(root.locator('input[data-control="output_padding"]').get_attribute("max")) \
        == stride - 1
    assert int(root.locator('input[data-control="stride"]').get_attribute("max")) == MAX_STRIDE
    for action, disabled in (("back", step == 0), ("reset", False), ("next", step == n),
                             ("all", step == n)):  # fmt: skip
        assert root.locator(f'[data-action="{action}"]').is_disabled() == disabled, action
    status = root.locator('[data-role="status"]').inner_text()
    if step == n:
        expected = conv_transpose2d(image[None, None], kernel[None, None], stride=stride,
                                    padding=padding, output_padding=output_padding)[0, 0]
        np.testing.assert_allclose(shown(out.locator(".ck-cell")), expected.ravel(), rtol=1e-12,
                                   atol=1e-12)  # fmt: skip
        assert (f"conv_transpose2d(x, K, stride={stride}, padding={padding}, "
                f"output_padding={output_padding})") in status
    return sim


def _walk(root, state: dict) -> None:
    """Reset, then Next to the last step, checking every step."""
    root.locator('[data-action="reset"]').click()
    sim = _check(root, state)
    for _ in range(sim.step_count()):
        root.locator('[data-action="next"]').click()
        _check(root, state)


def _hatched(root) -> bool:
    """A cell that padding cuts is drawn with the hatching pattern."""
    cut = root.locator('[data-role="full"] [data-cut="true"]').first
    return "repeating-linear-gradient" in cut.evaluate("e => getComputedStyle(e).backgroundImage")


def test_chapter_uses_the_simulation() -> None:
    if CHAPTER not in toc_docnames():
        pytest.skip(f"{CHAPTER} is not in the toc yet")
    assert CHAPTER in sources_using("TransposeStepperSim")


def check_sim(root, state: dict) -> None:
    """Drive one rendered TransposeStepperSim through its controls (used per embedded sim)."""
    _check(root, state)  # as embedded
    n = len(state["image"]) * len(state["image"][0])
    _walk(root, state)
    root.locator('[data-action="back"]').click()
    assert _check(root, state).step == n - 1
    root.locator('[data-role="input"] [data-index="0"]').click()
    assert _check(root, state).step == 1
    root.locator(f'[data-role="input"] [data-index="{n - 1}"]').focus()
    root.page.keyboard.press("Enter")
    assert _check(root, state).step == n
    root.locator('[data-action="reset"]').click()
    root.locator('[data-action="all"]').click()
    assert _check(root, state).step == n

    image_shape = np.shape(state["image"])
    kernel_shape = np.shape(state["kernel"])
    for stride in range(1, MAX_STRIDE + 1):
        set_slider(root, "stride", stride)
        for output_padding in range(stride):
            if stride > 1:
                set_slider(root, "output_padding", output_padding)
            limit = max_padding(image_shape, kernel_shape, stride, output_padding)
            for padding in range(limit + 1):
                if limit:
                    set_slider(root, "padding", padding)
                assert _setting(root) == (stride, padding, output_padding, n)
                _check(root, state)  # the last step: conv_transpose2d's output
    assert _hatched(root)
    # the largest setting, stepped through; then a smaller stride clamps the others
    _walk(root, state)
    stride, padding, output_padding, _ = _setting(root)
    assert (stride, output_padding) == (MAX_STRIDE, MAX_STRIDE - 1)
    root.locator('[data-action="back"]').click()
    set_slider(root, "stride", 1)
    limit = max_padding(image_shape, kernel_shape, 1, 0)
    assert _setting(root) == (1, min(padding, limit), 0, n - 1)
    _check(root, state)
    assert _traits(root)["output_padding"] == 0


DOCNAMES = sources_using("TransposeStepperSim")
if DOCNAMES:  # defined only then: an empty parametrisation would still collect a skipped case

    @pytest.mark.parametrize("docname", DOCNAMES)
    def test_transpose_stepper_matches_convkit(visit, docname: str) -> None:
        check_built_sims(visit, docname, SIM_ID, SIM_KIND, check_sim)


@pytest.fixture(scope="module")
def vendor(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The book's vendored widget code, as the built site has it."""
    return widget_vendor(tmp_path_factory)


STANDALONE = {
    "defaults": {},
    # a 2x3 input with a fraction and negatives, stride 2, padding 1, output padding 1, at step 2
    "custom": {"image": [[1, -2, 3], [0.5, 4, -1]], "kernel": [[1, 2, 0], [0, -1, 1], [1, 0, 2]],
               "stride": 2, "padding": 1, "output_padding": 1, "step": 2},
}  # fmt: skip


@pytest.mark.parametrize("name", list(STANDALONE))
def test_standalone_page_matches_convkit(browser, vendor: Path, tmp_path: Path, name: str) -> None:
    sim = TransposeStepperSim(**STANDALONE[name])
    page_file = standalone_page(tmp_path, vendor, sim)
    result = open_page(browser, page_file.as_uri(), allowed_prefix=tmp_path.as_uri())
    try:
        root = result.page.locator(f'[data-sim="{SIM_KIND}"]')
        assert root.count() == 1, "TransposeStepperSim did not render"
        state = sim.get_state()
        assert _setting(root) == (sim.stride, sim.padding, sim.output_padding, sim.step)
        np.testing.assert_array_equal(
            shown(root.locator('[data-role="full"] .ck-cell')), sim.partial_output().ravel()
        )
        if sim.padding:
            assert _hatched(root)
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        root.screenshot(path=str(SCREENSHOT_DIR / f"transpose_stepper_{name}.png"))
        check_sim(root, state)
        assert result.problems() == [], "\n".join(result.problems())
    finally:
        result.page.close()
