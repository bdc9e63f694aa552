"""Train the serving benchmark's model and write the wrk request bodies.

XGBoost, 100 rounds of depth-6 trees, binary:logistic, on scikit-learn's
breast-cancer data (569 rows, 30 features). Writes into OUT:

  model/MLmodel, model/model.json  an MLflow model directory (xgboost flavor,
                                   Booster saved as JSON, signature with the
                                   30 column names), as mlflow.xgboost.save_model
                                   writes it with model_format="json"
  oip.json                         one row as an Open Inference Protocol request
  mlflow.json                      the same row as MLflow dataframe_split
  expected.json                    python-xgboost's prediction for that row
  train.csv                        the training data (features and target), the
                                   drift reference the monitored server is given

Usage: python3 train.py OUT
"""

import json
import os
import sys
import uuid
from datetime import datetime

import numpy as np
import xgboost as xgb
from sklearn.datasets import load_breast_cancer


def main(out):
    data = load_breast_cancer()
    names = [str(n) for n in data.feature_names]
    X, y = data.data.astype(np.float64), data.target
    dtrain = xgb.DMatrix(X, label=y, feature_names=names)
    params = {"objective": "binary:logistic", "max_depth": 6, "eta": 0.3, "seed": 0, "nthread": 1}
    booster = xgb.train(params, dtrain, num_boost_round=100)

    mdir = os.path.join(out, "model")
    os.makedirs(mdir, exist_ok=True)
    booster.save_model(os.path.join(mdir, "model.json"))

    inputs = json.dumps([{"type": "double", "name": n, "required": True} for n in names])
    outputs = json.dumps([{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1]}}])
    # json.dumps of a string is a valid YAML double-quoted scalar.
    mlmodel = f"""artifact_path: model
flavors:
  python_function:
    data: model.json
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.xgboost
    python_version: {sys.version.split()[0]}
  xgboost:
    code: null
    data: model.json
    model_class: xgboost.core.Booster
    model_format: json
    xgb_version: {xgb.__version__}
mlflow_version: 2.11.3
model_size_bytes: {os.path.getsize(os.path.join(mdir, "model.json"))}
model_uuid: {uuid.uuid4().hex}
signature:
  inputs: {json.dumps(inputs)}
  outputs: {json.dumps(outputs)}
  params: null
utc_time_created: '{datetime.utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")}'
"""
    with open(os.path.join(mdir, "MLmodel"), "w") as f:
        f.write(mlmodel)

    with open(os.path.join(out, "train.csv"), "w") as f:
        f.write(",".join(names + ["target"]) + "\n")
        for x, t in zip(X, y):
            f.write(",".join(repr(float(v)) for v in x) + "," + str(int(t)) + "\n")

    row = [float(v) for v in X[0]]  # repr of a float round-trips exactly
    with open(os.path.join(out, "oip.json"), "w") as f:
        json.dump({"inputs": [{"name": "input-0", "shape": [1, len(row)], "datatype": "FP64", "data": row}]}, f)
    with open(os.path.join(out, "mlflow.json"), "w") as f:
        json.dump({"dataframe_split": {"columns": names, "data": [row]}}, f)
    pred = booster.predict(xgb.DMatrix(np.array([row]), feature_names=names))
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump({"prediction": float(pred[0]), "xgboost": xgb.__version__}, f)
    print(f"trained 100 trees (max_depth 6) on {X.shape[0]}x{X.shape[1]}; row 0 predicts {float(pred[0])!r}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: train.py OUT")
    main(sys.argv[1])
