"""The simulations and quick checks in the built book: they render, react to clicks,
and the numbers they show equal convkit's."""

from __future__ import annotations

import numpy as np
import pytest
from book_site import HTML_DIR, REQUIRED_SIMS, SIM_KIND, shown, sims_in, sources_using, toc_docnames

from convkit import conv1d, conv2d_params, correlate2d, linear_params
from convkit.lessons.equivariance import conv1d_matrix

pytestmark = pytest.mark.slow


def _sims(result, docname: str, class_name: str):
    """Pairs (embedded state, rendered root element) of one kind of simulation on a page."""
    states = sims_in(HTML_DIR / f"{docname}.html", class_name)
    roots = result.page.locator(f'[data-sim="{SIM_KIND[class_name]}"]')
    assert roots.count() == len(states) > 0, f"{docname}: {class_name} did not render"
    return [(state, roots.nth(i)) for i, state in enumerate(states)]


@pytest.mark.parametrize("docname", sorted(REQUIRED_SIMS))
def test_required_simulations_present(docname: str) -> None:
    """ch00 has the connectivity sim, ch01 the 1-D and 2-D sliding windows (once in the toc)."""
    if docname not in toc_docnames():
        pytest.skip(f"{docname} is not in the toc yet")
    for class_name in REQUIRED_SIMS[docname]:
        assert docname in sources_using(class_name), f"{docname} does not use {class_name}"


@pytest.mark.parametrize("docname", sources_using("Slide1DSim"))
def test_slide1d_steps_and_matches_convkit(visit, docname: str) -> None:
    result = visit(docname)
    page = result.page
    for state, root in _sims(result, docname, "Slide1DSim"):
        x, w = np.array(state["signal"]), np.array(state["kernel"])
        expected = conv1d(x[None, None, :], w[None, None, :])[0, 0]
        filled = root.locator('[data-role="output"] [data-value]')
        assert filled.count() == 1
        for pos in range(len(expected)):
            if pos:
                root.locator('[data-action="step"]').click()
            assert filled.count() == pos + 1, "Step did not advance the window"
            np.testing.assert_allclose(shown(filled), expected[: pos + 1], rtol=1e-12)
            products = shown(root.locator('[data-role="product"]'))
            np.testing.assert_allclose(products, x[pos : pos + len(w)] * w, rtol=1e-12)
            np.testing.assert_allclose(
                shown(root.locator('[data-role="sum"]')), [expected[pos]], rtol=1e-12
            )
        assert root.locator('[data-action="step"]').is_disabled()
        root.locator('[data-action="reset"]').click()
        assert filled.count() == 1
        root.locator('[data-action="step"]').press("Enter")  # keyboard works too
        assert filled.count() == 2
        root.locator('[data-action="reset"]').click()
        root.locator('[data-action="play"]').click()
        page.wait_for_function("el => el.querySelectorAll('[data-role=output] [data-value]').length"
                               f" === {len(expected)}", arg=root.element_handle(), timeout=15_000)
    assert result.problems() == [], "\n".join(result.problems())


@pytest.mark.parametrize("docname", sources_using("Slide2DSim"))
def test_slide2d_steps_and_matches_convkit(visit, docname: str) -> None:
    result = visit(docname)
    for state, root in _sims(result, docname, "Slide2DSim"):
        image, kernel = np.array(state["image"]), np.array(state["kernel"])
        expected = correlate2d(image, kernel)
        flat = expected.ravel()
        filled = root.locator('[data-role="output"] [data-value]')
        window = root.locator('[data-role="image"] .ck-in-window')
        kh, kw = kernel.shape
        for pos in range(flat.size):
            if pos:
                root.locator('[data-action="step"]').click()
            assert filled.count() == pos + 1, "Step did not advance the window"
            np.testing.assert_allclose(shown(filled), flat[: pos + 1], rtol=1e-12)
            i, j = divmod(pos, expected.shape[1])
            patch = image[i : i + kh, j : j + kw]
            np.testing.assert_allclose(shown(window), patch.ravel(), rtol=1e-12)
            np.testing.assert_allclose(
                shown(root.locator('[data-role="product"]')), (patch * kernel).ravel(), rtol=1e-12
            )
            np.testing.assert_allclose(
                shown(root.locator('[data-role="sum"]')), [flat[pos]], rtol=1e-12
            )
        root.locator('[data-action="reset"]').click()
        assert filled.count() == 1
    assert result.problems() == [], "\n".join(result.problems())


