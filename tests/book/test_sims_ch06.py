"""Chapter 6's architecture diagram in the built book: for the embedded settings and after
the reader adds or removes blocks or changes the channels or the kernel, every shape,
parameter count and receptive field the page shows equals convkit's (the output-size and
parameter arithmetic of convkit.sims.architecture, itself checked against torch), and
hovering over or clicking a layer shows that layer's details."""

from __future__ import annotations

import pytest
from book_site import HTML_DIR, embedded_views, sources_using, toc_docnames

from convkit.nn.models import digit_cnn, layer_summary
from convkit.sims.architecture import architecture_layers, architecture_model

pytestmark = pytest.mark.slow

SIM_ID = "convkit.sims.architecture.ArchitectureSim"
SIM_KIND = "architecture"
CHAPTER = "book/ch06_training"
SETTINGS = ("image_size", "in_channels", "blocks", "kernel_size", "hidden", "classes")


def _shown_rows(root) -> list[tuple[str, tuple[int, ...], int, int]]:
    """(name, shape, params, receptive field) of every row of the page's layer table."""
    rows = root.locator('[data-role="row"]')
    data = rows.evaluate_all(
        """els => els.map(r => [r.dataset.name,
            r.querySelector('[data-role="shape"]').dataset.value,
            r.querySelector('[data-role="params"]').dataset.value,
            r.querySelector('[data-role="rf"]').dataset.value])""")
    return [(n, tuple(int(v) for v in s.split(",")), int(p), int(r)) for n, s, p, r in data]


def _expected(settings: dict) -> list[tuple[str, tuple[int, ...], int, int]]:
    rows = architecture_layers(*(settings[name] for name in SETTINGS))
    return [(r.name, r.shape, r.params, r.receptive_field) for r in rows]


def _check_page(root, settings: dict) -> None:
    expected = _expected(settings)
    assert _shown_rows(root) == expected
    # the same numbers as a real torch model of these settings
    size, channels = settings["image_size"], settings["in_channels"]
    model = architecture_model(*(settings[name] for name in SETTINGS))
    measured = [(r.name, r.output_shape[1:], r.params)
                for r in layer_summary(model, (channels, size, size)) if r.kind != "ReLU"]
    assert [row[:3] for row in expected[1:]] == measured
    total = root.locator('[data-role="total-params"]')
    assert int(total.get_attribute("data-value")) == sum(r[2] for r in expected)
    assert root.locator('[data-role="layer"]').count() == len(expected)
    title = root.locator('[data-role="title"]').inner_text()
    assert title.split(" \u2192 ")[-1] == str(settings["classes"])


def _hover_and_click_every_layer(root, settings: dict) -> None:
    expected = _expected(settings)
    boxes = root.locator('[data-role="layer"]')
    details = root.locator('[data-role="details"]')
    for index, (name, shape, params, rf) in enumerate(expected):
        box = boxes.nth(index)
        (box.hover if index % 2 else box.click)()
        assert box.get_attribute("aria-pressed") == "true"
        assert details.locator('[data-role="detail-name"]').inner_text() == name
        shown = details.locator('[data-role="detail-shape"]').get_attribute("data-value")
        assert tuple(int(v) for v in shown.split(",")) == shape
        for role, value in (("detail-params", params), ("detail-rf", rf)):
            shown_value = details.locator(f'[data-role="{role}"]').get_attribute("data-value")
            assert int(shown_value) == value
        assert f"= {params:,}" in details.inner_text() or params == 0


def test_chapter_uses_the_simulation() -> None:
    if CHAPTER not in toc_docnames():
        pytest.skip(f"{CHAPTER} is not in the toc yet")
    assert CHAPTER in sources_using("ArchitectureSim")


@pytest.mark.parametrize("docname", sources_using("ArchitectureSim"))
def test_architecture_sim_matches_convkit(visit, docname: str) -> None:
    result = visit(docname)
    states = [s for s in embedded_views(HTML_DIR / f"{docname}.html")
              if s.get("_anywidget_id") == SIM_ID]
    roots = result.page.locator(f'[data-sim="{SIM_KIND}"]')
    assert roots.count() == len(states) > 0, f"{docname}: ArchitectureSim did not render"
    for index, state in enumerate(states):
        root = roots.nth(index)
        settings = {name: state[name] for name in SETTINGS}
        settings["blocks"] = list(settings["blocks"])
        _check_page(root, settings)
        _hover_and_click_every_layer(root, settings)

        # add blocks until the maps are too small to pool again, then remove down to one
        add, remove = root.locator('[data-action="add-block"]'), root.locator(
            '[data-action="remove-block"]')
        doubling = all(b == 2 * a for a, b in zip(settings["blocks"], settings["blocks"][1:],
                                                      strict=False))
        while not add.is_disabled():
            add.click()
            last = settings["blocks"][-1]
            settings["blocks"].append(min(2 * last if doubling else last, 512))
            _check_page(root, settings)
        with pytest.raises(ValueError, match=r"too small to pool|1 to 5"):
            architecture_layers(*(settings[n] for n in SETTINGS[:2]),
                                settings["blocks"] + [8], *(settings[n] for n in SETTINGS[3:]))
        while not remove.is_disabled():
            remove.click()
            settings["blocks"].pop()
            _check_page(root, settings)
        assert len(settings["blocks"]) == 1

        # two blocks of 8 channels that stay the same, then a 5 x 5 kernel
        add.click()
        root.locator('[data-control="width"]').select_option("8")
        root.locator('[data-control="growth"]').select_option("same")
        settings["blocks"] = [8, 8]
        _check_page(root, settings)
        root.locator('[data-control="growth"]').select_option("double")
        settings["blocks"] = [8, 16]
        _check_page(root, settings)
        root.locator('[data-control="kernel"]').select_option("5")
        settings["kernel_size"] = 5
        _check_page(root, settings)
        _hover_and_click_every_layer(root, settings)
    assert result.problems() == [], "\n".join(result.problems())


def test_digit_network_settings_match_digit_cnn(visit) -> None:
    """The chapter's second diagram is convkit.nn.models.digit_cnn, layer by layer."""
    if CHAPTER not in toc_docnames():
        pytest.skip(f"{CHAPTER} is not in the toc yet")
    result = visit(CHAPTER)
    reference = [(r.name, r.output_shape[1:], r.params)
                 for r in layer_summary(digit_cnn(), (1, 28, 28)) if r.kind != "ReLU"]
    states = [s for s in embedded_views(HTML_DIR / f"{CHAPTER}.html")
              if s.get("_anywidget_id") == SIM_ID]
    digit_states = [i for i, s in enumerate(states) if s["image_size"] == 28]
    assert len(digit_states) == 1, "expected one diagram of the 28 x 28 digit network"
    position = digit_states[0]
    root = result.page.locator(f'[data-sim="{SIM_KIND}"]').nth(position)
    shown = [(n, s, p) for n, s, p, _ in _shown_rows(root)][1:]
    assert shown == reference
