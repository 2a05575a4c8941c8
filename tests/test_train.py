"""convkit.training: fit, evaluate, predict, shift_images, seed_everything (tiny, fast runs)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from convkit.data import Digits, TrainVal, load_mnist, train_val_split
from convkit.nn.models import digit_cnn
from convkit.training import RECIPES, evaluate, fit, predict, seed_everything, shift_images
from convkit.training.history import History


@pytest.fixture(scope="module")
def small() -> Digits:
    d = load_mnist()
    return Digits(d.x_train[:256], d.y_train[:256], d.x_test[:128], d.y_test[:128])


def tiny_net() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 4, 5, padding=2), nn.ReLU(), nn.MaxPool2d(4), nn.Flatten(), nn.Linear(196, 10)
    )


def run(data: Digits, seed: int = 0, **kwargs) -> tuple[nn.Module, History]:
    seed_everything(seed)
    model = tiny_net()
    # one thread: on a busy shared machine two OpenMP threads can be 20x slower
    options = {"epochs": 2, "batch_size": 32, "lr": 3e-3, "progress": False, "seed": seed}
    options["threads"] = 1
    options.update(kwargs)
    return model, fit(model, data, **options)


# --------------------------------------------------------------------------- fit


def test_fit_records_every_epoch_and_learns(small: Digits) -> None:
    _, history = run(small, epochs=3)
    assert isinstance(history, History) and history.epochs == 3
    assert len(history.train_acc) == len(history.test_acc) == len(history.seconds) == 3
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.train_loss[0] < np.log(10) + 0.2  # mean cross-entropy, not a sum
    assert all(0.0 <= a <= 1.0 for a in history.train_acc + history.test_acc)
    assert history.best_test_acc > 0.3  # well above chance after 3 epochs
    assert all(b > a for a, b in zip(history.seconds, history.seconds[1:], strict=False))


def test_fit_is_deterministic_for_a_seed(small: Digits) -> None:
    model_a, a = run(small, seed=5, augment_shift=2)
    model_b, b = run(small, seed=5, augment_shift=2)
    assert a.train_loss == b.train_loss
    assert a.test_acc == b.test_acc
    for pa, pb in zip(model_a.parameters(), model_b.parameters(), strict=True):
        assert torch.equal(pa, pb)
    _, c = run(small, seed=6, augment_shift=2)
    assert c.train_loss != a.train_loss


def test_fit_test_acc_matches_evaluate(small: Digits) -> None:
    model, history = run(small, epochs=1)
    assert history.test_acc[-1] == evaluate(model, small.x_test, small.y_test)


def test_fit_on_a_validation_split_measures_the_validation_digits(small: Digits) -> None:
    split = train_val_split(small, n_val=64, seed=0)
    assert isinstance(split, TrainVal) and len(split.x_train) == 192
    model, history = run(split, epochs=1)
    assert history.test_acc[-1] == evaluate(model, split.x_val, split.y_val)


def test_fit_restores_threads_and_mode(small: Digits) -> None:
    before = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        seed_everything(0)
        model = tiny_net().eval()
        fit(model, small, epochs=1, threads=1, progress=False)
        assert torch.get_num_threads() == 3
        assert not model.training
    finally:
        torch.set_num_threads(before)


def test_fit_time_budget_stops_after_the_crossing_epoch(small: Digits) -> None:
    _, history = run(small, epochs=50, time_budget=1e-6)
    assert history.epochs == 1


def test_fit_progress_bar_goes_to_stderr(small: Digits, capsys: pytest.CaptureFixture) -> None:
    run(small, epochs=1, progress=True)
    captured = capsys.readouterr()
    assert "training" in captured.err and "1/1" in captured.err
    assert captured.out == ""


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"epochs": 0}, ValueError, r"epochs must be positive \(>= 1\)"),
        ({"epochs": 2.0}, TypeError, "epochs must be an int"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"lr": 0.0}, ValueError, "lr must be a positive"),
        ({"lr": float("nan")}, ValueError, "lr"),
        ({"augment_shift": -1}, ValueError, "augment_shift"),
        ({"augment_shift": 28}, ValueError, "augment_shift"),
        ({"threads": 0}, ValueError, "threads"),
        ({"time_budget": -1.0}, ValueError, "time_budget"),
        ({"optimizer": "rmsprop"}, ValueError, "optimizer must be one of"),
        ({"weight_decay": -0.1}, ValueError, "weight_decay"),
        ({"momentum": 1.0}, ValueError, "momentum must be less than 1"),
        ({"momentum": -0.5}, ValueError, "momentum"),
        ({"schedule": 0.1}, TypeError, "schedule must be a function"),
        ({"augment": "flip"}, TypeError, "augment must be a function"),
    ],
)
def test_fit_rejects_bad_arguments(
    small: Digits, kwargs: dict, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        fit(tiny_net(), small, progress=False, **kwargs)


def test_fit_rejects_bad_data(small: Digits) -> None:
    net = tiny_net()
    with pytest.raises(TypeError, match="Digits"):
        fit(net, small.x_train, progress=False)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="256 images but 255 labels"):
        fit(net, small._replace(y_train=small.y_train[:-1]), progress=False)
    with pytest.raises(ValueError, match=r"4-D"):
        fit(net, small._replace(x_test=small.x_test[:, 0]), progress=False)
    with pytest.raises(TypeError, match="integer labels"):
        fit(net, small._replace(y_train=small.y_train.astype(float)), progress=False)
    with pytest.raises(TypeError, match=r"nn\.Module"):
        fit("model", small, progress=False)  # type: ignore[arg-type]


def _one_full_batch_step(small: Digits, optimizer: str, **kwargs) -> list[torch.Tensor]:
    """The weights after fit's single step on the whole training set."""
    seed_everything(0)
    model = tiny_net()
    fit(model, small, epochs=1, batch_size=len(small.x_train), lr=0.05, optimizer=optimizer,
        progress=False, threads=1, **kwargs)  # fmt: skip
    return [p.detach().clone() for p in model.parameters()]


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("sgd", lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=0.01)),
        ("adam", lambda p: torch.optim.Adam(p, lr=0.05, weight_decay=0.01)),
        ("adamw", lambda p: torch.optim.AdamW(p, lr=0.05, weight_decay=0.01)),
    ],
)
def test_fit_takes_the_named_optimizers_step(small: Digits, name: str, make) -> None:
    seed_everything(0)
    model = tiny_net()
    opt = make(list(model.parameters()))
    x, y = torch.from_numpy(small.x_train), torch.from_numpy(small.y_train)
    nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
    kwargs = {"weight_decay": 0.01, **({"momentum": 0.9} if name == "sgd" else {})}
    fitted = _one_full_batch_step(small, name, **kwargs)
    for want, got in zip(model.parameters(), fitted, strict=True):
        torch.testing.assert_close(got, want.detach(), rtol=1e-4, atol=1e-5)
    other = "adam" if name != "adam" else "sgd"
    others = _one_full_batch_step(small, other)
    assert not all(torch.allclose(a, b) for a, b in zip(fitted, others, strict=True))


