package linear

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/ferry-ml/ferry/internal/learn"
)

func predict(t testing.TB, m *Model, d learn.Dataset) []float64 {
	t.Helper()
	out := make([]float64, d.Rows*m.Outputs())
	if err := m.Predict(d.X, d.Rows, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func relErr(got, want float64) float64 {
	return math.Abs(got-want) / max(math.Abs(want), 1e-300)
}

// within2pct checks Go's metric against sklearn's: within 2% relative (or
// 0.02 absolute for values near 0, such as a log loss of 0.03).
func within2pct(got, want float64) bool {
	return math.Abs(got-want) <= 0.02*max(math.Abs(want), 1)
}

// TestLogisticMatchesSklearn fits on the same training rows as
// testdata/make_golden.py and compares with sklearn's
// make_pipeline(StandardScaler(), LogisticRegression()).
func TestLogisticMatchesSklearn(t *testing.T) {
	for _, name := range []string{"breast_cancer", "wine"} {
		t.Run(name, func(t *testing.T) {
			g, train, test := loadGolden(t, name)
			ctx := context.Background()
			// Default parameters: test metrics within 2% of sklearn's defaults.
			m, err := Fit(ctx, train, Params{Kind: Logistic})
			if err != nil {
				t.Fatal(err)
			}
			if !m.Converged() || m.Classes() != g.Classes {
				t.Fatalf("converged %v after %d iterations, %d classes (want %d)", m.Converged(), m.Iterations(), m.Classes(), g.Classes)
			}
			got, err := learn.Evaluate(m.Task(), test.Y, predict(t, m, test))
			if err != nil {
				t.Fatal(err)
			}
			for _, metric := range []string{"accuracy", "f1", "log_loss", "roc_auc", "pr_auc"} {
				want := g.DefaultMetrics[metric]
				t.Logf("%-8s go %.6f sklearn %.6f (go %d iterations, sklearn %d)", metric, got[metric], want, m.Iterations(), g.DefaultNIter)
				if !within2pct(got[metric], want) {
					t.Errorf("%s = %v, sklearn %v", metric, got[metric], want)
				}
			}

			// Tight tolerance on both sides: the same optimum.
			m, err = Fit(ctx, train, Params{Kind: Logistic, Tol: 1e-10})
			if err != nil {
				t.Fatal(err)
			}
			mean, scale := m.Standardization()
			for j := range scale {
				if relErr(mean[j], g.Tight.Mean[j]) > 1e-12 || relErr(scale[j], g.Tight.Scale[j]) > 1e-12 {
					t.Fatalf("standardization of column %d: %v/%v, sklearn %v/%v", j, mean[j], scale[j], g.Tight.Mean[j], g.Tight.Scale[j])
				}
			}
			t.Logf("tight fit: converged %v after %d iterations", m.Converged(), m.Iterations())
			coef := m.Coef()
			var worst float64
			for c, row := range g.Tight.CoefStd {
				// On standardised features: w·scale, and b + Σ w·mean.
				b := m.Intercept()[c]
				for j, want := range row {
					worst = max(worst, math.Abs(coef[c][j]*scale[j]-want)/maxAbsRow(row))
					b += coef[c][j] * mean[j]
				}
				worst = max(worst, math.Abs(b-g.Tight.Intercept[c])/max(1, math.Abs(g.Tight.Intercept[c])))
			}
			t.Logf("standardised coefficients: worst relative error %.2g", worst)
			if worst > 1e-6 {
				t.Errorf("standardised coefficients differ from sklearn by %g (relative to the largest)", worst)
			}
			var worstP float64
			for i, p := range predict(t, m, test) {
				worstP = max(worstP, math.Abs(p-g.Tight.TestProba[i]))
			}
			if worstP > 1e-7 {
				t.Errorf("test probabilities differ from sklearn by up to %g", worstP)
			}
		})
	}
}

func maxAbsRow(r []float64) float64 {
	var m float64
	for _, v := range r {
		m = max(m, math.Abs(v))
	}
	return m
}

// TestLeastSquaresMatchesSklearn compares OLS and ridge on the raw
// (unscaled) diabetes features with LinearRegression and Ridge(alpha=1).
func TestLeastSquaresMatchesSklearn(t *testing.T) {
	g, train, test := loadGolden(t, "diabetes")
	for _, kind := range []Kind{OLS, Ridge} {
		t.Run(string(kind), func(t *testing.T) {
			want := g.Models[string(kind)]
			m, err := Fit(context.Background(), train, Params{Kind: kind})
			if err != nil {
				t.Fatal(err)
			}
			coef := m.Coef()[0]
			for j, w := range want.Coef {
				if relErr(coef[j], w) > 1e-6 {
					t.Errorf("coef[%d] = %.12g, sklearn %.12g", j, coef[j], w)
				}
			}
			if relErr(m.Intercept()[0], want.Intercept) > 1e-6 {
				t.Errorf("intercept = %.12g, sklearn %.12g", m.Intercept()[0], want.Intercept)
			}
			pred := predict(t, m, test)
			for i, p := range pred {
				if relErr(p, want.TestPred[i]) > 1e-6 {
					t.Fatalf("prediction %d = %v, sklearn %v", i, p, want.TestPred[i])
				}
			}
			got, err := learn.Evaluate(learn.Regression, test.Y, pred)
			if err != nil {
				t.Fatal(err)
			}
			for _, metric := range []string{"r2", "rmse", "mae"} {
				t.Logf("%-5s go %.6f sklearn %.6f", metric, got[metric], want.Metrics[metric])
				if !within2pct(got[metric], want.Metrics[metric]) {
					t.Errorf("%s = %v, sklearn %v", metric, got[metric], want.Metrics[metric])
				}
			}
		})
	}
}

// TestRidgeShrinks checks what separates ridge from OLS: a larger alpha
// gives a smaller coefficient norm, and the intercept stays unpenalised
// (with a huge alpha the prediction tends to the mean of y).
func TestRidgeShrinks(t *testing.T) {
	d := loadDataset(t, "diabetes")
	prev := math.Inf(1)
	for _, alpha := range []float64{1e-3, 1, 1e3, 1e6, 1e12} {
		m, err := Fit(context.Background(), d, Params{Kind: Ridge, Alpha: alpha})
		if err != nil {
			t.Fatal(err)
		}
		var norm float64
		for _, w := range m.Coef()[0] {
			norm += w * w
		}
		if norm >= prev {
			t.Fatalf("alpha %g: ‖w‖² %g did not shrink from %g", alpha, norm, prev)
		}
		prev = norm
		if alpha == 1e12 {
			var mean float64
			for _, y := range d.Y {
				mean += y
			}
			mean /= float64(d.Rows)
			out := predict(t, m, d)
			if math.Abs(out[0]-mean) > 1e-3 {
				t.Fatalf("alpha 1e12 predicts %v, want about mean(y) = %v", out[0], mean)
			}
		}
	}
}

// TestLogisticLearnsSeparableClasses covers the softmax path on data of
// known shape and a constant column (scale 1, weight 0).
func TestLogisticLearnsSeparableClasses(t *testing.T) {
	const n = 90
	d := learn.Dataset{Rows: n, Cols: 3, FeatureNames: []string{"a", "const", "b"}}
	for i := range n {
		c := i % 3
		d.X = append(d.X, float64(c)*10+float64(i%7), 5, float64(i%5))
		d.Y = append(d.Y, float64(c))
	}
	m, err := Fit(context.Background(), d, Params{Kind: Logistic, C: 100})
	if err != nil {
		t.Fatal(err)
	}
	if m.Task() != learn.Multiclass || m.Outputs() != 3 {
		t.Fatalf("task %s with %d outputs", m.Task(), m.Outputs())
	}
	out := predict(t, m, d)
	for i := range n {
		var sum float64
		best := 0
		for c := range 3 {
			sum += out[i*3+c]
			if out[i*3+c] > out[i*3+best] {
				best = c
			}
		}
		if math.Abs(sum-1) > 1e-12 || float64(best) != d.Y[i] {
			t.Fatalf("row %d: probabilities %v (sum %v), label %v", i, out[i*3:i*3+3], sum, d.Y[i])
		}
	}
	for c, row := range m.Coef() {
		if row[1] != 0 {
			t.Errorf("class %d: weight of the constant column is %v", c, row[1])
		}
	}
}

func ExampleFit() {
	// y = 1 + 2·x exactly.
	d, _ := learn.NewDataset([]float64{0, 1, 2, 3}, 4, 1, []float64{1, 3, 5, 7}, []string{"x"}, nil)
	m, _ := Fit(context.Background(), d, Params{Kind: OLS})
	out := make([]float64, 1)
	_ = m.Predict([]float64{10}, 1, out)
	fmt.Printf("%.6f %.6f %.6f\n", m.Coef()[0][0], m.Intercept()[0], out[0])
	// Output: 2.000000 1.000000 21.000000
}
