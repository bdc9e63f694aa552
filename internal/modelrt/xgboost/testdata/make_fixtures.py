#!/usr/bin/python3
"""Regenerate the XGBoost oracle fixtures of internal/modelrt/xgboost.

Requires Debian's python3-xgboost (1.7.4), python3-sklearn and
python3-pandas:

    apt-get install -y python3-xgboost python3-sklearn python3-pandas
    cd internal/modelrt/xgboost/testdata && /usr/bin/python3 make_fixtures.py

For every model NAME it writes
    NAME.json, NAME.ubj          the model as JSON and UBJSON (bench_100x6: UBJSON only)
    NAME.model                   the legacy binary format (when 1.7 can write it:
                                 not for categorical splits)
    NAME.rows.tsv                test rows, tab-separated, "nan" for missing
    NAME.pred.tsv                Booster.predict(output_margin=False)
    NAME.margin.tsv              Booster.predict(output_margin=True)
Prediction files hold one row per line (one value per output).
"""
import os
import warnings

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn import datasets

warnings.filterwarnings("ignore")
rng = np.random.RandomState(42)
OUT = os.path.dirname(os.path.abspath(__file__))


def with_nans(X, frac=0.1):
    X = np.array(X, dtype=np.float64, copy=True)
    mask = rng.rand(*X.shape) < frac
    X[mask] = np.nan
    return X


def write_tsv(path, arr):
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    with open(path, "w") as f:
        for row in arr:
            f.write("\t".join("nan" if np.isnan(v) else repr(float(v)) for v in row) + "\n")


def save(name, bst, dtest, rows, binary=True, json=True):
    if json:
        bst.save_model(os.path.join(OUT, name + ".json"))
    bst.save_model(os.path.join(OUT, name + ".ubj"))
    if binary:
        bst.save_model(os.path.join(OUT, name + ".model"))
    write_tsv(os.path.join(OUT, name + ".rows.tsv"), rows)
    write_tsv(os.path.join(OUT, name + ".pred.tsv"), bst.predict(dtest))
    write_tsv(os.path.join(OUT, name + ".margin.tsv"), bst.predict(dtest, output_margin=True))


def split(X, y, n_test):
    idx = rng.permutation(len(y))
    te, tr = idx[:n_test], idx[n_test:]
    return X[tr], y[tr], with_nans(X[te])


def train(name, X, y, params, rounds, n_test=40, binary=True, json=True, train_nans=True):
    Xtr, ytr, Xte = split(X, y, n_test)
    if train_nans:
        Xtr = with_nans(Xtr, 0.05)
    dtrain = xgb.DMatrix(Xtr, label=ytr)
    dtest = xgb.DMatrix(Xte)
    bst = xgb.train(dict(params, seed=1, nthread=1), dtrain, rounds)
    save(name, bst, dtest, Xte, binary, json)
    return bst


