// Package linear trains Ferry's built-in linear models on a learn.Dataset:
// L2-regularised logistic regression (binary and multinomial, fitted by
// L-BFGS on internally standardised features), ordinary least squares and
// ridge regression (exact, by Cholesky on the normal equations). Their
// parameters follow scikit-learn's LogisticRegression (C), Ridge (alpha)
// and LinearRegression, and a Model stores itself as a small JSON document
// (see json.go) so that it can be kept as a run artifact.
//
// Missing values are refused: a NaN (or ±Inf) feature at fit or predict
// time is an InvalidArgument error naming the row and column; impute in a
// pipeline step before.
package linear

import (
	"context"
	"math"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/learn"
)

// Kind names a linear model.
type Kind string

// Kinds.
const (
	Logistic Kind = "logistic_regression" // scikit-learn's LogisticRegression (lbfgs, l2)
	OLS      Kind = "linear_regression"   // scikit-learn's LinearRegression
	Ridge    Kind = "ridge"               // scikit-learn's Ridge
)

// Defaults of Params' zero fields.
const (
	DefaultC       = 1.0
	DefaultAlpha   = 1.0
	DefaultMaxIter = 1000
	DefaultTol     = 1e-6
)

// Params are a linear model's hyperparameters; zero fields take defaults.
type Params struct {
	Kind Kind `json:"kind"`
	// C is the inverse L2 strength of logistic regression: the loss is
	// C·Σ log-loss + ½‖w‖² on standardised features, intercepts not
	// penalised (scikit-learn's make_pipeline(StandardScaler(),
	// LogisticRegression(C=C))). Default 1.
	C float64 `json:"C,omitempty"`
	// Alpha is ridge's L2 strength on the raw features: ‖y − Xw − b‖² +
	// alpha·‖w‖², the intercept not penalised (scikit-learn's Ridge).
	// Default 1; use OLS for none.
	Alpha float64 `json:"alpha,omitempty"`
	// MaxIter bounds logistic regression's L-BFGS iterations. Default 1000.
	MaxIter int `json:"max_iter,omitempty"`
	// Tol stops L-BFGS when every component of the gradient of the mean
	// loss (log-loss/n + ‖w‖²/(2Cn)) is at most Tol. Default 1e-6.
	Tol float64 `json:"tol,omitempty"`
}

// withDefaults fills zero fields and checks the rest.
func (p Params) withDefaults() (Params, error) {
	switch p.Kind {
	case Logistic:
		if p.C == 0 {
			p.C = DefaultC
		}
		if p.MaxIter == 0 {
			p.MaxIter = DefaultMaxIter
		}
		if p.Tol == 0 {
			p.Tol = DefaultTol
		}
		if !(p.C > 0) || math.IsInf(p.C, 0) || p.MaxIter < 1 || !(p.Tol > 0) || math.IsInf(p.Tol, 0) || p.Alpha != 0 {
			return p, errdefs.InvalidArgument("logistic regression needs C > 0, max_iter ≥ 1, tol > 0 and no alpha (got C=%v max_iter=%d tol=%v alpha=%v)", p.C, p.MaxIter, p.Tol, p.Alpha)
		}
	case Ridge:
		if p.Alpha == 0 {
			p.Alpha = DefaultAlpha
		}
		if !(p.Alpha > 0) || math.IsInf(p.Alpha, 0) || p.C != 0 || p.MaxIter != 0 || p.Tol != 0 {
			return p, errdefs.InvalidArgument("ridge needs alpha > 0 and no C, max_iter or tol (got alpha=%v)", p.Alpha)
		}
	case OLS:
		if p.Alpha != 0 || p.C != 0 || p.MaxIter != 0 || p.Tol != 0 {
			return p, errdefs.InvalidArgument("linear regression takes no parameters")
		}
	default:
		return p, errdefs.InvalidArgument("unknown linear model kind %q (want %s, %s or %s)", p.Kind, Logistic, OLS, Ridge)
	}
	return p, nil
}

// Model is a fitted linear model. It is immutable and safe for concurrent use.
type Model struct {
	params    Params
	task      learn.Task
	classes   int      // 2 or more for classifiers, 0 for regression
	features  []string // one name per input column
	coef      []float64
	intercept []float64
	// mean and scale are the standardisation logistic regression was
	// fitted under; coef and intercept already include it.
	mean, scale []float64
	iterations  int
	converged   bool
}

