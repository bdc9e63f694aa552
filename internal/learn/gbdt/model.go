package gbdt

import (
	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Model is a trained ensemble. It is immutable and safe for concurrent
// use.
type Model struct {
	objective    Objective
	ngroup       int // output groups: classes of multi:softprob, else 1
	nfeat        int
	baseScore    float32 // base_score as written
	baseMargin   float32 // its margin: logit for binary:logistic
	trees        []tree
	featureNames []string
	categorical  []bool // nil, or per feature: split as categories
	best         int    // best iteration after early stopping; -1 without
}

// Objective is the model's objective.
func (m *Model) Objective() Objective { return m.objective }

// NumTrees is the number of trees: rounds × NumGroups.
func (m *Model) NumTrees() int { return len(m.trees) }

// NumGroups is the number of margins per row: the classes of
// multi:softprob, else 1.
func (m *Model) NumGroups() int { return m.ngroup }

// NumFeatures is the number of input features.
func (m *Model) NumFeatures() int { return m.nfeat }

// BestIteration is the 0-based round with the best validation metric
// when training stopped early (the model keeps the rounds up to it), or
// -1.
func (m *Model) BestIteration() int { return m.best }

// Outputs is the number of predictions per row: NumGroups for
// multi:softprob (class probabilities), else 1.
func (m *Model) Outputs() int { return m.ngroup }

// PredictMargins returns NumGroups untransformed scores per row of x
// (rows × NumFeatures values, NaN for missing), computed in float32 as
// XGBoost does.
func (m *Model) PredictMargins(x []float64, rows int) ([]float64, error) {
	if rows < 0 || m.nfeat == 0 || rows > len(x)/m.nfeat || len(x) != rows*m.nfeat {
		return nil, errdefs.InvalidArgument("gbdt: %d values for %d rows of %d features", len(x), rows, m.nfeat)
	}
	ng, nf := m.ngroup, m.nfeat
	acc := make([]float32, ng)
	out := make([]float64, rows*ng)
	for r := range rows {
		row := x[r*nf : (r+1)*nf]
		for k := range acc {
			acc[k] = m.baseMargin
		}
		for i := range m.trees {
			t := &m.trees[i]
			acc[t.group] += t.predict(row)
		}
		for k, v := range acc {
			out[r*ng+k] = float64(v)
		}
	}
	return out, nil
}

// Predict returns Outputs predictions per row of x: P(y=1) for
// binary:logistic, the class probabilities for multi:softprob, the value
// for regression.
func (m *Model) Predict(x []float64, rows int) ([]float64, error) {
	out, err := m.PredictMargins(x, rows)
	if err != nil {
		return nil, err
	}
	switch m.objective {
	case BinaryLogistic:
		for i, v := range out {
			out[i] = float64(sigmoid(float32(v)))
		}
	case MultiSoftprob:
		buf := make([]float32, m.ngroup)
		for r := range rows {
			o := out[r*m.ngroup : (r+1)*m.ngroup]
			for k, v := range o {
				buf[k] = float32(v)
			}
			softmax(buf)
			for k, v := range buf {
				o[k] = float64(v)
			}
		}
	}
	return out, nil
}
