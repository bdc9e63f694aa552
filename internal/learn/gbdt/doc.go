// Package gbdt trains gradient-boosted decision trees in pure Go, the way
// XGBoost's "hist" tree method does, and writes the result as an XGBoost
// JSON model that Ferry's native runtime (internal/modelrt/xgboost) and
// XGBoost itself (1.7 and later) load and predict with identically.
//
// Training is second-order boosting with histogram split finding:
// features are cut once into at most MaxBin quantile bins; per node the
// gradient/hessian histograms of the smaller child are built (over
// features in parallel) and the larger child's are the parent's minus
// the smaller's. Splits maximise XGBoost's gain with L2 regularisation
// (Lambda), minimum split loss (Gamma) and MinChildWeight, and learn the
// direction of missing values (NaN) per split. Leaf weights are
// −G/(H+λ)·LearningRate.
//
// Thresholds are float32 values placed strictly between two training
// values, and rows are binned by comparing float32(x) with them, so a row
// takes the same path in training as in XGBoost's predictor, which tests
// float32(x) < split_condition.
//
// The result is deterministic: the same data and Params give the same
// model bytes whatever GOMAXPROCS is.
package gbdt
