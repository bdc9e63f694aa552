#!/usr/bin/python3
"""Regenerate this fixture: an XGBClassifier trained with early stopping, as
mlflow.xgboost.log_model saves it (model.json plus MLmodel, written by
hand in MLflow 2.x's layout). Requires Debian's python3-xgboost (1.7.4)
and python3-sklearn:

    cd internal/modelrt/mlmodel/testdata/xgb_early_stopping && /usr/bin/python3 make_fixture.py

predict_proba.tsv and predict.tsv are what the scikit-learn wrapper
answers for rows.tsv: it uses the trees up to best_iteration only.
Data: scikit-learn's breast cancer set (BSD-3-Clause).
"""
import numpy as np
import xgboost as xgb
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=7)
X_fit, X_val, y_fit, y_val = train_test_split(X_train, y_train, test_size=0.3, random_state=7)
clf = xgb.XGBClassifier(n_estimators=200, max_depth=4, learning_rate=0.3,
                        early_stopping_rounds=5, random_state=7, n_jobs=1)
clf.fit(X_fit, y_fit, eval_set=[(X_val, y_val)], verbose=False)
assert clf.best_iteration + 1 < clf.get_booster().num_boosted_rounds(), "no early stop"
clf.save_model("model.json")
rows = X_test[:40]
np.savetxt("rows.tsv", rows, delimiter="\t", fmt="%.17g")
np.savetxt("predict_proba.tsv", clf.predict_proba(rows)[:, 1], fmt="%.17g")
np.savetxt("predict.tsv", clf.predict(rows), fmt="%d")
print("best_iteration", clf.best_iteration, "rounds", clf.get_booster().num_boosted_rounds())
