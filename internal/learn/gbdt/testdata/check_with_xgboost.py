#!/usr/bin/python3
"""Load an XGBoost JSON model with python3-xgboost and print predictions.

    /usr/bin/python3 check_with_xgboost.py MODEL.json ROWS.tsv

ROWS.tsv holds one row of features per line, tab-separated, "nan" for
missing. Prints one line per row: the predictions (tab-separated; the
class probabilities for multi:softprob) in full precision. The Go tests
run it to check that XGBoost itself predicts what the Go trainer does.

When the model marks features categorical (feature_types "c"), the rows
go in as a pandas DataFrame whose categorical columns have the category
dtype with categories 0..max (so that a pandas code is the category
code itself) and xgb.DMatrix(df, enable_categorical=True), the way users
feed categories to XGBoost. Categorical values must then be integer
codes ≥ 0 or nan.
"""
import sys

import numpy as np
import xgboost as xgb


def main():
    model, rows = sys.argv[1], sys.argv[2]
    bst = xgb.Booster(model_file=model)
    X = np.loadtxt(rows, delimiter="\t", ndmin=2)
    types = bst.feature_types or []
    if "c" in types:
        import pandas as pd

        names = bst.feature_names or ["f%d" % i for i in range(X.shape[1])]
        cols = {}
        for i, name in enumerate(names):
            col = X[:, i]
            if types[i] == "c":
                present = col[~np.isnan(col)]
                top = int(present.max()) if present.size else 0
                cols[name] = pd.Categorical(col, categories=list(range(top + 1)))
            else:
                cols[name] = col
        df = pd.DataFrame(cols)
        d = xgb.DMatrix(df, enable_categorical=True)
    else:
        d = xgb.DMatrix(X, missing=np.nan, feature_names=bst.feature_names)
    p = bst.predict(d)
    if p.ndim == 1:
        p = p.reshape(-1, 1)
    out = sys.stdout
    for row in p:
        out.write("\t".join(repr(float(v)) for v in row) + "\n")


if __name__ == "__main__":
    main()
