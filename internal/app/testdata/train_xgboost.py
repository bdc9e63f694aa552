"""Train a model with python3-xgboost and save it as mlflow.xgboost.log_model
does with XGBoost 1.x (MLmodel + model.xgb, the legacy binary format), for
TestServeAModelTrainedNow. Writes into OUT:

  model/MLmodel, model/model.xgb   the MLflow model directory
  rows.csv                         the breast-cancer rows, with a header
  expected.txt                     the library's prediction for every row

Usage: /usr/bin/python3 train_xgboost.py OUT   (Debian's python3-xgboost and
python3-sklearn; data: scikit-learn's breast cancer set, BSD-3-Clause)
"""

import json
import os
import sys

import numpy as np
import xgboost as xgb
from sklearn.datasets import load_breast_cancer


def main(out):
    data = load_breast_cancer()
    names = [str(n) for n in data.feature_names]
    X, y = data.data.astype(np.float64), data.target
    X[::7, 3] = np.nan  # some missing values
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 6, "eta": 0.3, "seed": 0, "nthread": 1},
                        xgb.DMatrix(X, label=y, feature_names=names), num_boost_round=100)
    mdir = os.path.join(out, "model")
    os.makedirs(mdir, exist_ok=True)
    booster.save_model(os.path.join(mdir, "model.xgb"))  # the legacy binary format (XGBoost 1.x)
    inputs = json.dumps([{"type": "double", "name": n, "required": True} for n in names])
    with open(os.path.join(mdir, "MLmodel"), "w") as f:
        f.write(f"""artifact_path: model
flavors:
  python_function:
    data: model.xgb
    loader_module: mlflow.xgboost
    python_version: {sys.version.split()[0]}
  xgboost:
    code: null
    data: model.xgb
    model_class: xgboost.core.Booster
    xgb_version: {xgb.__version__}
mlflow_version: 2.9.2
signature:
  inputs: {json.dumps(inputs)}
  outputs: '[{{"type": "tensor", "tensor-spec": {{"dtype": "float32", "shape": [-1]}}}}]'
""")
    with open(os.path.join(out, "rows.csv"), "w") as f:
        f.write(",".join(names) + "\n")
        for row in X:
            f.write(",".join("" if np.isnan(v) else repr(float(v)) for v in row) + "\n")
    pred = booster.predict(xgb.DMatrix(X, feature_names=names))
    np.savetxt(os.path.join(out, "expected.txt"), pred, fmt="%.17g")


if __name__ == "__main__":
    main(sys.argv[1])
