// Package learn holds what Ferry's built-in learners share: the Dataset
// they train on, the Task they solve, deterministic train/test splits and
// k-folds, and evaluation metrics that match scikit-learn 1.2 on the same
// inputs. The learners live in subpackages (linear, gbdt) and import this
// one; it imports only errdefs and modelrt.
package learn

import (
	"fmt"
	"math"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/modelrt"
)

// Task is what a learner predicts; it is modelrt's Task so that a trained
// model describes itself the way served models do.
type Task = modelrt.Task

// Tasks the learners solve.
const (
	Regression = modelrt.Regression
	Binary     = modelrt.Binary
	Multiclass = modelrt.Multiclass
)

// Dataset is a dense, row-major table of features with one label per row.
type Dataset struct {
	// X holds Rows×Cols values, row after row; NaN marks a missing value.
	X    []float64
	Rows int
	Cols int
	// Y holds one label per row: the class index 0..k-1 for
	// classification, the target value for regression. It is nil for an
	// unlabelled dataset.
	Y []float64
	// FeatureNames has Cols names, or is nil (then f0, f1, ... by position).
	FeatureNames []string
	// Categorical, when not nil, has Cols flags marking category-index
	// columns. Learners that cannot use categories treat them as numbers.
	Categorical []bool
}

// NewDataset checks the shapes and returns the dataset. y may be nil;
// names and categorical may be nil. The slices are kept, not copied.
func NewDataset(x []float64, rows, cols int, y []float64, names []string, categorical []bool) (Dataset, error) {
	d := Dataset{X: x, Rows: rows, Cols: cols, Y: y, FeatureNames: names, Categorical: categorical}
	if err := d.Validate(); err != nil {
		return Dataset{}, err
	}
	return d, nil
}

// Validate reports a dataset whose slices disagree with Rows and Cols, or
// whose labels are not finite.
func (d Dataset) Validate() error {
	switch {
	case d.Rows < 0 || d.Cols < 0:
		return errdefs.InvalidArgument("dataset: negative shape %d×%d", d.Rows, d.Cols)
	case d.Cols > 0 && d.Rows > math.MaxInt/d.Cols:
		return errdefs.InvalidArgument("dataset: shape %d×%d is too large", d.Rows, d.Cols)
	case len(d.X) != d.Rows*d.Cols:
		return errdefs.InvalidArgument("dataset: X has %d values, want rows×cols = %d×%d = %d", len(d.X), d.Rows, d.Cols, d.Rows*d.Cols)
	case d.Y != nil && len(d.Y) != d.Rows:
		return errdefs.InvalidArgument("dataset: Y has %d labels, want one per row (%d)", len(d.Y), d.Rows)
	case d.FeatureNames != nil && len(d.FeatureNames) != d.Cols:
		return errdefs.InvalidArgument("dataset: %d feature names for %d columns", len(d.FeatureNames), d.Cols)
	case d.Categorical != nil && len(d.Categorical) != d.Cols:
		return errdefs.InvalidArgument("dataset: %d categorical flags for %d columns", len(d.Categorical), d.Cols)
	}
	for i, v := range d.Y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return errdefs.InvalidArgument("dataset: label of row %d is %v", i, v)
		}
	}
	return nil
}

// Row returns row i of X (a sub-slice, not a copy).
func (d Dataset) Row(i int) []float64 { return d.X[i*d.Cols : (i+1)*d.Cols] }

// FeatureName returns the name of column j: FeatureNames[j], or "f<j>".
func (d Dataset) FeatureName(j int) string {
	if j < len(d.FeatureNames) && d.FeatureNames[j] != "" {
		return d.FeatureNames[j]
	}
	return fmt.Sprintf("f%d", j)
}

// Subset returns a new dataset of the given rows, in that order (copied).
// Indices must be in [0, Rows).
func (d Dataset) Subset(idx []int) Dataset {
	s := Dataset{Rows: len(idx), Cols: d.Cols, FeatureNames: d.FeatureNames, Categorical: d.Categorical}
	s.X = make([]float64, 0, len(idx)*d.Cols)
	if d.Y != nil {
		s.Y = make([]float64, 0, len(idx))
	}
	for _, i := range idx {
		s.X = append(s.X, d.Row(i)...)
		if d.Y != nil {
			s.Y = append(s.Y, d.Y[i])
		}
	}
	return s
}

// NumClasses checks that every label is a class index (an integer ≥ 0)
// and returns the number of classes, max(Y)+1.
func (d Dataset) NumClasses() (int, error) {
	if d.Y == nil {
		return 0, errdefs.InvalidArgument("dataset: no labels")
	}
	return NumClasses(d.Y)
}

// NumClasses checks that every label is a class index (an integer in
// [0, 1<<20)) and returns max(labels)+1.
func NumClasses(y []float64) (int, error) {
	k := 0
	for i, v := range y {
		if v < 0 || v != math.Trunc(v) || v >= 1<<20 {
			return 0, errdefs.InvalidArgument("label of row %d is %v, want a class index 0, 1, 2, ...", i, v)
		}
		k = max(k, int(v)+1)
	}
	return k, nil
}
