#!/usr/bin/python3
"""Load an XGBoost JSON model with python3-xgboost and print predictions.

    /usr/bin/python3 check_with_xgboost.py MODEL.json ROWS.tsv

ROWS.tsv holds one row of features per line, tab-separated, "nan" for
missing. Prints one line per row: the predictions (tab-separated; the
class probabilities for multi:softprob) in full precision. The Go tests
run it to check that XGBoost itself predicts what the Go trainer does.
"""
import sys

import numpy as np
import xgboost as xgb


def main():
    model, rows = sys.argv[1], sys.argv[2]
    bst = xgb.Booster(model_file=model)
    X = np.loadtxt(rows, delimiter="\t", ndmin=2)
    d = xgb.DMatrix(X, missing=np.nan, feature_names=bst.feature_names)
    p = bst.predict(d)
    if p.ndim == 1:
        p = p.reshape(-1, 1)
    out = sys.stdout
    for row in p:
        out.write("\t".join(repr(float(v)) for v in row) + "\n")


if __name__ == "__main__":
    main()
