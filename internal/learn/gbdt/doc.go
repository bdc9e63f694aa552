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
// Columns marked in Dataset.Categorical hold category codes 0..63 (NaN
// missing) and get categorical splits: each code is a bin of its own;
// a feature with at most MaxCatToOnehot codes is split one category
// against the rest, a larger one at the best prefix of its categories
// sorted by G/(H+λ), with missing values tried on both sides. The model
// file marks the feature "c" in feature_types and writes the split as
// XGBoost 1.7 does (split_type 1 and the set in categories,
// categories_nodes/_segments/_sizes): a category in the set goes right,
// every other one — unseen, negative, too large — goes left, missing
// takes the default direction.
//
// The result is deterministic: the same data and Params give the same
// model bytes whatever GOMAXPROCS is.
package gbdt