def test_fit_follows_the_schedule_step_by_step(small: Digits) -> None:
    calls: list[tuple[int, int, float]] = []

    def recorded(step: int, total_steps: int, base_lr: float) -> float:
        calls.append((step, total_steps, base_lr))
        return base_lr * 0.5**step

    run(small, epochs=2, batch_size=100, lr=0.01, schedule=recorded)  # 3 steps an epoch
    used = sorted({step for step, _, _ in calls})
    assert used == list(range(6)) and {(t, b) for _, t, b in calls} == {(6, 0.01)}

    # a schedule of zeros leaves the weights where they started
    seed_everything(0)
    start = [p.detach().clone() for p in tiny_net().parameters()]
    model, _ = run(small, epochs=1, schedule=lambda step, total, lr: 0.0)
    for before, after in zip(start, model.parameters(), strict=True):
        assert torch.equal(before, after.detach())


def test_fit_augments_every_epoch_with_the_runs_generator(small: Digits) -> None:
    seen: list[tuple[tuple[int, ...], float]] = []

    def crop(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        seen.append((images.shape, float(rng.random())))
        return images[:, :, 2:-2, 2:-2]  # 24 x 24: a model with global pooling takes it

    def pooled_net() -> nn.Sequential:
        return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                             nn.Flatten(), nn.Linear(4, 10))  # fmt: skip

    for _ in range(2):
        seed_everything(3)
        fit(pooled_net(), small, epochs=2, augment=crop, seed=3, progress=False, threads=1)
    assert [shape for shape, _ in seen] == [(256, 1, 28, 28)] * 4
    assert seen[0][1] != seen[1][1] and seen[:2] == seen[2:]  # fresh draws, same seed

    def drops_one(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return images[1:]

    with pytest.raises(ValueError, match=r"augment must return .*N=256"):
        fit(pooled_net(), small, epochs=1, augment=drops_one, progress=False)
    with pytest.raises(TypeError, match="augment must return floats"):
        fit(pooled_net(), small, epochs=1, progress=False,
            augment=lambda images, rng: images.astype(np.int64))  # fmt: skip


def test_fit_reports_a_diverged_loss(small: Digits) -> None:
    bad = small._replace(x_train=np.full_like(small.x_train, np.nan))
    with pytest.raises(FloatingPointError, match="smaller lr"):
        fit(tiny_net(), bad, epochs=1, progress=False, threads=1)


def test_recipes_are_valid_fit_arguments() -> None:
    # chosen on train_val_split(load_mnist(), 1000, seed=0); chapter 6 re-checks "plain"
    assert set(RECIPES) == {"plain", "shift"}
    assert RECIPES["plain"]["augment_shift"] == 0 and RECIPES["shift"]["augment_shift"] == 2
    for recipe in RECIPES.values():
        assert set(recipe) <= {"epochs", "batch_size", "lr", "augment_shift", "seed"}


# --------------------------------------------------------------------------- evaluate / predict


def test_predict_and_evaluate() -> None:
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3, bias=False))
    with torch.no_grad():
        model[1].weight.copy_(torch.eye(3, 4))
    x = np.zeros((5, 1, 2, 2), dtype=np.float32)
    x.reshape(5, 4)[np.arange(5), [0, 1, 2, 0, 1]] = 1.0
    labels = predict(model, x, batch_size=2)
    assert labels.dtype == np.int64 and labels.tolist() == [0, 1, 2, 0, 1]
    assert evaluate(model, x, np.array([0, 1, 2, 2, 2])) == pytest.approx(0.6)
    with pytest.raises(ValueError, match="5 images but 4 labels"):
        evaluate(model, x, np.zeros(4, dtype=np.int64))
    with pytest.raises(ValueError, match="4-D"):
        predict(model, x[0])
    with pytest.raises(ValueError, match="no images"):
        evaluate(model, x[:0], np.zeros(0, dtype=np.int64))


