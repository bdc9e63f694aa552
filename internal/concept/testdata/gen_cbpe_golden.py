#!/usr/bin/python3
"""Golden values for internal/concept's isotonic regression and CBPE.

- isotonic: scikit-learn's IsotonicRegression(increasing=True,
  out_of_bounds="clip") -- the calibrator NannyML's IsotonicCalibrator wraps --
  fitted on seeded data (with ties and weights) and evaluated at query points.
- cbpe: numpy transcriptions of nannyml's estimate_f1 / accuracy / precision /
  recall / specificity formulas and of estimate_roc_auc (metrics.py), with
  sklearn.metrics.auc, and of _calculate_expected_calibration_error with
  _get_bin_index_edges (calibration.py). nannyml itself is not installed.

Run: /usr/bin/python3 gen_cbpe_golden.py  (from this directory)
"""
import json

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import auc


def iso_case(name, x, y, w, q):
    m = IsotonicRegression(increasing=True, out_of_bounds="clip")
    m.fit(x, y, sample_weight=w)
    return {"name": name, "x": list(map(float, x)), "y": list(map(float, y)),
            "w": None if w is None else list(map(float, w)),
            "query": list(map(float, q)), "pred": list(map(float, m.predict(q)))}


def estimate_roc_auc(true_y_pred_proba, model_y_pred_proba):
    true_y_pred_proba = np.asarray(true_y_pred_proba)
    model_y_pred_proba = np.asarray(model_y_pred_proba)
    sorted_index = np.argsort(model_y_pred_proba, kind="stable")[::-1]
    true_y_pred_proba = true_y_pred_proba[sorted_index]
    tps = np.cumsum(true_y_pred_proba)
    fps = 1 + np.arange(len(true_y_pred_proba)) - tps
    tps = np.r_[0, tps]
    fps = np.r_[0, fps]
    tps = np.round(tps, 5)
    fps = np.round(fps, 5)
    return float(auc(fps / fps[-1], tps / tps[-1]))


def cm(y_pred, p):
    tp = np.sum(np.where(y_pred == 1, p, 0))
    fp = np.sum(np.where(y_pred == 1, 1 - p, 0))
    fn = np.sum(np.where(y_pred == 0, p, 0))
    tn = np.sum(np.where(y_pred == 0, 1 - p, 0))
    return tp, fp, fn, tn


def bin_edges(n, bins):
    if n <= 2 * bins:
        bins = n // 2
    width = n // bins
    e = np.asarray(range(0, n + 1, width))
    e[-1] = n
    return list(zip(e[:-1], e[1:]))


def ece(y, p, bins=10):
    y, p = np.asarray(y), np.asarray(p)
    o = p.argsort(kind="stable")
    p, y = p[o], y[o]
    terms = []
    for lo, hi in bin_edges(len(p), bins):
        terms.append((hi - lo) / len(p) * abs(np.mean(p[lo:hi]) - np.mean(y[lo:hi])))
    return float(np.sum(terms))


def main():
    rng = np.random.default_rng(20261204)
    iso = []
    x = np.round(rng.uniform(0, 1, 200), 2)  # rounding creates ties
    y = (rng.uniform(0, 1, 200) < x).astype(float)
    iso.append(iso_case("bernoulli_ties", x, y, None, np.linspace(-0.1, 1.1, 25)))
    x = rng.normal(0, 1, 60)
    y = x + rng.normal(0, 1, 60)
    w = rng.uniform(0.5, 2, 60)
    iso.append(iso_case("weighted_regression", x, y, w, np.linspace(-3, 3, 31)))
    iso.append(iso_case("decreasing_all_pooled", [1, 2, 3, 4], [4, 3, 2, 1], None, [0, 1, 2.5, 5]))
    iso.append(iso_case("textbook", [1, 2, 3, 4, 5, 6], [1, 3, 2, 4, 3.5, 5], None, [1, 2, 2.5, 3, 4.5, 6]))

    cbpe = []
    for seed in (1, 2):
        r = np.random.default_rng(seed)
        s = r.beta(2, 3, 300)
        p = np.clip(s + r.normal(0, 0.05, 300), 0, 1)
        y_pred = (s >= 0.5).astype(int)
        tp, fp, fn, tn = cm(y_pred, p)
        n = len(p)
        labels = r.uniform(0, 1, n) < p
        cbpe.append({
            "name": f"seed{seed}", "p": p.tolist(), "scores": s.tolist(), "y_pred": y_pred.tolist(),
            "labels": labels.astype(int).tolist(),
            "accuracy": float((tp + tn) / n),
            "precision": float(tp / (tp + fp)),
            "recall": float(tp / (tp + fn)),
            "specificity": float(tn / (tn + fp)),
            "f1": float(tp / (tp + 0.5 * (fp + fn))),
            "roc_auc": estimate_roc_auc(p, s),
            "ece_scores": ece(labels, s),
            "ece_p": ece(labels, p),
        })
    json.dump({"generator": "gen_cbpe_golden.py", "isotonic": iso, "cbpe": cbpe},
              open("cbpe_golden.json", "w"), separators=(",", ":"))


if __name__ == "__main__":
    main()
