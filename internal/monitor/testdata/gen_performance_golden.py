#!/usr/bin/python3
"""Golden values for internal/monitor's performance checker.

Seeded prediction-log windows of a binary classifier, a three-class
classifier and a regression, each with requests of one to three rows,
requests without feedback, feedback that cannot be scored (a binary label
of 0.5 or 3, a class index out of range, a ground truth whose length is
not the request's row count) and labelled requests older than the window.
The expected metrics are scikit-learn's, computed on the valid labelled
rows of the window only:

- binary: accuracy_score and f1_score of (p >= 0.5), roc_auc_score and
  log_loss(labels=[0, 1]) of p;
- multiclass: accuracy_score and f1_score(average="macro") of the argmax,
  roc_auc_score(multi_class="ovr", average="macro") and
  log_loss(labels=[0, 1, 2]) of the probabilities;
- regression: sqrt(mean_squared_error) and mean_absolute_error.

Run: /usr/bin/python3 gen_performance_golden.py  (from this directory)
"""
import json
import math

import numpy as np
from sklearn.metrics import (accuracy_score, f1_score, log_loss,
                             mean_absolute_error, mean_squared_error,
                             roc_auc_score)

NOW = 1_700_000_000_000
WINDOW = 3_600_000


def requests(rng, n, make_rows, make_truth, bad_truth):
    """n requests inside the window plus three labelled ones before it."""
    out = []
    for i in range(n + 3):
        rows = int(rng.integers(1, 4))
        preds = make_rows(rows)
        t = NOW - WINDOW + 1000 + i * 1000 if i < n else NOW - WINDOW - 5000 * (i - n + 1)
        req = {"id": "r%04d" % i, "time": t, "rows": rows, "preds": preds, "truth": None,
               "feedback_time": 0}
        u = rng.random()
        if i >= n or u < 0.7:
            req["truth"] = make_truth(preds, rows)
        elif u < 0.76:
            req["truth"] = bad_truth(rows)
        elif u < 0.78:
            req["truth"] = make_truth(preds, rows) + [0.0]  # one value too many
        if req["truth"] is not None:
            req["feedback_time"] = NOW - int(rng.integers(0, WINDOW // 2))
        out.append(req)
    return out


def binary_case(rng):
    k = 1

    def make_rows(rows):
        return [float(x) for x in rng.beta(2, 2, size=rows)]

    def make_truth(preds, rows):
        # Mostly right, sometimes wrong.
        return [float(rng.random() < p) for p in preds]

    def bad_truth(rows):
        return [float(rng.choice([0.5, 3.0, 1.0])) for _ in range(rows)]

    reqs = requests(rng, 240, make_rows, make_truth, bad_truth)
    y, p = [], []
    invalid = 0
    for r in reqs:
        if r["time"] < NOW - WINDOW or r["truth"] is None:
            continue
        if len(r["truth"]) != r["rows"]:
            invalid += r["rows"]
            continue
        for t, q in zip(r["truth"], r["preds"]):
            if t not in (0.0, 1.0):
                invalid += 1
                continue
            y.append(t)
            p.append(q)
    y, p = np.array(y), np.array(p)
    pred = (p >= 0.5).astype(float)
    metrics = {"accuracy": accuracy_score(y, pred), "f1": f1_score(y, pred),
               "roc_auc": roc_auc_score(y, p), "log_loss": log_loss(y, p, labels=[0, 1])}
    return {"name": "binary", "task": "binary", "outputs": k, "requests": reqs,
            "expected": {"labelled_rows": len(y), "invalid_labels": invalid,
                         "metrics": {m: float(v) for m, v in metrics.items()}}}


def multiclass_case(rng):
    k = 3

    def make_rows(rows):
        return [float(x) for x in rng.dirichlet([1.5, 1.0, 0.7], size=rows).ravel()]

    def make_truth(preds, rows):
        out = []
        for i in range(rows):
            pr = np.array(preds[i * k:(i + 1) * k])
            out.append(float(rng.choice(k, p=pr / pr.sum())))
        return out

    def bad_truth(rows):
        return [float(rng.choice([3.0, -1.0, 1.5, 2.0])) for _ in range(rows)]

    reqs = requests(rng, 240, make_rows, make_truth, bad_truth)
    y, p = [], []
    invalid = 0
    for r in reqs:
        if r["time"] < NOW - WINDOW or r["truth"] is None:
            continue
        if len(r["truth"]) != r["rows"]:
            invalid += r["rows"]
            continue
        for i, t in enumerate(r["truth"]):
            if t not in (0.0, 1.0, 2.0):
                invalid += 1
                continue
            y.append(t)
            p.append(r["preds"][i * k:(i + 1) * k])
    y, p = np.array(y), np.array(p)
    pred = p.argmax(axis=1).astype(float)
    metrics = {"accuracy": accuracy_score(y, pred), "f1": f1_score(y, pred, average="macro"),
               "roc_auc": roc_auc_score(y, p, multi_class="ovr", average="macro"),
               "log_loss": log_loss(y, p, labels=[0, 1, 2])}
    return {"name": "multiclass", "task": "multiclass", "outputs": k, "requests": reqs,
            "expected": {"labelled_rows": len(y), "invalid_labels": invalid,
                         "metrics": {m: float(v) for m, v in metrics.items()}}}


def regression_case(rng):
    def make_rows(rows):
        return [float(x) for x in rng.normal(10, 3, size=rows)]

    def make_truth(preds, rows):
        return [float(q + rng.normal(0, 1.5)) for q in preds]

    def bad_truth(rows):
        return [float(rng.normal(10, 3)) for _ in range(rows + 1)]  # wrong length

    reqs = requests(rng, 240, make_rows, make_truth, bad_truth)
    y, q = [], []
    invalid = 0
    for r in reqs:
        if r["time"] < NOW - WINDOW or r["truth"] is None:
            continue
        if len(r["truth"]) != r["rows"]:
            invalid += r["rows"]
            continue
        y += r["truth"]
        q += r["preds"]
    metrics = {"rmse": math.sqrt(mean_squared_error(y, q)), "mae": mean_absolute_error(y, q)}
    return {"name": "regression", "task": "regression", "outputs": 1, "requests": reqs,
            "expected": {"labelled_rows": len(y), "invalid_labels": invalid,
                         "metrics": {m: float(v) for m, v in metrics.items()}}}


def main():
    rng = np.random.default_rng(20240606)
    cases = [binary_case(rng), multiclass_case(rng), regression_case(rng)]
    with open("performance_golden.json", "w") as f:
        json.dump({"now": NOW, "window_ms": WINDOW, "cases": cases}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