@pytest.mark.parametrize("docname", sources_using("ConnectivitySim"))
def test_connectivity_reacts_and_matches_convkit(visit, docname: str) -> None:
    result = visit(docname)
    for state, root in _sims(result, docname, "ConnectivitySim"):
        n, k = state["n_inputs"], state["kernel_size"]
        n_out = n - k + 1
        dense = conv1d_matrix(np.ones(k), n)  # (n_out, n): which inputs each output reads
        assert dense.shape == (n_out, n)
        counts = root.locator('[data-role="dense-count"]'), root.locator('[data-role="conv-count"]')
        assert shown(counts[0]) == [linear_params(n, n_out, bias=False)]
        assert shown(counts[1]) == [conv2d_params(1, 1, (1, k), bias=False)]
        touched = root.locator('[data-role="input"][data-touched="true"]')
        for mode in ("conv", "dense"):
            root.locator(f'[data-action="{mode}"]').click()
            assert root.locator(f'[data-action="{mode}"]').get_attribute("aria-pressed") == "true"
            for j in range(n_out):
                root.locator(f'[data-role="output"][data-index="{j}"]').click()
                got = sorted(int(v) for v in touched.evaluate_all(
                    "els => els.map(e => e.dataset.index)"))
                want = list(np.flatnonzero(dense[j])) if mode == "conv" else list(range(n))
                assert got == want, f"{mode}: output {j} touches {got}, expected {want}"
            weights = root.locator('[data-role="edge"]').evaluate_all(
                "els => els.map(e => e.getAttribute('stroke'))")
            assert len(set(weights)) == (k if mode == "conv" else n)
        root.locator('[data-role="output"][data-index="0"]').press("Enter")
        assert root.locator('[data-role="output"][data-index="0"]').get_attribute(
            "aria-pressed") == "true"
    assert result.problems() == [], "\n".join(result.problems())


@pytest.mark.parametrize("docname", sources_using("quick_check"))
def test_quick_checks_explain_every_answer(visit, docname: str) -> None:
    """Every option, right or wrong, shows its own explanation when picked; a wrong
    pick does not name the right letter (the reader can try again)."""
    result = visit(docname)
    for state, root in _sims(result, docname, "QuickCheck"):
        explanation = root.locator('[data-role="explanation"]')
        assert explanation.is_hidden(), "explanation visible before answering"
        wrong = [i for i in range(len(state["options"])) if i != state["answer"]]
        for i in [*wrong, state["answer"]]:
            root.locator(f'.ck-option[data-index="{i}"]').click()
            assert explanation.is_visible()
            right = i == state["answer"]
            assert explanation.get_attribute("data-correct") == str(right).lower()
            text = explanation.inner_text().strip()
            assert text.startswith("Correct." if right else "Not quite."), text
            assert "the answer is" not in text or state["explanations"][i].count("the answer is")
    assert result.page.evaluate(
        "() => [...document.querySelectorAll('.ck-qc')].some(e => /\\$|\\\\\\(/.test(e.innerText))"
    ) is False, "raw TeX left in a quick check"
    assert result.problems() == [], "\n".join(result.problems())


def _quick_checks(docname: str) -> list[dict]:
    return sims_in(HTML_DIR / f"{docname}.html", "QuickCheck")


CHAPTERS = [d for d in toc_docnames() if d.startswith("book/ch")]


@pytest.mark.parametrize("docname", CHAPTERS)
def test_chapter_quick_checks_are_complete(built_book, docname: str) -> None:
    """At least three quick checks per chapter; every option has an explanation of its
    own (a wrong answer's says why it tempts and where it goes wrong, not the right
    answer's text again)."""
    checks = _quick_checks(docname)
    assert len(checks) >= 3, f"{docname}: {len(checks)} quick checks"
    for state in checks:
        whys = state["explanations"]
        assert len(whys) == len(state["options"]) >= 2, state["question"]
        assert all(w.strip() for w in whys), state["question"]
        assert len(set(whys)) == len(whys), f"an explanation repeats: {state['question']}"


def test_right_answers_are_spread_over_positions(built_book) -> None:
    """No position holds more than 35 % of the book's right answers, so always picking
    the same letter cannot pass."""
    places = [s["answer"] for d in CHAPTERS for s in _quick_checks(d)]
    assert len(places) >= 3 * len(CHAPTERS)
    shares = {p: places.count(p) / len(places) for p in sorted(set(places))}
    assert max(shares.values()) <= 0.35, shares