def test_predict_restores_training_mode() -> None:
    model = tiny_net().train()
    predict(model, np.zeros((2, 1, 28, 28), dtype=np.float32))
    assert model.training


# --------------------------------------------------------------------------- shift_images


def test_shift_images_moves_each_image_by_at_most_max_shift() -> None:
    rng = np.random.default_rng(0)
    x = np.zeros((200, 1, 12, 12), dtype=np.float32)
    x[:, 0, 6, 5] = 1.0  # one bright pixel per image
    out = shift_images(x, 2, rng)
    assert out.shape == x.shape and out.dtype == x.dtype
    pos = np.array([np.argwhere(img[0] == 1.0)[0] for img in out])
    dy, dx = pos[:, 0] - 6, pos[:, 1] - 5
    assert set(dy.tolist()) == set(range(-2, 3)) and set(dx.tolist()) == set(range(-2, 3))
    assert np.all(out.sum(axis=(1, 2, 3)) == 1.0)  # nothing duplicated or lost
    assert np.all(x[:, 0, 6, 5] == 1.0)  # the input is untouched


def test_shift_images_fills_with_zeros_and_matches_roll() -> None:
    rng = np.random.default_rng(1)
    x = np.random.default_rng(2).random((50, 2, 8, 8)).astype(np.float32) + 1.0
    out = shift_images(x, 3, np.random.default_rng(1))
    dy = rng.integers(-3, 4, size=50)
    dx = rng.integers(-3, 4, size=50)
    for i in range(50):
        expected = np.zeros_like(x[i])
        src = x[i][:, max(0, -dy[i]) : 8 - max(0, dy[i]), max(0, -dx[i]) : 8 - max(0, dx[i])]
        expected[:, max(0, dy[i]) : max(0, dy[i]) + src.shape[1],
                 max(0, dx[i]) : max(0, dx[i]) + src.shape[2]] = src  # fmt: skip
        np.testing.assert_array_equal(out[i], expected)
    assert (out == 0).any() and (out[out != 0] >= 1.0).all()


def test_shift_images_zero_shift_is_a_copy() -> None:
    x = np.ones((3, 1, 5, 5), dtype=np.float32)
    out = shift_images(x, 0, np.random.default_rng(0))
    np.testing.assert_array_equal(out, x)
    out[0] = 0
    assert x.min() == 1.0


def test_shift_images_errors() -> None:
    rng = np.random.default_rng(0)
    x = np.zeros((2, 1, 5, 5), dtype=np.float32)
    with pytest.raises(ValueError, match="smaller than the image size"):
        shift_images(x, 5, rng)
    with pytest.raises(ValueError, match=">= 0"):
        shift_images(x, -1, rng)
    with pytest.raises(ValueError, match="4-D"):
        shift_images(x[0], 1, rng)
    with pytest.raises(TypeError, match="Generator"):
        shift_images(x, 1, 0)  # type: ignore[arg-type]


def test_seed_everything_fixes_model_initialisation() -> None:
    seed_everything(3)
    a = digit_cnn()
    seed_everything(3)
    b = digit_cnn()
    assert torch.equal(a.conv1.weight, b.conv1.weight)
    with pytest.raises(ValueError):
        seed_everything(-1)


