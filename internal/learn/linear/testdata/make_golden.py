#!/usr/bin/python3
"""Writes golden.json: scikit-learn 1.2 as the oracle for linear_test.go.

For each data set in ../../testdata it fixes a train/test split (stratified
for classifiers, scikit-learn's train_test_split with random_state=0,
test_size=0.25) and records, on the test rows:
  * breast_cancer, wine: make_pipeline(StandardScaler(), LogisticRegression())
    with defaults (C=1, lbfgs, tol=1e-4) -> its test metrics; and the same
    pipeline fitted tightly (newton-cg, tol=1e-10) -> coefficients on
    standardised features, intercepts, test probabilities.
  * diabetes (raw, unscaled features): LinearRegression() and Ridge(alpha=1.0)
    -> coefficients, intercept, test predictions and metrics.
Run from this folder with Debian's python3-sklearn:
    /usr/bin/python3 make_golden.py
"""
import gzip
import json
import warnings

import numpy as np
import sklearn
from sklearn import metrics
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler, label_binarize

DATA = "../../testdata/"


def load_classic(f):
    rows = [line.strip().split(",") for line in f if line.strip()]
    body = np.array(rows[1:], dtype=np.float64)
    return body[:, :-1], body[:, -1]


def lst(a):
    return [float(v) for v in np.asarray(a, dtype=np.float64).ravel()]


def split(X, y, stratify):
    idx = np.arange(len(y))
    tr, te = train_test_split(idx, test_size=0.25, random_state=0,
                              stratify=y if stratify else None)
    return sorted(int(i) for i in tr), sorted(int(i) for i in te)


def classification(name, X, y):
    tr, te = split(X, y, True)
    k = len(np.unique(y))
    default = make_pipeline(StandardScaler(), LogisticRegression()).fit(X[tr], y[tr])
    # lbfgs in scikit-learn 1.2 stops on scipy's default ftol (a relative
    # decrease below 2.2e-9) whatever tol says, ~1e-4 from the optimum on
    # these data; newton-cg reaches the same objective's optimum tightly.
    # It reports not converging at tol=1e-10 (its own line search limit)
    # but is then within ~1e-9 of the optimum, which linear_test.go checks.
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    tight = make_pipeline(
        StandardScaler(), LogisticRegression(solver="newton-cg", tol=1e-10, max_iter=1000)
    ).fit(X[tr], y[tr])
    p = default.predict_proba(X[te])
    pred = default.predict(X[te])
    yt = y[te]
    avg = "binary" if k == 2 else "macro"
    m = {
        "accuracy": metrics.accuracy_score(yt, pred),
        "f1": metrics.f1_score(yt, pred, average=avg),
        "log_loss": metrics.log_loss(yt, p),
    }
    if k == 2:
        m["roc_auc"] = metrics.roc_auc_score(yt, p[:, 1])
        m["pr_auc"] = metrics.average_precision_score(yt, p[:, 1])
    else:
        m["roc_auc"] = metrics.roc_auc_score(yt, p, multi_class="ovr")
        m["pr_auc"] = metrics.average_precision_score(label_binarize(yt, classes=list(range(k))), p)
    lr, sc = tight[-1], tight[0]
    tp = tight.predict_proba(X[te])
    return {
        "name": name, "classes": k, "train": tr, "test": te,
        "default_metrics": {a: float(b) for a, b in m.items()},
        "default_n_iter": int(default[-1].n_iter_[0]),
        "tight": {
            "coef_std": [lst(r) for r in lr.coef_],
            "intercept": lst(lr.intercept_),
            "mean": lst(sc.mean_), "scale": lst(sc.scale_),
            "test_proba": lst(tp[:, 1] if k == 2 else tp),
        },
    }


def regression(name, X, y):
    tr, te = split(X, y, False)
    out = {"name": name, "train": tr, "test": te, "models": {}}
    for kind, est in [("linear_regression", LinearRegression()), ("ridge", Ridge(alpha=1.0))]:
        est.fit(X[tr], y[tr])
        pred = est.predict(X[te])
        out["models"][kind] = {
            "coef": lst(est.coef_), "intercept": float(est.intercept_),
            "test_pred": lst(pred),
            "metrics": {
                "r2": float(metrics.r2_score(y[te], pred)),
                "rmse": float(np.sqrt(metrics.mean_squared_error(y[te], pred))),
                "mae": float(metrics.mean_absolute_error(y[te], pred)),
            },
        }
    return out


with gzip.open(DATA + "breast_cancer.csv.gz", "rt") as f:
    bc = load_classic(f)
with open(DATA + "wine_data.csv") as f:
    wine = load_classic(f)
with gzip.open(DATA + "diabetes_data_raw.csv.gz", "rt") as f:
    dX = np.loadtxt(f)
with gzip.open(DATA + "diabetes_target.csv.gz", "rt") as f:
    dy = np.loadtxt(f)

golden = {
    "sklearn": sklearn.__version__,
    "datasets": [
        classification("breast_cancer", *bc),
        classification("wine", *wine),
        regression("diabetes", dX, dy),
    ],
}
with open("golden.json", "w") as fh:
    json.dump(golden, fh, separators=(",", ":"))
    fh.write("\n")