// Fit trains the model p.Kind on d, whose Y holds class indices 0..k-1
// for Logistic (k ≥ 2; binary when k == 2) and target values otherwise.
// It is deterministic: the same data and params give the same model.
func Fit(ctx context.Context, d learn.Dataset, p Params) (*Model, error) {
	p, err := p.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if d.Y == nil {
		return nil, errdefs.InvalidArgument("fit %s: the dataset has no labels", p.Kind)
	}
	if d.Rows < 1 || d.Cols < 1 {
		return nil, errdefs.InvalidArgument("fit %s: need at least one row and one column, got %d×%d", p.Kind, d.Rows, d.Cols)
	}
	for i, v := range d.X {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, errdefs.InvalidArgument("fit %s: row %d column %q is %v; linear models take no missing or infinite values (impute them first)", p.Kind, i/d.Cols, d.FeatureName(i%d.Cols), v)
		}
	}
	names := make([]string, d.Cols)
	for j := range names {
		names[j] = d.FeatureName(j)
	}
	m := &Model{params: p, features: names}
	switch p.Kind {
	case Logistic:
		err = m.fitLogistic(ctx, d)
	default:
		m.task = learn.Regression
		err = m.fitLeastSquares(d)
	}
	if err != nil {
		return nil, err
	}
	for _, v := range append(append([]float64(nil), m.coef...), m.intercept...) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, errdefs.InvalidArgument("fit %s: the fit diverged (a coefficient is %v); scale or regularise the data", p.Kind, v)
		}
	}
	return m, nil
}

// Params returns the hyperparameters, defaults filled in.
func (m *Model) Params() Params { return m.params }

// Task is Binary or Multiclass for logistic regression, else Regression.
func (m *Model) Task() learn.Task { return m.task }

// Classes is the number of classes (0 for regression).
func (m *Model) Classes() int { return m.classes }

// FeatureNames names the input columns.
func (m *Model) FeatureNames() []string { return append([]string(nil), m.features...) }

// Outputs is the number of values Predict writes per row: k for
// multiclass, else 1.
func (m *Model) Outputs() int { return len(m.intercept) }

// Coef returns the coefficients on the raw inputs, one row per output.
func (m *Model) Coef() [][]float64 {
	d := len(m.features)
	rows := make([][]float64, m.Outputs())
	for o := range rows {
		rows[o] = append([]float64(nil), m.coef[o*d:(o+1)*d]...)
	}
	return rows
}

// Intercept returns one intercept per output.
func (m *Model) Intercept() []float64 { return append([]float64(nil), m.intercept...) }

// Standardization returns the training means and scales that logistic
// regression was fitted on (nil for least squares). Coef × scale gives
// the coefficients on standardised features.
func (m *Model) Standardization() (mean, scale []float64) {
	return append([]float64(nil), m.mean...), append([]float64(nil), m.scale...)
}

// Iterations and Converged report how L-BFGS ended (0 and true for least
// squares, which is exact).
func (m *Model) Iterations() int { return m.iterations }

// Converged reports whether L-BFGS reached the tolerance before MaxIter.
func (m *Model) Converged() bool { return m.converged }

// Predict reads rows of len(FeatureNames()) values from x (row-major) and
// writes Outputs() values per row into out: P(class 1) for binary, the k
// class probabilities for multiclass, the prediction for regression. A
// wrong length or a non-finite input is an InvalidArgument error.
func (m *Model) Predict(x []float64, rows int, out []float64) error {
	d, k := len(m.features), m.Outputs()
	if rows < 0 || len(x) != rows*d || len(out) != rows*k {
		return errdefs.InvalidArgument("predict: want %d rows × %d features in and × %d outputs out, got %d and %d values", rows, d, k, len(x), len(out))
	}
	for i := range rows {
		row := x[i*d : (i+1)*d]
		for j, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return errdefs.InvalidArgument("predict: row %d column %q is %v; linear models take no missing or infinite values", i, m.features[j], v)
			}
		}
		o := out[i*k : (i+1)*k]
		for c := range k {
			z := m.intercept[c]
			for j, v := range row {
				z += m.coef[c*d+j] * v
			}
			o[c] = z
		}
		switch m.task {
		case learn.Binary:
			o[0] = sigmoid(o[0])
		case learn.Multiclass:
			softmax(o)
		}
	}
	return nil
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// softmax turns margins into probabilities in place and returns their
// log-sum-exp.
func softmax(z []float64) float64 {
	mx := z[0]
	for _, v := range z[1:] {
		mx = max(mx, v)
	}
	var s float64
	for i, v := range z {
		z[i] = math.Exp(v - mx)
		s += z[i]
	}
	for i := range z {
		z[i] /= s
	}
	return mx + math.Log(s)
}
