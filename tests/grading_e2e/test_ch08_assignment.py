"""Chapter 8's assignment (LeNet-5, a VGG block, ResNet's basic block built from torch.nn
layers, and a predict-then-measure parameter count of a ResNet stage) graded for real.

A temporary copy of the course is generated and autograded with nbgrader for a few
students of ch08 only: the reference answers (full marks), the untouched release
(zero), the scenario's wrong answer (the two functions return garbage: no credit for
them; the class is untouched), networks that are convkit's own (returned, or
subclassed: no credit at all, the stage measured with convkit's block included), a
basic block without projection shortcuts (only the identity-shortcut tests pass; the
stage it measures has the wrong count), a LeNet-5 with the right layers under the
wrong names (parameters and shapes pass, the outputs with convkit's weights cannot be
checked) and a prediction that forgets the batch norms (the measurement is right, the
prediction earns nothing).
"""

from __future__ import annotations

import pytest
from chapter_grading import auto_scores, grade_chapter
from test_autograde_outcomes import GradedCourse

pytestmark = pytest.mark.slow

ASSIGNMENT = "ch08"
STUDENTS = ("s01-solution", "s02-untouched", "s03-wrong")
CONVKIT_NETS = "s40-returns-convkit-networks"
NO_PROJECTION = "s41-block-without-projection"
UNNAMED_LENET = "s42-lenet-unnamed-layers"
WRONG_PREDICTION = "s43-prediction-without-batch-norms"
PREDICT = "ch08-predict-hidden"
TOTAL = 11

CONVKIT_LENET = """
import convkit.nn.models as _ck


def lenet5(form="modern", num_classes=10):
    return _ck.lenet5(form, num_classes)
"""
CONVKIT_VGG = """
from convkit.nn.models import vgg_block as _vgg_block


def vgg_block(num_convs, in_channels, out_channels):
    return _vgg_block(num_convs, in_channels, out_channels)
"""
CONVKIT_BLOCK = """
import convkit.nn.models


class BasicBlock(convkit.nn.models.BasicBlock):
    pass
"""
NO_PROJECTION_BLOCK = """
class BasicBlock(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.residual = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            nn.Conv2d(out_channels, out_channels, 3, stride=1, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
        )
        self.shortcut = nn.Identity()  # forgot the projection
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.residual(x) + self.shortcut(x))
"""
# The stage's count without the batch norms' scales and shifts (960 too few).
PREDICTION_WITHOUT_BN = """
prediction = 9 * 48 * 96 + 9 * 96 * 96 + 48 * 96 + 2 * (9 * 96 * 96)
"""
UNNAMED_LENET_SOLUTION = """
def lenet5(form="modern", num_classes=10):
    if form != "modern":
        raise ValueError(form)
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, num_classes),
    )
"""


@pytest.fixture(scope="module")
def graded_ch08(tmp_path_factory: pytest.TempPathFactory) -> GradedCourse:
    variants = {
        CONVKIT_NETS: {"ch08-lenet-solution": CONVKIT_LENET, "ch08-vgg-solution": CONVKIT_VGG,
                       "ch08-block-solution": CONVKIT_BLOCK},
        NO_PROJECTION: {"ch08-block-solution": NO_PROJECTION_BLOCK},
        UNNAMED_LENET: {"ch08-lenet-solution": UNNAMED_LENET_SOLUTION},
        WRONG_PREDICTION: {"ch08-predict-prediction": PREDICTION_WITHOUT_BN},
    }
    return grade_chapter(tmp_path_factory.mktemp("course_ch08"), ASSIGNMENT, STUDENTS, variants)


def _auto(graded: GradedCourse, student: str) -> dict[str, tuple[float, float]]:
    return auto_scores(graded, ASSIGNMENT, student)


def _total(auto: dict[str, tuple[float, float]]) -> float:
    return sum(score for score, _ in auto.values())


def test_reference_solution_gets_full_marks(graded_ch08: GradedCourse) -> None:
    auto = _auto(graded_ch08, "s01-solution")
    assert sum(top for _, top in auto.values()) == TOTAL
    assert all(score == top for score, top in auto.values()), auto


def test_release_gets_zero(graded_ch08: GradedCourse) -> None:
    assert _total(_auto(graded_ch08, "s02-untouched")) == 0


def test_wrong_functions_get_no_credit(graded_ch08: GradedCourse) -> None:
    auto = _auto(graded_ch08, "s03-wrong")
    for cell, (score, _) in auto.items():
        if cell.startswith(("ch08-lenet", "ch08-vgg")):
            assert score == 0, (cell, auto)
    assert _total(auto) < TOTAL


def test_convkit_networks_get_no_credit(graded_ch08: GradedCourse) -> None:
    auto = _auto(graded_ch08, CONVKIT_NETS)
    assert _total(auto) == 0, auto


def test_missing_projection_gets_partial_credit(graded_ch08: GradedCourse) -> None:
    auto = _auto(graded_ch08, NO_PROJECTION)
    assert auto["ch08-block-hidden-identity"][0] == auto["ch08-block-hidden-identity"][1]
    for cell in ("ch08-block-visible", "ch08-block-hidden-structure",
                 "ch08-block-hidden-projection", PREDICT):
        assert auto[cell][0] == 0, (cell, auto)  # the stage it measures is miscounted
    others = [c for c in auto if not c.startswith("ch08-block") and c != PREDICT]
    assert others and all(auto[c][0] == auto[c][1] for c in others), auto
    assert 0 < _total(auto) < TOTAL


def test_unnamed_layers_get_structure_credit_only(graded_ch08: GradedCourse) -> None:
    auto = _auto(graded_ch08, UNNAMED_LENET)
    assert auto["ch08-lenet-hidden-structure"][0] == auto["ch08-lenet-hidden-structure"][1]
    assert auto["ch08-lenet-hidden-outputs"][0] == 0 and auto["ch08-lenet-visible"][0] == 0
    others = [c for c in auto if not c.startswith("ch08-lenet")]
    assert others and all(auto[c][0] == auto[c][1] for c in others), auto


def test_wrong_prediction_gets_no_predict_credit(graded_ch08: GradedCourse) -> None:
    auto = _auto(graded_ch08, WRONG_PREDICTION)
    assert auto[PREDICT] == (0, 1), auto
    others = [c for c in auto if c != PREDICT]
    assert others and all(auto[c][0] == auto[c][1] for c in others), auto
    assert _total(auto) == TOTAL - 1
