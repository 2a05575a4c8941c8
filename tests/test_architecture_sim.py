"""ArchitectureSim (ch06): the Python layer table against torch and autograd, the page's
own arithmetic (architecture.js, run in Node) against the Python table, and the checks."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from convkit.lessons.receptive_fields import measured_receptive_field
from convkit.nn.models import digit_cnn, layer_summary
from convkit.sims import ArchitectureSim
from convkit.sims._base import esm_source
from convkit.sims.architecture import LIMITS, architecture_layers, architecture_model

# (image_size, in_channels, blocks, kernel_size, hidden, classes)
CONFIGS = [
    (32, 3, [32, 64], 3, 0, 10),
    (28, 1, [16, 32], 5, 64, 10),
    (28, 1, [8], 7, 0, 2),
    (9, 2, [4, 4, 4], 1, 16, 3),
    (64, 4, [8, 16, 32, 64, 128], 3, 1024, 1000),
    (5, 1, [3, 5], 5, 0, 7),
    (4, 3, [512], 3, 7, 4),
]


def _torch_rows(config) -> list[tuple[str, tuple[int, ...], int]]:
    """(name, output shape without the batch axis, params) of the torch model, ReLUs left out."""
    size, channels = config[0], config[1]
    rows = layer_summary(architecture_model(*config), (channels, size, size))
    return [(r.name, r.output_shape[1:], r.params) for r in rows if r.kind != "ReLU"]


def test_default_is_the_course_map_trace() -> None:
    rows = architecture_layers()
    assert [r.shape for r in rows] == [(3, 32, 32), (32, 32, 32), (32, 16, 16), (64, 16, 16),
                                       (64, 8, 8), (4096,), (10,)]
    assert [r.params for r in rows] == [0, 896, 0, 18_496, 0, 0, 40_970]
    assert [r.kind for r in rows] == ["input", "conv", "pool", "conv", "pool", "flatten", "output"]
    sim = ArchitectureSim()
    settings = (sim.image_size, sim.in_channels, list(sim.blocks), sim.kernel_size)
    assert settings == (32, 3, [32, 64], 3)
    assert sim.layers() == rows


@pytest.mark.parametrize("config", CONFIGS)
def test_layers_match_the_torch_model(config) -> None:
    rows = architecture_layers(*config)
    assert [(r.name, r.shape, r.params) for r in rows[1:]] == _torch_rows(config)


def test_digit_cnn_settings_match_convkit_models() -> None:
    rows = architecture_layers(28, 1, [16, 32], 5, 64, 10)
    reference = [(r.name, r.output_shape[1:], r.params)
                 for r in layer_summary(digit_cnn(), (1, 28, 28)) if r.kind != "ReLU"]
    assert [(r.name, r.shape, r.params) for r in rows[1:]] == reference


@pytest.mark.parametrize("config", [CONFIGS[0], CONFIGS[1], (32, 1, [4, 4, 4], 3, 0, 10)])
def test_receptive_fields_match_autograd(config) -> None:
    """Each conv / pool row's field equals the measured footprint of the same stack."""
    k = config[3]
    windows: list[tuple[int, int]] = []
    for row in architecture_layers(*config):
        if row.kind == "conv":
            windows.append((k, 1))
        elif row.kind == "pool":
            windows.append((2, 2))
        else:
            continue
        assert row.receptive_field == measured_receptive_field(windows, 96)


def test_dense_rows_see_the_whole_image() -> None:
    rows = architecture_layers(28, 1, [16, 32], 5, 64, 10)
    assert [r.receptive_field for r in rows if r.kind in ("dense", "output")] == [28, 28]
    assert rows[-2].kind == "dense" and rows[-1].kind == "output"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"kernel_size": 4}, ValueError, "^ArchitectureSim: kernel_size must be odd"),
        ({"blocks": []}, ValueError, "1 to 5"),
        ({"blocks": [8] * 6, "image_size": 64}, ValueError, "1 to 5"),
        ({"image_size": 8, "blocks": [4, 4, 4, 4]}, ValueError, "too small to pool"),
        ({"blocks": [0]}, ValueError, r"^ArchitectureSim: block_channels must be positive \(>= 1"),
        ({"blocks": [513]}, ValueError, "block_channels must be at most 512"),
        ({"blocks": "32"}, TypeError, "list of channel counts"),
        ({"blocks": [2.0]}, TypeError, r"block_channels must be an int, got 2\.0 \(float\)"),
        ({"image_size": 3}, ValueError, "image_size must be >= 4, got 3"),
        ({"in_channels": 5}, ValueError, "in_channels must be at most 4"),
        ({"hidden": -1}, ValueError, r"hidden must be non-negative \(>= 0\)"),
        ({"classes": 1}, ValueError, "classes must be >= 2"),
        ({"selected": 7}, ValueError, "below 7"),
        ({"selected": True}, TypeError, "^ArchitectureSim: selected must be an int"),
    ],
)
def test_bad_settings_are_refused_clearly(kwargs, error, message) -> None:
    with pytest.raises(error, match=message):
        ArchitectureSim(**kwargs)


def test_largest_allowed_stack_fits() -> None:
    rows = architecture_layers(32, 1, [1, 1, 1, 1, 1], 3, 0, 10)
    assert rows[-3].shape == (1, 1, 1)  # 32 -> 16 -> 8 -> 4 -> 2 -> 1
    assert ArchitectureSim(image_size=8, blocks=[4, 4, 4]).layers()[-3].shape == (4, 1, 1)


def test_js_limits_match_python() -> None:
    source = esm_source("architecture")
    limits_text = source.split("const LIMITS = ", 1)[1].split(";")[0]
    found = {k: (int(a), int(b)) for k, a, b in re.findall(r"(\w+): \[(\d+), (\d+)\]", limits_text)}
    assert found == LIMITS


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_page_arithmetic_matches_python() -> None:
    """computeLayers() of architecture.js (run in Node) gives Python's table, row by row."""
    source = esm_source("architecture").replace("export default { render };", "")
    names = ["image_size", "in_channels", "blocks", "kernel_size", "hidden", "classes"]
    configs = [dict(zip(names, c, strict=True)) for c in CONFIGS]
    script = source + f"\nconsole.log(JSON.stringify({json.dumps(configs)}.map(computeLayers)));"
    out = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    for config, page_rows in zip(CONFIGS, json.loads(out), strict=True):
        expected = [(r.name, list(r.shape), r.params, r.receptive_field)
                    for r in architecture_layers(*config)]
        assert [(r["name"], r["shape"], r["params"], r["rf"]) for r in page_rows] == expected
