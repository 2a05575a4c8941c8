"""Chapter 5's output-size calculator in the built book: values typed into its number
boxes give the output size convkit.output_size computes (the formula shown with those
numbers, or, with show_formula=False, the window starts counted and no formula), the
strip of cells marks what the windows read as convkit.coverage_count does, and a window
that does not fit shows an error instead of a size."""

from __future__ import annotations

import pytest
from book_site import HTML_DIR, embedded_views, sources_using, toc_docnames

from convkit import output_size
from convkit.shapes.stride_padding import coverage_count

pytestmark = pytest.mark.slow

SIM_ID = "convkit.sims.output_size.OutputSizeCalculator"
SIM_KIND = "output_size"
CHAPTER = "book/ch05_output_sizes"
NAMES = ("size", "kernel_size", "stride", "padding", "dilation")

# (W, K, S, P, D): same padding, the floor dropping cells, dilation, a large input.
FITTING = [
    (32, 5, 1, 2, 1),
    (8, 3, 2, 0, 1),
    (7, 3, 3, 0, 1),
    (10, 3, 1, 0, 2),
    (11, 3, 2, 1, 3),
    (224, 7, 2, 3, 1),
    (5, 5, 1, 0, 1),
    (44, 5, 1, 2, 1),  # the widest strip drawn: 48 cells
]
NOT_FITTING = [(4, 3, 1, 0, 2), (3, 5, 1, 0, 1), (1, 4, 2, 1, 1)]


def _type_settings(root, settings: tuple[int, ...]) -> None:
    for name, value in zip(NAMES, settings, strict=True):
        box = root.locator(f'input[data-control="{name}"]')
        box.fill(str(value))  # types into the number box, firing "input" as a reader does
        assert box.input_value() == str(value)


def test_chapter_uses_the_simulation() -> None:
    if CHAPTER not in toc_docnames():
        pytest.skip(f"{CHAPTER} is not in the toc yet")
    assert CHAPTER in sources_using("OutputSizeCalculator")


@pytest.mark.parametrize("docname", sources_using("OutputSizeCalculator"))
def test_output_size_calculator_matches_convkit(visit, docname: str) -> None:
    result = visit(docname)
    states = [s for s in embedded_views(HTML_DIR / f"{docname}.html")
              if s.get("_anywidget_id") == SIM_ID]
    roots = result.page.locator(f'[data-sim="{SIM_KIND}"]')
    assert roots.count() == len(states) > 0, f"{docname}: OutputSizeCalculator did not render"
    for index, state in enumerate(states):
        root = roots.nth(index)
        initial = tuple(state[name] for name in NAMES)
        for w, k, s, p, d in [initial, *FITTING]:
            _type_settings(root, (w, k, s, p, d))
            expected = output_size(w, k, stride=s, padding=p, dilation=d)
            shown = root.locator('[data-role="out-size"]')
            assert shown.count() == 1, f"{(w, k, s, p, d)}: no output size shown"
            assert int(shown.get_attribute("data-value")) == expected
            assert shown.inner_text().strip() == str(expected)
            assert root.locator('[data-role="error"]').count() == 0
            formula = root.locator('[data-role="formula"]').inner_text()
            span, padded = d * (k - 1) + 1, w + 2 * p
            if state.get("show_formula", True):
                assert f"{padded} \u2212 {span}" in formula and f"/ {s}" in formula
            else:  # the count of window starts, and no formula on the page
                assert "\u230A" not in formula and f"number of starts = {expected}" in formula
                starts = root.locator('[data-role="starts"]').inner_text()
                assert starts.rstrip().endswith(str((expected - 1) * s))
            assert int(root.locator('[data-role="span"]').get_attribute("data-value")) == span
            assert f"Output: {expected}" in root.locator('[data-role="result"]').inner_text()
            cells = root.locator('[data-role="padded-strip"] .ck-cell')
            # However wide the strip, the calculator stays inside its box (the strip scrolls).
            assert root.evaluate("el => el.scrollWidth <= el.clientWidth + 1"), \
                f"{(w, k, s, p, d)}: the calculator overflows the page column"
            if padded <= 48:
                assert cells.count() == padded
                if d == 1:  # coverage_count has no dilation; the d > 1 cases check size only
                    reads = [int(v) for v in cells.evaluate_all(
                        "els => els.map(e => e.dataset.reads)")][p : p + w]
                    assert reads == coverage_count(1, w, (1, k), (1, s), (0, p))[0].tolist()
            else:
                assert cells.count() == 0
        for w, k, s, p, d in NOT_FITTING:
            _type_settings(root, (w, k, s, p, d))
            with pytest.raises(ValueError, match="does not fit"):
                output_size(w, k, stride=s, padding=p, dilation=d)
            error = root.locator('[data-role="error"]')
            assert error.count() == 1, f"{(w, k, s, p, d)}: no error shown"
            assert "does not fit" in error.inner_text()
            assert f"spans {d * (k - 1) + 1}" in error.inner_text()
            assert root.locator('[data-role="out-size"]').count() == 0
        # An out-of-range entry is refused with a message and changes nothing.
        _type_settings(root, FITTING[0])
        root.locator('input[data-control="stride"]').fill("0")
        assert "stride S must be a whole number" in root.locator(
            '[data-role="input-warning"]').inner_text()
        assert int(root.locator('[data-role="out-size"]').get_attribute("data-value")) == \
            output_size(*FITTING[0][:2], FITTING[0][2], FITTING[0][3], FITTING[0][4])
    assert result.problems() == [], "\n".join(result.problems())
