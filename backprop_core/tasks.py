"""What a training run learns: K classes (softmax + cross-entropy) or a real number (mean squared
error). A Task is plain data: how many outputs the network has, what its score is called and what
the page calls the run. Torch-free (the config and the pages' server read it); losses.py holds the
arithmetic.

    classify   K = 2..5 classes, K logits, loss = cross-entropy, score = accuracy
    regress    one output y_pred, loss = mean (y_pred - y)^2, score = R^2 = 1 - SSE / SST
"""
from __future__ import annotations

from dataclasses import dataclass

BINARY_DATASETS = ("linear", "xor", "circles", "moons")
MULTICLASS_DATASETS = ("spirals", "blobs")       # take `classes`
REGRESSION_DATASETS = ("plane", "gauss")         # targets in [-1, 1]
CLASSES_RANGE = (2, 5)
GAUSS_WIDTH = 1.28    # gauss: the bump's standard deviation, so that its targets average about 0 (data.py)


@dataclass(frozen=True)
class Task:
    kind: str            # "classify" | "regress"
    classes: int = 2     # K (classify); 0 for regression

    @property
    def regression(self) -> bool:
        return self.kind == "regress"

    @property
    def out_dim(self) -> int:
        """Logits of the output layer: K, or the one predicted value."""
        return 1 if self.regression else self.classes

    @property
    def score_name(self) -> str:
        """What the score column holds, as a metric label reads it: 'accuracy' or 'R²'."""
        return "R²" if self.regression else "accuracy"

    @property
    def loss_name(self) -> str:
        return "mean squared error" if self.regression else "cross-entropy"

    def words(self) -> str:
        """How a run summary names the task: '3 classes', 'regression' ('' for the binary default)."""
        return "regression" if self.regression else ("" if self.classes == 2 else f"{self.classes} classes")


def task_for(data: str, classes: int = 2, labels=()) -> Task:
    """The task of a dataset: regression sets regress; spirals and blobs have `classes` classes; the
    learner's own points have as many as their largest label says (at least 2); the rest are binary."""
    if data in REGRESSION_DATASETS:
        return Task("regress", 0)
    if data in MULTICLASS_DATASETS:
        return Task("classify", classes)
    if data == "custom":
        return Task("classify", max([2] + [int(c) + 1 for c in labels]))
    return Task("classify", 2)


def classes_notice(data: str, classes: int) -> str | None:
    """What a page says when `classes` asks for more than two classes of a dataset that has a fixed task."""
    if classes == 2 or data in MULTICLASS_DATASETS:
        return None
    if data in REGRESSION_DATASETS:
        return f"{data} data is a regression task (a number to predict, no classes): classes = {classes} is not used."
    if data == "custom":
        return (f"Your own points have as many classes as their labels use (0 to 4): classes = {classes} "
                "is not used.")
    return f"{data} data has two classes: classes = {classes} applies to spirals and blobs only."
