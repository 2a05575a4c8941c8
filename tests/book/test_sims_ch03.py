"""Chapter 3's stride-and-padding simulation in the built book: its sliders change the
stride and the padding, and the output grid, its size and the padded border it shows
agree with convkit (conv2d, output_size, pad2d)."""

from __future__ import annotations

import numpy as np
import pytest
from book_site import HTML_DIR, embedded_views, set_slider, shown, sources_using, toc_docnames

from convkit import conv2d, output_size, pad2d

pytestmark = pytest.mark.slow

SIM_ID = "convkit.sims.stride_padding.StridePaddingSim"
SIM_KIND = "stride_padding"
CHAPTER = "book/ch03_stride_padding"


def test_chapter_uses_the_simulation() -> None:
    if CHAPTER not in toc_docnames():
        pytest.skip(f"{CHAPTER} is not in the toc yet")
    assert CHAPTER in sources_using("StridePaddingSim")


@pytest.mark.parametrize("docname", sources_using("StridePaddingSim"))
def test_stride_padding_sliders_match_convkit(visit, docname: str) -> None:
    result = visit(docname)
    states = [s for s in embedded_views(HTML_DIR / f"{docname}.html")
              if s.get("_anywidget_id") == SIM_ID]
    roots = result.page.locator(f'[data-sim="{SIM_KIND}"]')
    assert roots.count() == len(states) > 0, f"{docname}: StridePaddingSim did not render"
    for index, state in enumerate(states):
        root = roots.nth(index)
        image, kernel = np.array(state["image"]), np.array(state["kernel"])
        (h, w), (kh, kw) = image.shape, kernel.shape
        max_pad = int(root.locator('input[data-control="padding"]').get_attribute("max"))
        assert max_pad == max(kh, kw) - 1
        settings = [(state["stride"], state["padding"]), (2, 0), (1, 0), (3, 1), (2, max_pad)]
        for stride, padding in settings:
            set_slider(root, "stride", stride)
            set_slider(root, "padding", padding)
            expected = conv2d(image[None, None], kernel[None, None],
                              stride=stride, padding=padding)[0, 0]
            oh, ow = output_size(h, kh, stride, padding), output_size(w, kw, stride, padding)
            assert expected.shape == (oh, ow)
            size = root.locator('[data-role="out-size"]')
            assert (int(size.get_attribute("data-rows")), int(size.get_attribute("data-cols"))) \
                == (oh, ow), f"stride {stride}, padding {padding}: wrong output size shown"
            assert f"{oh}\u00d7{ow} output" in root.locator('[data-role="title"]').inner_text()
            assert root.locator('[data-role="output"] .ck-cell').count() == oh * ow
            # The padded input: pad2d's values, the border cells marked as padding.
            cells = root.locator('[data-role="padded-input"] .ck-cell')
            np.testing.assert_array_equal(shown(cells), pad2d(image, padding).ravel())
            pad_flags = cells.evaluate_all("els => els.map(e => e.dataset.pad === 'true')")
            border = np.ones((h + 2 * padding, w + 2 * padding), dtype=bool)
            border[padding : padding + h, padding : padding + w] = False
            assert pad_flags == border.ravel().tolist()
            # Step through every window: the output fills in with convkit's values, and
            # the window sits at (i*stride, j*stride) of the padded input.
            filled = root.locator('[data-role="output"] [data-value]')
            window = root.locator('[data-role="padded-input"] .ck-in-window')
            xpad = pad2d(image, padding)
            assert filled.count() == 1, "changing a slider should restart at the first window"
            for pos in range(oh * ow):
                if pos:
                    root.locator('[data-action="step"]').click()
                assert filled.count() == pos + 1
                i, j = divmod(pos, ow)
                patch = xpad[i * stride : i * stride + kh, j * stride : j * stride + kw]
                np.testing.assert_array_equal(shown(window), patch.ravel())
                np.testing.assert_allclose(shown(root.locator('[data-role="product"]')),
                                           (patch * kernel).ravel(), rtol=1e-12)
                np.testing.assert_allclose(
                    shown(root.locator('[data-role="sum"]')), [expected[i, j]], rtol=1e-12
                )
            np.testing.assert_allclose(shown(filled), expected.ravel(), rtol=1e-12, atol=1e-12)
            assert root.locator('[data-action="step"]').is_disabled()
            root.locator('[data-action="reset"]').click()
            assert filled.count() == 1
    assert result.problems() == [], "\n".join(result.problems())