# --------------------------------------------------------------------------- the real thing


@pytest.mark.slow
def test_digit_cnn_reaches_95_percent_on_the_default_split() -> None:
    data = load_mnist()
    seed_everything(0)
    model = digit_cnn()
    history = fit(model, data, **{**RECIPES["plain"], "epochs": 4}, progress=False)
    assert history.test_acc[-1] >= 0.95
    assert evaluate(model, data.x_test, data.y_test) == history.test_acc[-1]


# --------------------------------------------------------------------------- train_plots


def test_training_figures_have_titles_and_content(small: Digits) -> None:
    from matplotlib.figure import Figure

    from convkit.viz.training import (
        confusion_matrix,
        plot_confusion,
        plot_history,
        show_feature_maps,
        show_filters,
        show_misclassified,
    )

    model, history = run(small, epochs=1)
    pred = predict(model, small.x_test)
    figures = {
        "history": plot_history(history),
        "confusion": plot_confusion(small.y_test, pred),
        "mistakes": show_misclassified(small.x_test, small.y_test, pred, max_images=5),
        "filters": show_filters(model[0].weight),
        "features": show_feature_maps(model, small.x_test[0]),
    }
    for name, fig in figures.items():
        assert isinstance(fig, Figure), name
        titles = [fig._suptitle.get_text() if fig._suptitle else ""]
        titles += [ax.get_title() for ax in fig.axes]
        assert any(titles), name
    wrong = int((pred != small.y_test).sum())
    assert f"{wrong} of 128" in figures["mistakes"]._suptitle.get_text()
    assert sum(bool(ax.images) for ax in figures["mistakes"].axes) == min(5, wrong)
    assert len([ax for ax in figures["filters"].axes if ax.images]) == 4
    # rows: conv, relu, pool of the tiny net; columns: input + 4 channels
    assert sum(bool(ax.images) for ax in figures["features"].axes) == 1 + 3 * 4
    counts = confusion_matrix(small.y_test, pred)
    assert counts.sum() == 128 and np.trace(counts) == int((pred == small.y_test).sum())
    cells = {t.get_text() for t in figures["confusion"].axes[0].texts}
    assert str(counts[0, 0]) in cells


def test_training_figures_edge_cases_and_errors(small: Digits) -> None:
    from convkit.viz.training import (
        confusion_matrix,
        plot_history,
        show_feature_maps,
        show_filters,
        show_misclassified,
    )

    fig = show_misclassified(small.x_test, small.y_test, small.y_test)  # no mistakes
    assert "0 of 128" in fig._suptitle.get_text()
    assert "no mistakes" in fig.axes[0].texts[0].get_text()
    assert confusion_matrix([0, 1, 1], [1, 1, 1], n_classes=2).tolist() == [[0, 1], [0, 2]]
    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.1"):
        confusion_matrix([0, 2], [0, 1], n_classes=2)
    with pytest.raises(ValueError, match="3 true labels but 2"):
        confusion_matrix([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="no epochs"):
        plot_history(History())
    with pytest.raises(ValueError, match="C_out"):
        show_filters(np.zeros((4, 2, 5, 5)))
    rgb = np.zeros((3, 3, 5, 5))
    rgb[1, 0] = 1.0  # filter 1: red weights only -> drawn red on grey
    fig = show_filters(rgb)
    assert "RGB" in fig._suptitle.get_text() and not fig.axes[3:]  # no colour bar
    drawn = fig.axes[1].images[0].get_array()
    assert np.allclose(drawn[..., 0], 1.0) and np.allclose(drawn[..., 1:], 0.5)
    assert np.allclose(fig.axes[0].images[0].get_array(), 0.5)  # all-zero filter: grey
    with pytest.raises(TypeError, match="Sequential"):
        show_feature_maps(nn.Linear(3, 3), np.zeros((1, 28, 28)))
    with pytest.raises(ValueError, match="3 images, 2 labels"):
        show_misclassified(np.zeros((3, 1, 4, 4)), np.zeros(2, int), np.zeros(3, int))


def test_default_threads_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from convkit.training import default_threads

    monkeypatch.delenv("CONVKIT_THREADS", raising=False)
    assert default_threads() == 2
    monkeypatch.setenv("CONVKIT_THREADS", "1")
    assert default_threads() == 1
    monkeypatch.setenv("CONVKIT_THREADS", "zero")
    with pytest.raises(ValueError, match="CONVKIT_THREADS"):
        default_threads()


def test_history_epochs_to_reach_counts_from_one() -> None:
    history = History()
    for acc in (0.5, 0.91, 0.95):
        history.record(1.0, acc, acc, 1.0)
    assert history.epochs_to_reach(0.9) == 2 and history.epochs_to_reach(0.99) is None