def main():
    bc = datasets.load_breast_cancer()
    iris = datasets.load_iris()
    wine = datasets.load_wine()
    diab = datasets.load_diabetes()

    train("binary_logistic", bc.data, bc.target,
          {"objective": "binary:logistic", "max_depth": 3, "eta": 0.3}, 10)
    train("binary_logistic_base03", bc.data, bc.target,
          {"objective": "binary:logistic", "max_depth": 2, "eta": 0.3, "base_score": 0.3}, 8)
    train("binary_logitraw", bc.data, bc.target,
          {"objective": "binary:logitraw", "max_depth": 3, "eta": 0.3}, 6)
    train("multi_softprob", iris.data, iris.target,
          {"objective": "multi:softprob", "num_class": 3, "max_depth": 3, "eta": 0.3}, 8)
    train("multi_softmax", wine.data, wine.target,
          {"objective": "multi:softmax", "num_class": 3, "max_depth": 3, "eta": 0.3}, 8)
    train("reg_squarederror", diab.data, diab.target,
          {"objective": "reg:squarederror", "max_depth": 4, "eta": 0.1}, 15)
    train("rank_pairwise", diab.data, (diab.target > np.median(diab.target)).astype(float),
          {"objective": "rank:pairwise", "max_depth": 3, "eta": 0.3}, 5)
    # A count target: the number of "high" features in a row of diabetes.
    counts = np.round(np.clip(diab.target / 40.0, 0, None))
    train("count_poisson", diab.data, counts,
          {"objective": "count:poisson", "max_depth": 3, "eta": 0.2, "base_score": 2.0}, 10)
    frac = (diab.target - diab.target.min()) / (diab.target.max() - diab.target.min())
    train("reg_logistic", diab.data, frac,
          {"objective": "reg:logistic", "max_depth": 3, "eta": 0.3, "base_score": 0.4}, 8)
    pos = diab.target / 100.0
    train("reg_gamma", diab.data, pos,
          {"objective": "reg:gamma", "max_depth": 2, "eta": 0.3}, 5)
    train("reg_tweedie", diab.data, np.where(rng.rand(len(pos)) < 0.3, 0.0, pos),
          {"objective": "reg:tweedie", "tweedie_variance_power": 1.4, "max_depth": 2, "eta": 0.3}, 5)
    train("binary_hinge", bc.data, bc.target,
          {"objective": "binary:hinge", "max_depth": 2, "eta": 0.3}, 5)
    train("dart_binary", bc.data, bc.target,
          {"booster": "dart", "objective": "binary:logistic", "max_depth": 3, "eta": 0.3,
           "rate_drop": 0.3, "skip_drop": 0.0, "base_score": 0.6}, 8)
    train("rf_binary", bc.data, bc.target,
          {"objective": "binary:logistic", "max_depth": 3, "eta": 1.0, "num_parallel_tree": 3,
           "subsample": 0.8, "colsample_bynode": 0.8}, 2)
    train("gblinear_reg", diab.data, diab.target,
          {"booster": "gblinear", "objective": "reg:squarederror", "eta": 0.5}, 10)
    train("gblinear_multi", iris.data, iris.target,
          {"booster": "gblinear", "objective": "multi:softprob", "num_class": 3, "eta": 0.3}, 10)

    # Categorical: penguins-like frame built from iris with a category column
    # derived from binned petal width plus noise categories.
    n = len(iris.target)
    df = pd.DataFrame(iris.data[:, :3], columns=["sepal_length", "sepal_width", "petal_length"])
    cat = np.digitize(iris.data[:, 3], [0.5, 1.0, 1.5, 2.0]) + 2 * (rng.rand(n) < 0.2)
    df["width_bin"] = pd.Categorical(cat, categories=list(range(7)))
    df["flag"] = (rng.rand(n) < 0.5).astype(np.int64)
    y = iris.target
    idx = rng.permutation(n)
    te, tr = idx[:40], idx[40:]
    dtrain = xgb.DMatrix(df.iloc[tr], label=y[tr], enable_categorical=True)
    test = df.iloc[te].copy()
    test.loc[test.index[::7], "width_bin"] = np.nan
    test.loc[test.index[3::9], "sepal_width"] = np.nan
    dtest = xgb.DMatrix(test, enable_categorical=True)
    bst = xgb.train({"objective": "multi:softprob", "num_class": 3, "max_depth": 3, "eta": 0.3,
                     "tree_method": "hist", "max_cat_to_onehot": 1, "seed": 1, "nthread": 1},
                    dtrain, 6)
    rows = test.copy()
    rows["width_bin"] = rows["width_bin"].astype(float)
    save("categorical_multi", bst, dtest, rows.to_numpy(dtype=np.float64), binary=False)

    # The benchmark model: 100 trees of depth 6 on breast_cancer's 30 features
    # (UBJSON only, to keep the fixtures small).
    train("bench_100x6", bc.data, bc.target,
          {"objective": "binary:logistic", "max_depth": 6, "eta": 0.1, "min_child_weight": 0,
           "gamma": 0, "lambda": 0.01}, 100, n_test=20, binary=False, json=False)


if __name__ == "__main__":
    main()
