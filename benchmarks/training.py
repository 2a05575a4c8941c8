"""Training speed: digit_cnn on the 4,000 / 1,000 digit split, in torch and in pure numpy.

Run with ``make bench`` (or ``python benchmarks/training.py``). 2 threads for both
libraries, float32. Two parts:

1. torch (``convkit.training.fit`` with ``convkit.training.RECIPES``): seconds per epoch,
   training seconds until the test accuracy first reaches the target, best accuracy.
   Targets: "plain" reaches 97 % within 10 s of training; "shift" (random shifts of
   up to 2 pixels) reaches 98 % within 20 s.
2. pure numpy (``convkit.training.fit_numpy``): seconds per epoch as a ratio to
   torch's, measured in the same run (epochs of the two alternate, medians);
   target ratio <= 1.7.

Exits with status 1 when a target is missed.
"""

from __future__ import annotations

import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import Row, print_table

from convkit.data import load_mnist
from convkit.nn.models import digit_cnn
from convkit.training import RECIPES, fit, fit_numpy, seed_everything

THREADS = 2
#: recipe -> (test accuracy to reach, within this many training seconds)
RECIPE_TARGETS = {"plain": (0.97, 10.0), "shift": (0.98, 20.0)}
NUMPY_RATIO_TARGET = 1.7
RATIO_ROUNDS = 3  # alternating (torch epoch, numpy epoch) pairs


@dataclass
class RecipeResult:
    name: str
    epochs: int
    seconds_per_epoch: float
    accuracy: float
    seconds_to_target: float | None
    best: float
    budget: float

    @property
    def ok(self) -> bool:
        return self.seconds_to_target is not None and self.seconds_to_target <= self.budget


def run_recipe(name: str, data) -> RecipeResult:
    """Train a fresh digit_cnn with one recipe in torch and summarise its history."""
    accuracy, budget = RECIPE_TARGETS[name]
    recipe = RECIPES[name]
    seed_everything(int(recipe.get("seed", 0)))
    history = fit(digit_cnn(), data, threads=THREADS, progress=False, **recipe)
    return RecipeResult(
        name,
        history.epochs,
        history.seconds[-1] / history.epochs,
        accuracy,
        history.seconds_to_reach(accuracy),
        history.best_test_acc,
        budget,
    )


def print_recipes(results: list[RecipeResult]) -> bool:
    title = f"torch {torch.__version__} training of digit_cnn, float32, {THREADS} threads"
    print(f"\n{title}")
    header = (
        f"{'recipe':<8} {'epochs':>6} {'s/epoch':>8} {'target':>7} {'s to target':>12}"
        f" {'budget':>7} {'best acc':>9}  ok"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        reached = "never" if r.seconds_to_target is None else f"{r.seconds_to_target:.1f}"
        print(
            f"{r.name:<8} {r.epochs:>6} {r.seconds_per_epoch:>8.2f} {r.accuracy:>7.0%}"
            f" {reached:>12} {'<= ' + format(r.budget, 'g'):>7} {r.best:>9.2%}"
            f"  {'yes' if r.ok else 'NO'}"
        )
    return all(r.ok for r in results)


def numpy_vs_torch_epoch(data) -> Row:
    """Seconds per training epoch (plain recipe's batch size and lr) of fit_numpy vs
    fit, alternating one epoch of each so that both see the same machine load."""
    recipe = dict(RECIPES["plain"], epochs=1)
    ours, theirs = [], []
    for round_ in range(RATIO_ROUNDS):
        seed_everything(round_)
        model = digit_cnn()
        theirs.append(fit(model, data, threads=THREADS, progress=False, **recipe).seconds[0])
        seed_everything(round_)
        model = digit_cnn()
        ours.append(fit_numpy(model, data, threads=THREADS, progress=False, **recipe).seconds[0])
    print(
        "\nepoch seconds, torch: "
        + ", ".join(f"{s:.2f}" for s in theirs)
        + "; numpy: "
        + ", ".join(f"{s:.2f}" for s in ours)
    )
    return Row(
        "fit_numpy epoch vs fit epoch (ms)",
        statistics.median(ours),
        statistics.median(theirs),
        NUMPY_RATIO_TARGET,
    )


def main() -> int:
    data = load_mnist()
    print(f"data: {len(data.x_train):,} training / {len(data.x_test):,} test digits")
    recipes_ok = print_recipes([run_recipe(name, data) for name in RECIPE_TARGETS])
    ratio_ok = print_table(
        f"pure numpy vs torch training, float32, {THREADS} threads each",
        [numpy_vs_torch_epoch(data)],
    )
    ok = recipes_ok and ratio_ok
    print("\nall targets met" if ok else "\nSOME TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
