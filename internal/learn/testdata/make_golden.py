#!/usr/bin/python3
"""Writes metrics_golden.json: scikit-learn 1.2's metrics on seeded random
and tie-heavy inputs, for metrics_test.go (compared at 1e-12).

Run from this folder with Debian's python3-sklearn:
    /usr/bin/python3 make_golden.py
"""
import json

import numpy as np
import sklearn
from sklearn import metrics
from sklearn.preprocessing import label_binarize

rng = np.random.RandomState(20240605)


def f(x):
    return [float(v) for v in np.asarray(x, dtype=np.float64).ravel()]


def binary_case(name, y, p):
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    pred = (p > 0.5).astype(np.float64)
    want = {
        "accuracy": metrics.accuracy_score(y, pred),
        "precision": metrics.precision_score(y, pred, zero_division=0),
        "recall": metrics.recall_score(y, pred, zero_division=0),
        "f1": metrics.f1_score(y, pred, zero_division=0),
        "log_loss": metrics.log_loss(y, p, labels=[0, 1]),
    }
    if len(np.unique(y)) == 2:
        want["roc_auc"] = metrics.roc_auc_score(y, p)
    if (y == 1).any():
        want["pr_auc"] = metrics.average_precision_score(y, p)
    return {"name": name, "task": "binary", "k": 2, "y": f(y), "score": f(p),
            "want": {k: float(v) for k, v in want.items()}}


def multi_case(name, y, p):
    k = p.shape[1]
    y = np.asarray(y, dtype=np.float64)
    pred = np.argmax(p, axis=1).astype(np.float64)
    want = {
        "accuracy": metrics.accuracy_score(y, pred),
        "precision": metrics.precision_score(y, pred, average="macro", zero_division=0),
        "recall": metrics.recall_score(y, pred, average="macro", zero_division=0),
        "f1": metrics.f1_score(y, pred, average="macro", zero_division=0),
        "log_loss": metrics.log_loss(y, p, labels=list(range(k))),
    }
    if len(np.unique(y)) == k:
        want["roc_auc"] = metrics.roc_auc_score(y, p, multi_class="ovr", average="macro")
        want["pr_auc"] = metrics.average_precision_score(
            label_binarize(y, classes=list(range(k))), p, average="macro")
    return {"name": name, "task": "multiclass", "k": k, "y": f(y), "score": f(p),
            "want": {kk: float(v) for kk, v in want.items()}}


def reg_case(name, y, p):
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    want = {
        "rmse": np.sqrt(metrics.mean_squared_error(y, p)),
        "mae": metrics.mean_absolute_error(y, p),
        "r2": metrics.r2_score(y, p),
    }
    return {"name": name, "task": "regression", "k": 0, "y": f(y), "score": f(p),
            "want": {k: float(v) for k, v in want.items()}}


cases = []
# Binary: continuous scores loosely tied to the label.
y = rng.randint(0, 2, 200)
p = 1 / (1 + np.exp(-(1.2 * (2 * y - 1) + rng.normal(size=200))))
cases.append(binary_case("binary_random", y, p))
# Binary, tie-heavy: scores on a grid of 0.1.
y = rng.randint(0, 2, 150)
p = np.clip(np.round(0.5 + 0.25 * (2 * y - 1) + rng.normal(scale=0.3, size=150), 1), 0, 1)
cases.append(binary_case("binary_ties", y, p))
# Binary: all scores equal (one ROC segment), exact 0 and 1 (log-loss clipping).
cases.append(binary_case("binary_constant_score", [0, 1, 1, 0, 1], [0.5] * 5))
cases.append(binary_case("binary_extremes", [0, 1, 1, 0, 1, 0], [0.0, 1.0, 0.0, 1.0, 0.7, 1e-17]))
# Binary: no positive prediction (precision zero_division) and one class only.
cases.append(binary_case("binary_no_positive_pred", [0, 1, 0, 1, 1], [0.1, 0.2, 0.3, 0.4, 0.5]))
cases.append(binary_case("binary_one_class", [1, 1, 1], [0.2, 0.9, 0.6]))
# Multiclass: Dirichlet probabilities.
y = rng.randint(0, 4, 240)
logits = rng.normal(size=(240, 4)) + 1.5 * np.eye(4)[y]
p = np.exp(logits)
p /= p.sum(axis=1, keepdims=True)
cases.append(multi_case("multi_random", y, p))
# Multiclass, tie-heavy: each row is a permutation of (0.2, 0.3, 0.5).
y = rng.randint(0, 3, 120)
base = np.array([0.2, 0.3, 0.5])
p = np.array([rng.permutation(base) for _ in range(120)])
cases.append(multi_case("multi_ties", y, p))
# Multiclass: a class never predicted, and a class absent from y_true.
y = np.array([0, 1, 2, 0, 1, 2, 0, 1])
p = np.array([[0.6, 0.3, 0.1]] * 4 + [[0.3, 0.6, 0.1]] * 4)
cases.append(multi_case("multi_never_predicted", y, p))
cases.append(multi_case("multi_absent_class", [0, 1, 0, 1],
                        np.array([[0.5, 0.3, 0.2], [0.1, 0.7, 0.2], [0.2, 0.2, 0.6], [0.3, 0.4, 0.3]])))
# Regression.
y = rng.normal(loc=3, scale=2, size=200)
cases.append(reg_case("reg_random", y, y + rng.normal(scale=0.7, size=200)))
cases.append(reg_case("reg_constant_true", [2.0] * 4, [2.0, 2.5, 1.0, 2.0]))
cases.append(reg_case("reg_constant_perfect", [2.0] * 3, [2.0] * 3))

with open("metrics_golden.json", "w") as fh:
    json.dump({"sklearn": sklearn.__version__, "cases": cases}, fh, indent=None, separators=(",", ":"))
    fh.write("\n")
