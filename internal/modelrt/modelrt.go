// Package modelrt declares what a native model runtime is — a loaded model
// that turns rows of features into predictions — so that the serving
// layer treats XGBoost, LightGBM and later runtimes alike. Runtimes live
// in subpackages (xgboost, lightgbm); modelrttest is the conformance suite
// every runtime passes.
package modelrt

import "errors"

// ErrBadModel is matched (errors.Is) by every error of a model file that
// cannot be loaded: truncated, corrupt, or using a feature the runtime
// does not support. The message says which and where.
var ErrBadModel = errors.New("bad model file")

// FeatureType is the type of one input feature.
type FeatureType string

// Feature types.
const (
	Float       FeatureType = "float"       // any real number; NaN is missing
	Integer     FeatureType = "int"         // an integer-valued number
	Categorical FeatureType = "categorical" // a category index (a non-negative integer)
)

// Feature is one input column.
type Feature struct {
	Name string      // "" when the model file names none (then f0, f1, ... by position)
	Type FeatureType // Float when the file says nothing
}

// Task is what a model predicts.
type Task string

// Tasks.
const (
	Regression Task = "regression" // one real output per row
	Binary     Task = "binary"     // one output per row: the positive class's probability (or margin when raw)
	Multiclass Task = "multiclass" // one output per class per row: probabilities (or margins when raw)
	Ranking    Task = "ranking"    // one score per row
)

// Signature describes a model's inputs and outputs.
type Signature struct {
	Inputs  []Feature
	Task    Task
	Outputs int // values per row
	// Objective is the library's own name of the objective, for people
	// ("binary:logistic", "multiclass", "tweedie", ...).
	Objective string
}

// Model is a loaded model, safe for concurrent use.
type Model interface {
	// Signature describes the inputs and outputs.
	Signature() Signature
	// Predict reads rows of len(Signature().Inputs) features from x
	// (row-major; NaN marks a missing value) and writes
	// Signature().Outputs values per row into out, which must hold
	// rows × Outputs values. With raw, it writes the untransformed
	// margins (log-odds, raw scores) instead of probabilities or the
	// objective's transformed values. A wrong length of x or out is an
	// error; Predict never panics on the values of x.
	Predict(x []float64, rows int, out []float64, raw bool) error
}
