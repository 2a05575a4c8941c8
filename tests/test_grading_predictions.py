"""check_prediction: grading a "predict, then measure" item."""

from __future__ import annotations

import numpy as np
import pytest

from convkit.grading import GradingFailure, check_prediction


def _ns(**values: object) -> dict:
    return dict(values)


def test_both_right_passes() -> None:
    check_prediction(_ns(prediction=163.0, measured=163.84), 163.84, rel=0.1)
    check_prediction(_ns(prediction=np.int64(7), measured=7), 7)
    check_prediction(_ns(prediction=(1, 8, 5, 5), measured=[1, 8, 5, 5]), (1, 8, 5, 5))


def test_unwritten_item_says_so() -> None:
    with pytest.raises(GradingFailure, match="not done: set prediction and measured"):
        check_prediction(_ns(), 3.0)
    with pytest.raises(GradingFailure, match="set measured in"):
        check_prediction(_ns(prediction=3.0), 3.0)


@pytest.mark.parametrize("bad", [None, "3", [3.0], float("nan"), np.zeros(2)])
def test_prediction_must_be_a_number(bad: object) -> None:
    with pytest.raises(GradingFailure, match="prediction"):
        check_prediction(_ns(prediction=bad, measured=3.0), 3.0)


def test_wrong_measurement_is_named_first() -> None:
    with pytest.raises(GradingFailure, match="the measurement is wrong: measured = 4 is not "
                                             "the count"):
        check_prediction(_ns(prediction=4.0, measured=4.0), 3.0, what="the count")


def test_known_wrong_measurement_is_explained() -> None:
    with pytest.raises(GradingFailure, match=r"\(it counts the bias\)"):
        check_prediction(_ns(prediction=3.0, measured=4.0), 3.0,
                         known=[(4, "it counts the bias")])


def test_prediction_outside_tolerance_fails_with_hint() -> None:
    with pytest.raises(GradingFailure, match=r"measurement is right \(100\), but your "
                                             r"prediction 120 does not agree with it "
                                             r"within 10%: think again"):
        check_prediction(_ns(prediction=120, measured=100), 100, rel=0.1, hint="think again")
    check_prediction(_ns(prediction=109, measured=100), 100, rel=0.1)


def test_known_wrong_prediction_is_named() -> None:
    with pytest.raises(GradingFailure, match="3 times too large"):
        check_prediction(_ns(prediction=300, measured=100), 100, rel=0.1,
                         known=[(300, "3 times too large: the kernel spans 3 channels")],
                         hint="unused")


def test_exact_items_and_absolute_tolerance() -> None:
    with pytest.raises(GradingFailure, match="exactly"):
        check_prediction(_ns(prediction=7.5, measured=7), 7)
    with pytest.raises(GradingFailure, match=r"within 0\.01"):
        check_prediction(_ns(prediction=38.5, measured=38.4), 38.4, absolute=0.01)


def test_shapes_are_exact_and_typed() -> None:
    with pytest.raises(GradingFailure, match=r"prediction \(1, 8, 4, 4\) does not agree"):
        check_prediction(_ns(prediction=(1, 8, 4, 4), measured=(1, 8, 5, 5)), (1, 8, 5, 5))
    with pytest.raises(GradingFailure, match="must be a shape"):
        check_prediction(_ns(prediction=5, measured=(5,)), (5,))
    with pytest.raises(GradingFailure, match="should be an int"):
        check_prediction(_ns(prediction=(5.0,), measured=(5,)), (5,))


def test_counts_are_shown_in_full() -> None:
    with pytest.raises(GradingFailure, match=r"right \(1234567\), but your prediction "
                                             r"1234566 does not"):
        check_prediction(_ns(prediction=1_234_566, measured=1_234_567.0), 1_234_567)


def test_items_may_name_their_variables() -> None:
    ns = _ns(predicted_shape=(2, 4, 5, 5), result=(2, 4, 5, 5))
    check_prediction(ns, (2, 4, 5, 5), names=("predicted_shape", "result"))
    with pytest.raises(GradingFailure, match="set predicted_value in"):
        check_prediction(ns, 21.0, names=("predicted_value", "result"))
    with pytest.raises(GradingFailure, match=r"but your predicted_shape \(2, 4, 5, 6\) does"):
        check_prediction(dict(ns, predicted_shape=(2, 4, 5, 6)), (2, 4, 5, 5),
                         names=("predicted_shape", "result"))
    with pytest.raises(GradingFailure, match="`predicted_shape` must be a shape"):
        check_prediction(dict(ns, predicted_shape="(2, 4, 5, 5)"), (2, 4, 5, 5),
                         names=("predicted_shape", "result"))


def test_measure_reads_the_graded_value_out_of_a_whole_result() -> None:
    out = np.ones((2, 4, 5, 5)) * 21
    ns = _ns(predicted_shape=(2, 4, 5, 5), predicted_value=21, measured=out)
    check_prediction(ns, (2, 4, 5, 5), names=("predicted_shape", "measured"), measure=np.shape)
    check_prediction(ns, 21.0, names=("predicted_value", "measured"),
                     measure=lambda m: m[1, 3, 0, 0])
    with pytest.raises(GradingFailure, match=r"measurement is wrong: \(2, 4, 5\), read from "
                                             r"measured, is not the output's shape \(it"):
        check_prediction(dict(ns, measured=out[..., 0]), (2, 4, 5, 5), what="the output's shape",
                         names=("predicted_shape", "measured"), measure=np.shape,
                         known=[((2, 4, 5), "it lost an axis")])
    with pytest.raises(GradingFailure, match=r"measurement is wrong: entry \[1, 3, 0, 0\] "
                                             r"cannot be read from measured \(a float: "
                                             r"IndexError"):
        check_prediction(dict(ns, measured=21.0), 21.0, what="entry [1, 3, 0, 0]",
                         names=("predicted_value", "measured"),
                         measure=lambda m: np.asarray(m)[1, 3, 0, 0])


def test_a_shape_may_be_a_one_dimensional_int_array() -> None:
    check_prediction(_ns(prediction=(8, 5), measured=np.array([8, 5])), (8, 5))
    with pytest.raises(GradingFailure, match="must be a shape"):
        check_prediction(_ns(prediction=(8, 5), measured=np.array([[8, 5]])), (8, 5))
    with pytest.raises(GradingFailure, match="should be an int"):
        check_prediction(_ns(prediction=(8, 5), measured=np.array([8.0, 5.0])), (8, 5))
