"""The record of a training run, shared by the torch and the pure-numpy trainers."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class History:
    """Per-epoch measurements of one training run (all lists have one entry per epoch).

    ``test_acc`` is the accuracy on the held-out part of the data the trainer was
    given: its test set, or its validation set when the data is a
    :class:`convkit.data.TrainVal` (:func:`convkit.data.train_val_split`), which is
    where settings should be chosen. ``seconds`` is the cumulative wall-clock training
    time at the end of each epoch (evaluation excluded), so ``seconds[-1]`` is the
    whole run.
    """

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        """How many epochs were recorded."""
        return len(self.train_loss)

    def record(self, loss: float, train_acc: float, test_acc: float, seconds: float) -> None:
        """Append one epoch's mean training loss, accuracies (0..1) and cumulative seconds."""
        self.train_loss.append(float(loss))
        self.train_acc.append(float(train_acc))
        self.test_acc.append(float(test_acc))
        self.seconds.append(float(seconds))

    @property
    def best_test_acc(self) -> float:
        """The best held-out accuracy seen (0 when nothing was recorded)."""
        return max(self.test_acc, default=0.0)

    def epochs_to_reach(self, accuracy: float) -> int | None:
        """The first epoch (1-based) whose held-out accuracy reached ``accuracy`` (None: never)."""
        return next((e for e, acc in enumerate(self.test_acc, 1) if acc >= accuracy), None)

    def seconds_to_reach(self, accuracy: float) -> float | None:
        """Training seconds until the held-out accuracy first reached ``accuracy`` (None: never)."""
        for acc, sec in zip(self.test_acc, self.seconds, strict=True):
            if acc >= accuracy:
                return sec
        return None

    def early_stop(self, patience: int) -> tuple[int, int]:
        """Where early stopping with ``patience`` ends this run: (stop epoch, kept epoch).

        Training stops after the first epoch that is ``patience`` epochs past the best
        held-out accuracy so far (ties keep the earlier epoch), or after the last epoch;
        the kept model is the one of the best epoch up to the stop.  Epochs are 1-based.
        ValueError when nothing was recorded or ``patience`` < 1.
        """
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise ValueError(f"early_stop: patience must be an int >= 1, got {patience!r}")
        if not self.test_acc:
            raise ValueError("early_stop: the history is empty")
        best = 0
        for epoch, acc in enumerate(self.test_acc):
            if acc > self.test_acc[best]:
                best = epoch
            if epoch - best >= patience:
                return epoch + 1, best + 1
        return len(self.test_acc), best + 1
