package gbdt

import (
	"math"
	"strings"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/learn"
)

// Dataset is the learners' shared table (row-major float64 values, NaN
// for missing; Y: 0/1 for binary:logistic, the class index for
// multi:softprob, any finite value for regression).
type Dataset = learn.Dataset

// check validates the shape and values of d (named what in errors).
func check(d *Dataset, what string, cols int) error {
	if d.Rows <= 0 || d.Cols <= 0 {
		return errdefs.InvalidArgument("gbdt: %s set has %d rows and %d columns; need at least 1 of each", what, d.Rows, d.Cols)
	}
	if cols > 0 && d.Cols != cols {
		return errdefs.InvalidArgument("gbdt: %s set has %d columns, the training set %d", what, d.Cols, cols)
	}
	if d.Rows > math.MaxInt32 || d.Rows > len(d.X)/d.Cols || len(d.X) != d.Rows*d.Cols {
		return errdefs.InvalidArgument("gbdt: %s set has %d values for %d rows × %d columns", what, len(d.X), d.Rows, d.Cols)
	}
	if len(d.Y) != d.Rows {
		return errdefs.InvalidArgument("gbdt: %s set has %d labels for %d rows", what, len(d.Y), d.Rows)
	}
	for i, v := range d.X {
		if math.IsInf(float64(float32(v)), 0) {
			return errdefs.InvalidArgument("gbdt: %s set row %d column %d: %v is out of float32 range (use NaN for missing)", what, i/d.Cols, i%d.Cols, v)
		}
	}
	for i, y := range d.Y {
		if math.IsNaN(y) || math.IsInf(y, 0) {
			return errdefs.InvalidArgument("gbdt: %s set row %d: label %v is not finite", what, i, y)
		}
	}
	if len(d.FeatureNames) != 0 {
		if len(d.FeatureNames) != d.Cols {
			return errdefs.InvalidArgument("gbdt: %s set has %d feature names for %d columns", what, len(d.FeatureNames), d.Cols)
		}
		seen := make(map[string]bool, len(d.FeatureNames))
		for _, n := range d.FeatureNames {
			if n == "" || strings.ContainsAny(n, "[]<\"\\") || seen[n] {
				return errdefs.InvalidArgument("gbdt: feature name %q is empty, repeated or has one of [ ] < \" \\", n)
			}
			seen[n] = true
		}
	}
	return nil
}
