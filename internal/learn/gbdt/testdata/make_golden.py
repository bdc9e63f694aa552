#!/usr/bin/python3
"""Regenerate golden.json: fixed train/test splits and reference scores.

Requires Debian's python3-sklearn (1.2), python3-xgboost (1.7.4), numpy:

    cd internal/learn/gbdt/testdata && /usr/bin/python3 make_golden.py

For each data set it writes the 0-based test row indices (the training
rows are all the others, in order), the parameters, and the test-set
score (accuracy for classifiers, R^2 for regression) of scikit-learn's
HistGradientBoosting{Classifier,Regressor} and of xgboost (tree_method
"hist") trained with the same parameters. The Go tests train on the same
split and compare.
"""
import gzip
import json
import os

import numpy as np
import xgboost as xgb
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name):
    """Return X, y as the Go tests read them."""
    p = lambda f: os.path.join(HERE, f)
    if name == "diabetes":
        X = np.loadtxt(gzip.open(p("diabetes_data_raw.csv.gz"), "rt"))
        y = np.loadtxt(gzip.open(p("diabetes_target.csv.gz"), "rt"))
        return X, y
    f = {"breast_cancer": "breast_cancer.csv.gz", "wine": "wine_data.csv.gz"}[name]
    with gzip.open(p(f), "rt") as fh:
        fh.readline()  # header: rows, cols, class names
        data = np.loadtxt(fh, delimiter=",")
    return data[:, :-1], data[:, -1]


SETS = {
    # name: (task, learning rate, min_child_weight). For squared error the
    # hessian is 1 per row, so min_child_weight 20 matches HGB's default
    # min_samples_leaf=20 (without it both xgboost and the Go trainer
    # overfit the 309 training rows of diabetes).
    "breast_cancer": ("binary", 0.3, 1),
    "wine": ("multi", 0.3, 1),
    "diabetes": ("regression", 0.1, 20),
}


def main():
    out = {}
    for name, (task, lr, mcw) in SETS.items():
        X, y = load(name)
        idx = np.arange(len(y))
        tr, te = train_test_split(idx, test_size=0.3, random_state=0,
                                  stratify=None if task == "regression" else y)
        te = np.sort(te)
        tr = np.setdiff1d(idx, te)
        common = dict(max_iter=100, learning_rate=lr, max_depth=6, max_leaf_nodes=None,
                      early_stopping=False, random_state=0)
        if task == "regression":
            hgb = HistGradientBoostingRegressor(**common).fit(X[tr], y[tr])
            hgb_score = r2_score(y[te], hgb.predict(X[te]))
        else:
            hgb = HistGradientBoostingClassifier(**common).fit(X[tr], y[tr])
            hgb_score = accuracy_score(y[te], hgb.predict(X[te]))
        obj = {"binary": "binary:logistic", "multi": "multi:softprob",
               "regression": "reg:squarederror"}[task]
        params = dict(objective=obj, tree_method="hist", eta=lr, max_depth=6,
                      max_bin=256, min_child_weight=mcw, seed=0, nthread=1)
        if task == "multi":
            params["num_class"] = int(y.max()) + 1
        if task == "regression":
            params["base_score"] = float(np.mean(y[tr]))
        bst = xgb.train(params, xgb.DMatrix(X[tr], label=y[tr]), num_boost_round=100)
        p = bst.predict(xgb.DMatrix(X[te]))
        if task == "binary":
            xgb_score = accuracy_score(y[te], p > 0.5)
        elif task == "multi":
            xgb_score = accuracy_score(y[te], p.argmax(axis=1))
        else:
            xgb_score = r2_score(y[te], p)
        out[name] = {
            "task": task, "objective": obj, "learning_rate": lr, "max_depth": 6,
            "min_child_weight": mcw, "rounds": 100, "test_idx": [int(i) for i in te],
            "hgb_score": round(float(hgb_score), 6), "xgb_score": round(float(xgb_score), 6),
        }
        print(name, "hgb", hgb_score, "xgb", xgb_score)
    with open(os.path.join(HERE, "golden.json"), "w") as fh:
        json.dump(out, fh, indent=1, sort_keys=True)
        fh.write("\n")


if __name__ == "__main__":
    main()
