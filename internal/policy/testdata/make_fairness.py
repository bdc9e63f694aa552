#!/usr/bin/env python3
"""Builds the fairness oracle for internal/policy's tests.

Input:  penguins.csv, the Palmer penguins data (CC0; see PENGUINS-LICENSE.md),
        copied from Debian's r-cran-palmerpenguins 0.1.1
        (/usr/lib/R/site-library/palmerpenguins/extdata/penguins.csv).
Output: penguins_eval.csv      a real evaluation set: one row per held-out
                               penguin with its groups, true label, the
                               model's predicted label and score.
        fairness_expected.json per-group counts and rates and the disparity
                               metrics for several configurations, computed
                               with scikit-learn's confusion_matrix per group.

The task: predict whether a penguin is heavier than the median body mass from
its bill length, bill depth and flipper length (body mass and sex are not
features) with a scikit-learn LogisticRegression. Sex is the protected
attribute: males are heavier, so the model selects them far more often and
the four-fifths rule fails, as it should. Rows with a missing measurement or
a missing sex are dropped (11 of 344), so every group is a real value.

Run from this directory with Debian's python3-sklearn and python3-pandas
(Fairlearn is not packaged by Debian; the definitions below are Fairlearn's:
fairlearn.metrics demographic_parity_ratio / _difference and
equalized_odds_difference with method="between_groups", agg="worst_case"):

    python3 make_fairness.py

The outputs are committed; the Go tests need only them.
"""

import csv
import json
import math

import numpy as np
import pandas as pd
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

FEATURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm"]

df = pd.read_csv("penguins.csv")  # "NA" cells read as missing
df["row"] = np.arange(2, len(df) + 2)  # line of the row in penguins.csv
df = df.dropna(subset=FEATURES + ["body_mass_g", "sex"]).reset_index(drop=True)
median = df["body_mass_g"].median()
df["label"] = (df["body_mass_g"] > median).astype(int)

train, test = train_test_split(df, test_size=0.5, random_state=7, stratify=df["label"])
model = make_pipeline(StandardScaler(), LogisticRegression())
model.fit(train[FEATURES], train["label"])

test = test.sort_values("row").reset_index(drop=True)
test["prediction"] = model.predict(test[FEATURES]).astype(int)
test["score"] = model.predict_proba(test[FEATURES])[:, 1]
test["mass_class"] = np.where(test["label"] == 1, "heavy", "light")
test["predicted_class"] = np.where(test["prediction"] == 1, "heavy", "light")

with open("penguins_eval.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    cols = ["row", "species", "island", "sex", "label", "prediction", "score", "mass_class", "predicted_class"]
    w.writerow(cols)
    for r in test.itertuples(index=False):
        # repr() is the shortest text that reads back as the same float64.
        w.writerow([r.row, r.species, r.island, r.sex, r.label, r.prediction, repr(float(r.score)),
                    r.mass_class, r.predicted_class])


def rate(num, den):
    return None if den == 0 else num / den  # int / int: float64, correctly rounded


def measure(attribute, y_true, y_pred):
    groups = []
    for value in sorted(test[attribute].unique()):
        mask = (test[attribute] == value).to_numpy()
        tn, fp, fn, tp = (int(x) for x in confusion_matrix(y_true[mask], y_pred[mask], labels=[0, 1]).ravel())
        n = tn + fp + fn + tp
        groups.append({
            "value": value, "n": n, "selected": tp + fp, "positives": tp + fn, "negatives": tn + fp,
            "true_positives": tp, "false_positives": fp,
            "selection_rate": rate(tp + fp, n), "tpr": rate(tp, tp + fn), "fpr": rate(fp, fp + tn),
        })
    sel = [g["selection_rate"] for g in groups]
    tpr = [g["tpr"] for g in groups]
    fpr = [g["fpr"] for g in groups]
    spread = lambda v: None if None in v else max(v) - min(v)
    tpr_d, fpr_d = spread(tpr), spread(fpr)
    return {
        "rows": len(test),
        "groups": groups,
        "demographic_parity_ratio": None if max(sel) == 0 else min(sel) / max(sel),
        "demographic_parity_difference": max(sel) - min(sel),
        "tpr_difference": tpr_d,
        "fpr_difference": fpr_d,
        "equalized_odds_difference": None if tpr_d is None or fpr_d is None else max(tpr_d, fpr_d),
    }


y = test["label"].to_numpy()
pred = test["prediction"].to_numpy()
cases = [
    {"name": "sex/prediction", "protected_attribute": "sex", "label_column": "label",
     "prediction_column": "prediction", "oracle": measure("sex", y, pred)},
    {"name": "island/prediction", "protected_attribute": "island", "label_column": "label",
     "prediction_column": "prediction", "oracle": measure("island", y, pred)},
    {"name": "species/prediction", "protected_attribute": "species", "label_column": "label",
     "prediction_column": "prediction", "oracle": measure("species", y, pred)},
    {"name": "sex/score>=0.7", "protected_attribute": "sex", "label_column": "label",
     "score_column": "score", "threshold": 0.7,
     "oracle": measure("sex", y, (test["score"].to_numpy() >= 0.7).astype(int))},
    {"name": "sex/positive_label=heavy", "protected_attribute": "sex", "label_column": "mass_class",
     "prediction_column": "predicted_class", "positive_label": "heavy",
     "oracle": measure("sex", (test["mass_class"] == "heavy").to_numpy().astype(int),
                       (test["predicted_class"] == "heavy").to_numpy().astype(int))},
]

with open("fairness_expected.json", "w") as f:
    json.dump({
        "generated_by": "make_fairness.py",
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "median_body_mass_g": float(median),
        "accuracy": float((pred == y).mean()),
        "cases": cases,
    }, f, indent=1, allow_nan=False)
    f.write("\n")

for c in cases:
    o = c["oracle"]
    print(f'{c["name"]:26} DP ratio {o["demographic_parity_ratio"]!r:22} EO difference {o["equalized_odds_difference"]!r}')
