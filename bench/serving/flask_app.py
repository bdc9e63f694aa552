"""The "Python way" target of the serving benchmark: Flask behind gunicorn
with python-xgboost, answering MLflow's scoring protocol as MLflow's pyfunc
server does for the xgboost flavor (dataframe_split → pandas DataFrame →
xgboost.DMatrix → Booster.predict → {"predictions": [...]}).

It does less than MLflow's server (no schema enforcement, no pyfunc
wrapper), so it is a generous stand-in for it.

    BENCH_MODEL=DIR/model/model.json gunicorn -w 2 -b 127.0.0.1:PORT flask_app:app
"""

import json
import os

import pandas as pd
import xgboost as xgb
from flask import Flask, Response, request

app = Flask(__name__)
booster = xgb.Booster()
booster.load_model(os.environ["BENCH_MODEL"])


@app.post("/invocations")
def invocations():
    body = request.get_json(force=True)
    split = body["dataframe_split"]
    df = pd.DataFrame(split["data"], columns=split["columns"])
    preds = booster.predict(xgb.DMatrix(df))
    return Response(json.dumps({"predictions": preds.tolist()}), mimetype="application/json")
