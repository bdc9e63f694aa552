#!/usr/bin/python3
"""Time python3-xgboost (tree_method "hist") on a CSV the Go benchmark wrote.

    /usr/bin/python3 bench_xgboost.py FILE.csv NTRAIN [NTHREAD]

FILE.csv: no header, features then the 0/1 label last; the first NTRAIN
rows train, the rest test. Trains 100 rounds of depth 6 with eta 0.3 and
prints "xgboost_train_seconds=S accuracy=A".
"""
import sys
import time

import numpy as np
import xgboost as xgb


def main():
    data = np.loadtxt(sys.argv[1], delimiter=",", dtype=np.float32)
    n = int(sys.argv[2])
    nthread = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    X, y = data[:, :-1], data[:, -1]
    dtrain = xgb.DMatrix(X[:n], label=y[:n], nthread=nthread)
    dtest = xgb.DMatrix(X[n:], nthread=nthread)
    params = dict(objective="binary:logistic", tree_method="hist", eta=0.3, max_depth=6,
                  max_bin=256, nthread=nthread, seed=0)
    t0 = time.perf_counter()
    bst = xgb.train(params, dtrain, num_boost_round=100)
    secs = time.perf_counter() - t0
    acc = float(np.mean((bst.predict(dtest) > 0.5) == (y[n:] > 0.5)))
    print("xgboost_train_seconds=%.3f accuracy=%.4f" % (secs, acc))


if __name__ == "__main__":
    main()
